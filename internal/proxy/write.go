package proxy

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// maxDeleteBody bounds how much of a DeleteObjects body is kept to learn its
// keys: S3 allows 1000 keys of up to 1024 bytes each.
const maxDeleteBody = 2 << 20

// write forwards a request that may change objects and, once S3 reports
// success, invalidates what it changed. Invalidating after the answer is
// what gives read-after-write: the tombstone is newer than any fill that
// could have fetched the old bytes.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	var deleteBody *bytes.Buffer
	if req.Op == s3req.OpDeleteObjects && r.Body != nil {
		deleteBody = &bytes.Buffer{}
		r.Body = teeBody{io.TeeReader(r.Body, &limitedWriter{buf: deleteBody, max: maxDeleteBody}), r.Body}
	}
	resp, ok := h.roundTrip(w, r, req, deleteBody)
	if !ok {
		return
	}
	if resp.StatusCode/100 == 2 {
		h.invalidate(req, deleteBody)
	}
	relay.Stream(w, resp, relay.Bypass)
}

func (h *Handler) invalidate(req *s3req.Request, deleteBody *bytes.Buffer) {
	now := time.Now()
	ids := []store.ObjectID{cache.ObjectID(req)}
	if req.VersionID != "" {
		// Deleting a version may change which version is current.
		unversioned := cache.ObjectID(req)
		unversioned.VersionID = ""
		ids = append(ids, unversioned)
	}
	if req.Op == s3req.OpDeleteObjects {
		ids = deletedObjects(req, deleteBody)
	}
	for _, id := range ids {
		if err := h.store.Invalidate(id, now); err != nil {
			// The store logged the condition and remembers the
			// invalidation in memory: this process serves nothing stale.
			h.log.Debug("cannot record invalidation on disk", "object", id, "err", err)
		}
	}
}

// deletedObjects reads the keys named in a DeleteObjects request body.
func deletedObjects(req *s3req.Request, body *bytes.Buffer) []store.ObjectID {
	var doc struct {
		Objects []struct {
			Key       string `xml:"Key"`
			VersionID string `xml:"VersionId"`
		} `xml:"Object"`
	}
	if body == nil || xml.Unmarshal(body.Bytes(), &doc) != nil {
		return nil
	}
	var ids []store.ObjectID
	for _, o := range doc.Objects {
		id := store.ObjectID{Endpoint: req.Endpoint, Bucket: req.Bucket, Key: o.Key}
		ids = append(ids, id)
		if o.VersionID != "" {
			id.VersionID = o.VersionID
			ids = append(ids, id)
		}
	}
	return ids
}

// teeBody reads through a TeeReader but closes the original body.
type teeBody struct {
	io.Reader
	io.Closer
}

// limitedWriter keeps at most max bytes and silently drops the rest.
type limitedWriter struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
