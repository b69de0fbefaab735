package proxy

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
	"github.com/s3cache/s3cache/internal/mpu"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3err"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// maxCompleteBody bounds a CompleteMultipartUpload request body (10,000
// parts listed is well under a megabyte).
const maxCompleteBody = 10 << 20

// maxResultBody bounds how much of S3's XML answer is kept to read it.
const maxResultBody = 1 << 20

func (h *Handler) upload(req *s3req.Request) (mpu.Upload, bool) {
	up := mpu.Upload{Endpoint: req.Endpoint, Bucket: req.Bucket, Key: req.Key, ID: req.UploadID}
	ok := h.writeCache(req) && h.writes.Stager != nil && !req.SSEC && mpu.ValidateUploadID(req.UploadID) == nil
	return up, ok
}

// relayKeeping relays resp and returns the first bytes of its body.
func relayKeeping(w http.ResponseWriter, resp *http.Response, outcome string) []byte {
	var kept bytes.Buffer
	resp.Body = teeBody{io.TeeReader(resp.Body, &limitedWriter{buf: &kept, max: maxResultBody}), resp.Body}
	relay.Stream(w, resp, outcome)
	return kept.Bytes()
}

// createUpload forwards CreateMultipartUpload and starts staging the
// upload S3 names.
func (h *Handler) createUpload(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	resp, ok := h.roundTrip(w, r, req, nil)
	if !ok {
		return
	}
	if resp.StatusCode/100 != 2 || !h.writeCache(req) || h.writes.Stager == nil || req.SSEC {
		relay.Stream(w, resp, relay.Bypass)
		return
	}
	body := relayKeeping(w, resp, relay.Bypass)
	res, err := mpu.ParseCreateResult(bytes.NewReader(body))
	if err != nil {
		h.log.Info("multipart upload not staged: unreadable answer", "object", cache.ObjectID(req), "err", err)
		return
	}
	withID := *req // req is shared with the request's observers: do not change it
	withID.UploadID = res.UploadID
	req = &withID
	up, ok := h.upload(req)
	if !ok {
		return
	}
	if err := h.writes.Stager.Begin(up, r.Header); err != nil && !errors.Is(err, mpu.ErrNotCacheable) {
		h.log.Warn("cannot stage multipart upload", "upload", up, "err", err)
	}
}

// uploadPart forwards UploadPart and stages the part's bytes, committed
// under S3's ETag before the client hears S3 accepted it (so a Complete that
// follows at once finds it).
func (h *Handler) uploadPart(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	up, ok := h.upload(req)
	size := uploadSize(r)
	if !ok || size < 0 || size > h.writes.MaxObjectSize {
		h.pass(w, r)
		return
	}
	pw, err := h.writes.Stager.Part(up, req.PartNumber)
	if err != nil {
		h.pass(w, r) // not staged (unknown upload, say): just forward
		return
	}
	sink := newUploadSink(pw, r.Header)
	r.Body = teeBody{io.TeeReader(r.Body, sink), r.Body}
	resp, ok := h.roundTrip(w, r, req, nil)
	if !ok {
		pw.Abort()
		return
	}
	if resp.StatusCode/100 == 2 && sink.complete(r) == nil && sink.etagConfirms(resp) {
		if err := pw.Commit(resp.Header.Get("ETag")); err != nil {
			h.log.Warn("cannot stage part", "upload", up, "part", req.PartNumber, "err", err)
		}
	} else {
		pw.Abort()
	}
	relay.Stream(w, resp, relay.Bypass)
}

// completeUpload forwards CompleteMultipartUpload and, when S3 assembled
// the object from exactly the parts staged here, makes them the cached
// object: whole GETs, ranges and partNumber GETs are then hits.
func (h *Handler) completeUpload(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	up, ok := h.upload(req)
	if !ok {
		h.write(w, r, req)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxCompleteBody+1))
	if err != nil {
		relay.UpstreamError(w, r, err)
		return
	}
	if len(body) > maxCompleteBody {
		s3err.Write(w, r, http.StatusRequestEntityTooLarge, "EntityTooLarge", "CompleteMultipartUpload body larger than 10 MiB")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	resp, ok := h.roundTrip(w, r, req, nil)
	if !ok {
		return
	}
	// The object changed (or may have): drop the old version first; the
	// new one is adopted below if everything checks out.
	h.invalidate(req, nil)
	if resp.StatusCode/100 != 2 {
		relay.Stream(w, resp, relay.Bypass)
		return
	}
	versionID := resp.Header.Get("X-Amz-Version-Id")
	sse := resp.Header.Values("X-Amz-Server-Side-Encryption")
	result := relayKeeping(w, resp, relay.Bypass)
	done, err := mpu.ParseCompleteResult(bytes.NewReader(result))
	if err != nil {
		// S3 can answer 200 and put an <Error> in the body: nothing done.
		h.log.Info("multipart upload not cached: S3 did not complete it", "upload", up, "err", err)
		return
	}
	defer h.writes.Stager.Abort(up) // the upload no longer exists at S3
	creq, err := mpu.ParseCompleteRequest(bytes.NewReader(body))
	if err != nil {
		return
	}
	asm, err := h.writes.Stager.Complete(up, creq, done.ETag)
	if err != nil {
		h.log.Info("multipart upload not cached", "upload", up, "err", err)
		return
	}
	if err := h.adopt(req, asm, versionID, sse); err != nil && !errors.Is(err, store.ErrSuperseded) {
		h.log.Warn("cannot cache completed upload", "upload", up, "err", err)
	}
}

// adopt publishes an assembled upload's parts as the object's segments.
func (h *Handler) adopt(req *s3req.Request, asm *mpu.Assembly, versionID string, sse []string) error {
	id := cache.ObjectID(req)
	header := asm.Info.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "binary/octet-stream")
	}
	if versionID != "" {
		header.Set("X-Amz-Version-Id", versionID)
	}
	if len(sse) > 0 {
		header["X-Amz-Server-Side-Encryption"] = sse
	}
	header.Set("ETag", asm.ETag)
	now := time.Now()
	header.Set("Last-Modified", now.UTC().Format(http.TimeFormat))
	m := &store.Meta{
		Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key,
		ETag: asm.ETag, Size: asm.Size, Header: header, WriteCached: true,
		PartsCount: len(asm.Parts), Parts: map[int]store.Extent{},
		StoredAt: now, ValidatedAt: now, HeadValidatedAt: now,
	}
	files := make([]store.AdoptedFile, 0, len(asm.Parts))
	for _, p := range asm.Parts {
		m.Parts[p.Number] = store.Extent{Start: p.Offset, End: p.Offset + p.Size}
		files = append(files, store.AdoptedFile{Path: p.Path, Start: p.Offset, Size: p.Size, Checked: p.Checked})
	}
	if !strings.HasSuffix(asm.ETag, `"`) {
		return errors.New("unquoted multipart ETag")
	}
	// Judged from now: the tombstone written when S3 answered is older, a
	// write that lands meanwhile is newer and wins.
	return h.store.Adopt(m, files, now)
}

// abortUpload forwards AbortMultipartUpload and drops the staging,
// whatever S3 answers: a retried abort finds nothing to drop.
func (h *Handler) abortUpload(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	if up, ok := h.upload(req); ok {
		defer h.writes.Stager.Abort(up)
	}
	h.pass(w, r)
}
