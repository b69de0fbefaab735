package cache

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// metaFrom describes the object in an S3 answer to req, or returns nil when
// the answer must not be cached: anything but a complete 200 with an ETag
// and a length, an SSE-C object, or headers rewritten by response-*
// overrides.
func (c *Cache) metaFrom(id store.ObjectID, req *s3req.Request, resp *http.Response, at time.Time) *store.Meta {
	h := resp.Header
	if resp.StatusCode != http.StatusOK || req.NoStore || req.Overrides != nil || req.PartNumber > 0 ||
		h.Get("ETag") == "" || h.Get("Content-Range") != "" ||
		h.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "" {
		return nil
	}
	size, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || size < 0 {
		return nil
	}
	return &store.Meta{
		Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, VersionID: id.VersionID,
		ETag:     h.Get("ETag"),
		Size:     size,
		Header:   storableHeader(h),
		StoredAt: at,
	}
}

// fetch forwards a GET and, when the answer is cacheable, streams it to the
// client and into the store at once. The client is never slowed by a cache
// write that fails: the fill is dropped and the relay goes on.
func (c *Cache) fetch(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID) {
	startedAt := c.now()
	resp, ok := c.roundTrip(w, r)
	if !ok {
		return
	}
	defer resp.Body.Close()
	m := c.metaFrom(id, req, resp, startedAt)
	if m == nil {
		relay.Stream(w, resp, relay.Miss)
		return
	}
	m.ValidatedAt, m.HeadValidatedAt = startedAt, startedAt
	fill, err := c.store.NewSegmentWriter(id, 0, startedAt)
	if err != nil {
		c.log.Warn("cannot start cache fill; relaying only", "object", id, "err", err)
		relay.Stream(w, resp, relay.Miss)
		return
	}
	relay.WriteHead(w, resp, relay.Miss)
	sent, err := c.tee(w, resp.Body, fill, m.Size)
	switch {
	case err == nil && fill.Written() == m.Size:
		if err := fill.Commit(m); err != nil && !errors.Is(err, store.ErrSuperseded) {
			c.log.Warn("cannot commit cache fill", "object", id, "err", err)
		}
	default:
		fill.Abort()
	}
	if err != nil && sent < m.Size {
		// The client got a short body: make sure it sees a broken
		// connection, not a clean end.
		panic(http.ErrAbortHandler)
	}
}

// errClientGone marks a fill that stopped because the client went away.
var errClientGone = errors.New("client stopped reading")

// tee copies body to the client and, while it works, to fill. It returns
// the bytes the client received and the first error of the origin or the
// client. A fill that fails to write is aborted and set aside.
func (c *Cache) tee(w http.ResponseWriter, body io.Reader, fill *store.SegmentWriter, size int64) (int64, error) {
	buf := relay.Buffer()
	defer relay.PutBuffer(buf)
	var sent int64
	filling := true
	for {
		n, rerr := body.Read(*buf)
		if n > 0 {
			if _, err := w.Write((*buf)[:n]); err != nil {
				return sent, errClientGone
			}
			sent += int64(n)
			if filling {
				if _, err := fill.Write((*buf)[:n]); err != nil {
					c.log.Warn("cache write failed; relaying only", "err", err)
					filling = false
				}
			}
		}
		if rerr == io.EOF {
			if !filling {
				return sent, errors.New("cache write failed")
			}
			if sent != size {
				return sent, io.ErrUnexpectedEOF
			}
			return sent, nil
		}
		if rerr != nil {
			return sent, rerr
		}
	}
}
