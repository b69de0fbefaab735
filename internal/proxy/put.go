package proxy

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"regexp"
	"time"

	"github.com/s3cache/s3cache/internal/awschunked"
	"github.com/s3cache/s3cache/internal/cache"
	"github.com/s3cache/s3cache/internal/mpu"
	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// WriteCache configures write-through caching of uploads. Whether an
// upload is cached at all is the write_cache setting (cache.Settings, per
// rule); off, uploads only invalidate.
type WriteCache struct {
	// MaxObjectSize is the largest object cached from an upload.
	MaxObjectSize int64
	// Stager stages multipart parts; nil disables multipart write-through.
	Stager *mpu.Stager
}

// uploadSink receives the bytes of an upload on their way to S3. It must
// never slow or fail the upload: on any error it stops and remembers why.
type uploadSink struct {
	dst     io.Writer // the cache file
	decoder *awschunked.Writer
	sum     hash.Hash
	written int64
	err     error
}

func newUploadSink(dst io.Writer, h http.Header) *uploadSink {
	s := &uploadSink{dst: dst, sum: md5.New()}
	if awschunked.Detect(h) {
		s.decoder = awschunked.NewWriter(io.MultiWriter(dst, s.sum, (*counter)(&s.written)))
	}
	return s
}

type counter int64

func (c *counter) Write(p []byte) (int, error) { *c += counter(len(p)); return len(p), nil }

func (s *uploadSink) Write(p []byte) (int, error) {
	if s.err != nil {
		return len(p), nil
	}
	if s.decoder != nil {
		_, s.err = s.decoder.Write(p)
		return len(p), nil
	}
	if _, s.err = s.dst.Write(p); s.err == nil {
		s.sum.Write(p)
		s.written += int64(len(p))
	}
	return len(p), nil
}

// complete reports whether the sink holds exactly the object the request
// uploaded: every byte written, the length the request declared, and for
// aws-chunked bodies a well-formed end and the decoded length.
func (s *uploadSink) complete(r *http.Request) error {
	if s.err != nil {
		return s.err
	}
	if s.decoder != nil {
		if err := s.decoder.Close(); err != nil {
			return err
		}
		want, err := awschunked.DecodedContentLength(r.Header)
		if err != nil {
			return err
		}
		return s.decoder.Verify(want)
	}
	if r.ContentLength >= 0 && s.written != r.ContentLength {
		return errors.New("upload body shorter than declared")
	}
	return nil
}

// md5ETag matches an ETag that is the MD5 of the bytes (not multipart, not
// SSE-KMS/SSE-C).
var md5ETag = regexp.MustCompile(`^"[0-9a-f]{32}"$`)

// etagConfirms reports whether S3's ETag vouches for the bytes the sink
// got: when the ETag is an MD5, it must be theirs.
func (s *uploadSink) etagConfirms(resp *http.Response) bool {
	etag := resp.Header.Get("ETag")
	if etag == "" {
		return false
	}
	if resp.Header.Get("X-Amz-Server-Side-Encryption") == "aws:kms" || !md5ETag.MatchString(etag) {
		return true // the ETag is not an MD5: trust the byte count
	}
	return etag == `"`+hex.EncodeToString(s.sum.Sum(nil))+`"`
}

// uploadSize is the object size an upload declares, -1 when unknown.
func uploadSize(r *http.Request) int64 {
	if awschunked.Detect(r.Header) {
		n, err := awschunked.DecodedContentLength(r.Header)
		if err != nil {
			return -1
		}
		return n
	}
	return r.ContentLength
}

