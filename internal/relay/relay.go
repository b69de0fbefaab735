// Package relay copies an upstream response back to the client: status,
// headers (minus hop-by-hop ones) and the body, streamed, with the X-Cache
// outcome added. It also turns upstream failures into S3-style errors.
package relay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/s3cache/s3cache/internal/observe"
	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/policy"
	"github.com/s3cache/s3cache/internal/s3err"
)

// Cache outcomes for the X-Cache header (a contract: operators grep for these).
const (
	Hit         = "HIT"
	Miss        = "MISS"
	Partial     = "PARTIAL"
	Revalidated = "REVALIDATED"
	Bypass      = "BYPASS"
)

// bufSize is the copy buffer: large enough to keep syscalls rare on
// multi-GiB objects, small enough that memory stays flat per request.
const bufSize = 256 << 10

var buffers = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// Buffer borrows a copy buffer; give it back with PutBuffer.
func Buffer() *[]byte { return buffers.Get().(*[]byte) }

// PutBuffer returns a buffer from Buffer.
func PutBuffer(b *[]byte) { buffers.Put(b) }

// WriteHead copies resp's status and headers to w with the given outcome.
func WriteHead(w http.ResponseWriter, resp *http.Response, outcome string) {
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	origin.RemoveHopHeaders(h)
	h.Set("X-Cache", outcome)
	if resp.ContentLength >= 0 && h.Get("Content-Length") == "" && !bodyless(resp) {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	w.WriteHeader(resp.StatusCode)
}

func bodyless(resp *http.Response) bool {
	return resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified ||
		(resp.Request != nil && resp.Request.Method == http.MethodHead)
}

// Stream relays resp in full and closes its body. A failure after the head
// was sent aborts the client connection, so a short body is never mistaken
// for a complete one.
func Stream(w http.ResponseWriter, resp *http.Response, outcome string) {
	defer resp.Body.Close()
	WriteHead(w, resp, outcome)
	buf := Buffer()
	defer PutBuffer(buf)
	if _, err := io.CopyBuffer(writerOnly{w}, resp.Body, *buf); err != nil {
		panic(http.ErrAbortHandler)
	}
}

// writerOnly hides ReadFrom so CopyBuffer uses our buffer.
type writerOnly struct{ io.Writer }

// UpstreamError answers a request whose origin round trip failed.
func UpstreamError(w http.ResponseWriter, r *http.Request, err error) {
	observe.MarkLocalError(r.Context())
	var netErr net.Error
	switch {
	case errors.Is(err, policy.ErrDenied):
		s3err.Write(w, r, http.StatusForbidden, "AccessDenied", "s3cache: destination not allowed: "+err.Error())
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client left; there is nobody to answer.
		return
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		s3err.Write(w, r, http.StatusGatewayTimeout, "GatewayTimeout", "s3cache: the origin did not answer in time")
	default:
		s3err.Write(w, r, http.StatusBadGateway, "BadGateway", "s3cache: cannot reach the origin: "+err.Error())
	}
}
