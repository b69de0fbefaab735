package observe

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"time"
)

// maxErrorBody is how much of an error response body is kept to read its
// S3 error code.
const maxErrorBody = 1024

// recordingWriter counts what a handler sends. It forwards ReadFrom, Flush
// and Hijack to the connection's writer so that sendfile, streaming and
// upgrades keep working, and Unwrap serves http.ResponseController.
type recordingWriter struct {
	http.ResponseWriter
	rec         *Record
	now         func() time.Time
	wroteHeader bool
	errBody     []byte
}

// latch records the response head the first time it is committed.
func (w *recordingWriter) latch(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.rec.Status = status
	w.rec.XCache = w.Header().Get("X-Cache")
	w.rec.FirstByte = w.now().Sub(w.rec.Start)
}

func (w *recordingWriter) WriteHeader(status int) {
	// 1xx heads (100 Continue, 103 Early Hints) precede the real one.
	if status >= 200 {
		w.latch(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	w.latch(http.StatusOK)
	n, err := w.ResponseWriter.Write(p)
	w.rec.BytesSent += int64(n)
	w.keepErrorBody(p[:n])
	return n, err
}

// ReadFrom hands src to the connection's own ReadFrom, which uses sendfile
// for files.
func (w *recordingWriter) ReadFrom(src io.Reader) (int64, error) {
	w.latch(http.StatusOK)
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.rec.BytesSent += n
	return n, err
}

// Flush implements http.Flusher.
func (w *recordingWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls first.
func (w *recordingWriter) FlushError() error {
	w.latch(http.StatusOK)
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker; it fails where the connection cannot be
// taken over (HTTP/2).
func (w *recordingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recordingWriter) keepErrorBody(p []byte) {
	if w.rec.Status < 400 || len(w.errBody) >= maxErrorBody {
		return
	}
	w.errBody = append(w.errBody, p[:min(len(p), maxErrorBody-len(w.errBody))]...)
}

// errorCode reads <Code>…</Code> from the start of an S3 error body.
func errorCode(body []byte) string {
	_, rest, ok := bytes.Cut(body, []byte("<Code>"))
	if !ok {
		return ""
	}
	code, _, ok := bytes.Cut(rest, []byte("</Code>"))
	if !ok || len(code) > 64 {
		return ""
	}
	return string(code)
}

// writerOnly hides any ReadFrom of the wrapped writer from io.Copy.
type writerOnly struct{ io.Writer }