// putObject forwards a PutObject and, when S3 accepts it, makes the
// uploaded bytes the cached version: a GET right after is a hit.
func (h *Handler) putObject(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	id := cache.ObjectID(req)
	size := uploadSize(r)
	header, herr := mpu.ObjectHeaders(r.Header)
	settings := h.cache.Settings(req.Bucket, req.Key)
	if !settings.WriteCache || req.SSEC || herr != nil || size < 0 || size > h.writes.MaxObjectSize || req.VersionID != "" ||
		h.store.WritesFailing(size) {
		h.write(w, r, req)
		return
	}
	startedAt := time.Now()
	sw, err := h.store.NewSegmentWriter(id, 0, startedAt)
	if err != nil {
		h.log.Debug("cannot stage upload; forwarding only", "object", id, "err", err)
		h.write(w, r, req)
		return
	}
	defer sw.Close()
	sw.SetCompression(settings.Compression)
	sink := newUploadSink(sw, r.Header)
	r.Body = teeBody{io.TeeReader(r.Body, sink), r.Body}
	resp, ok := h.roundTrip(w, r, req, nil)
	if !ok {
		return
	}
	if resp.StatusCode/100 != 2 {
		relay.Stream(w, resp, relay.Bypass)
		return
	}
	if err := sink.complete(r); err != nil || !sink.etagConfirms(resp) {
		h.log.Info("upload not cached", "object", id, "err", err, "etag_confirms", sink.etagConfirms(resp))
		h.invalidate(req, nil)
		relay.Stream(w, resp, relay.Bypass)
		return
	}
	m := uploadedMeta(id, header, r.Header, resp, sink.written, time.Now())
	if err := sw.Commit(m); err != nil {
		if !errors.Is(err, store.ErrSuperseded) {
			h.log.Warn("cannot cache upload", "object", id, "err", err)
		}
		h.invalidate(req, nil)
	}
	relay.Stream(w, resp, relay.Bypass)
}

// uploadedMeta describes an object just uploaded: the request's object
// headers and what S3's answer says about the stored object. Last-Modified
// is the answer's Date (S3's own value is within a second of it); the first
// revalidation or GET of the object replaces these headers with S3's.
func uploadedMeta(id store.ObjectID, objectHeader, reqHeader http.Header, resp *http.Response, size int64, at time.Time) *store.Meta {
	h := objectHeader.Clone()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "binary/octet-stream") // S3's default
	}
	if ce := awschunked.ObjectContentEncoding(reqHeader); ce != "" {
		h.Set("Content-Encoding", ce)
	}
	if sc := h.Get("X-Amz-Storage-Class"); sc == "STANDARD" {
		h.Del("X-Amz-Storage-Class") // S3 leaves it out for STANDARD
	}
	for k, v := range resp.Header {
		switch k {
		case "Etag", "X-Amz-Version-Id", "X-Amz-Server-Side-Encryption", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
			"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "X-Amz-Checksum-Type":
			h[k] = v
		default:
			if len(k) > len("X-Amz-Checksum-") && k[:len("X-Amz-Checksum-")] == "X-Amz-Checksum-" {
				h[k] = v
			}
		}
	}
	lastModified := resp.Header.Get("Date")
	if lastModified == "" {
		lastModified = at.UTC().Format(http.TimeFormat)
	}
	h.Set("Last-Modified", lastModified)
	return &store.Meta{
		Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, VersionID: id.VersionID,
		ETag: resp.Header.Get("ETag"), Size: size, Header: h, WriteCached: true,
		StoredAt: at, ValidatedAt: at, HeadValidatedAt: at,
	}
}

// roundTrip forwards a write. On failure the client has its answer and,
// if the request left, the keys it may have changed are invalidated
// (deleteBody: a DeleteObjects request's body, else nil).
func (h *Handler) roundTrip(w http.ResponseWriter, r *http.Request, req *s3req.Request, deleteBody *bytes.Buffer) (*http.Response, bool) {
	resp, err := h.origin.Send(r.Context(), r, nil)
	if err != nil {
		if !errors.Is(err, origin.ErrNotSent) {
			// S3 may or may not have applied the change: assume it did.
			h.invalidate(req, deleteBody)
		}
		relay.UpstreamError(w, r, err)
		return nil, false
	}
	return resp, true
}
