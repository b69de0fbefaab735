package cache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// fillable describes the object bytes in an S3 answer to req, or returns
// nil when the answer must not be cached: anything but a 200 or a 206 with
// an ETag and a known length, an SSE-C object, or headers rewritten by
// response-* overrides.
func (c *Cache) fillable(id store.ObjectID, req *s3req.Request, resp *http.Response, at time.Time) (*store.Meta, store.Extent) {
	h := resp.Header
	if req.NoStore || req.Overrides != nil || h.Get("ETag") == "" ||
		h.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm") != "" {
		return nil, store.Extent{}
	}
	length, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	if err != nil || length < 0 {
		return nil, store.Extent{}
	}
	ext, size := store.Extent{Start: 0, End: length}, length
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusPartialContent:
		var ok bool
		if ext, size, ok = parseContentRange(h.Get("Content-Range")); !ok || ext.End-ext.Start != length {
			return nil, store.Extent{}
		}
	default:
		return nil, store.Extent{}
	}
	m := &store.Meta{
		Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, VersionID: id.VersionID,
		ETag:     h.Get("ETag"),
		Size:     size,
		Header:   storableHeader(h),
		StoredAt: at, ValidatedAt: at, HeadValidatedAt: at,
	}
	if req.PartNumber > 0 {
		m.Parts = map[int]store.Extent{req.PartNumber: ext}
		m.PartsCount, _ = strconv.Atoi(h.Get("X-Amz-Mp-Parts-Count"))
	}
	return m, ext
}

// parseContentRange reads "bytes a-b/total" into [a, b+1) and total.
func parseContentRange(v string) (store.Extent, int64, bool) {
	spec, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return store.Extent{}, 0, false
	}
	span, total, ok := strings.Cut(spec, "/")
	first, last, ok2 := strings.Cut(span, "-")
	if !ok || !ok2 {
		return store.Extent{}, 0, false
	}
	a, err1 := strconv.ParseInt(first, 10, 64)
	b, err2 := strconv.ParseInt(last, 10, 64)
	n, err3 := strconv.ParseInt(total, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || a < 0 || b < a || b >= n {
		return store.Extent{}, 0, false
	}
	return store.Extent{Start: a, End: b + 1}, n, true
}

// fetchCtx is the context of an origin fetch that feeds the cache: it
// outlives the client that started it (other readers may follow it) and is
// cancelled when its last reader leaves.
func fetchCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithCancel(context.WithoutCancel(r.Context()))
}

// startFill turns a cacheable origin answer into a running, registered
// fill, acquired once for the caller. It returns nil when the store cannot
// take the bytes; the caller then relays resp directly.
func (c *Cache) startFill(id store.ObjectID, m *store.Meta, ext store.Extent, resp *http.Response, startedAt time.Time, cancel context.CancelFunc, lock *store.FillLock) *fill.Fill {
	if c.store.WritesFailing(ext.End - ext.Start) {
		return nil // full, read-only or at capacity: relay without a fill
	}
	w, err := c.store.NewSegmentWriter(id, ext.Start, startedAt)
	if err != nil {
		// The store logs the condition once; per request it is noise.
		c.log.Debug("cannot start cache fill; relaying only", "object", id, "err", err)
		return nil
	}
	w.SetCompression(c.Settings(id.Bucket, id.Key).Compression)
	if lock != nil {
		if err := lock.Describe(m.ETag, ext.End, w); err != nil {
			c.log.Warn("cannot describe fill lock; other instances will wait for the segment", "object", id, "err", err)
		}
	}
	f := fill.New(id, m.ETag, ext.Start, ext.End, w, cancel)
	f.Meta = m
	f.Acquire()
	c.cfg.Events.FillStarted()
	c.fills.Add(f)
	go func() {
		defer cancel()
		defer resp.Body.Close()
		buf := relay.Buffer()
		defer relay.PutBuffer(buf)
		body := c.cfg.QoS.ReadCloser(resp.Request.Context(), resp.Body,
			c.cfg.QoS.Class(id.Bucket, resp.Request.Header.Get("User-Agent")))
		f.Run(body, *buf, func(w *store.SegmentWriter, complete bool) {
			if w.Written() == 0 && !complete {
				w.Abort()
				return
			}
			if complete && ext.Start == 0 && ext.End == m.Size {
				// Checked off the clients' path: they had the bytes as S3
				// sent them, as they would going direct; only the cache
				// must not keep bytes that disagree with S3's checksums.
				if err := verifyWhole(w, m.Size, checksumsFor(resp.Header)); err != nil {
					c.log.Error("object bytes do not match what S3 said of them; not cached", "object", id, "err", err)
					w.Abort()
					return
				}
			}
			// An incomplete fill keeps the prefix it received: those are
			// the object's bytes all the same.
			if err := w.Commit(m); err != nil && !errors.Is(err, store.ErrSuperseded) {
				c.log.Warn("cannot commit cache fill", "object", id, "err", err)
			}
		})
		c.fills.Remove(f)
		if lock != nil {
			lock.Release()
		}
	}()
	return f
}

// fetchAndFill forwards the client's request unchanged and, when the answer
// is cacheable, streams it to the client through a fill. landed, when not
// nil, is called once the answer's headers are known and its fill, if any,
// is registered. lock, when not nil, is this instance's fill lock for the
// fetch: it is described once the answer is known and released when the
// fill ends.
func (c *Cache) fetchAndFill(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID, landed func(), lock *store.FillLock) {
	if landed != nil {
		landed = sync.OnceFunc(landed)
		defer landed()
	}
	ctx, cancel := fetchCtx(r)
	startedAt := c.now()
	resp, err := c.origin.Send(ctx, r, nil)
	if err != nil {
		cancel()
		if lock != nil {
			lock.Release()
		}
		relay.UpstreamError(w, r, err)
		return
	}
	c.relayAndFill(w, r, req, id, resp, startedAt, cancel, landed, lock, relay.Miss)
}

// relayAndFill streams an origin answer to the client, through a fill when
// it is cacheable. The object's metadata is stored as soon as the headers
// arrive, so that requests for the same bytes find the fill and follow it.
func (c *Cache) relayAndFill(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID,
	resp *http.Response, startedAt time.Time, cancel context.CancelFunc, landed func(), lock *store.FillLock, outcome string) {
	if resp.StatusCode == http.StatusNotModified && resp.Header.Get("ETag") != "" {
		// The client's own condition held: a 304 naming the cached
		// version confirms it.
		if e := c.lookup(id); e != nil && etagMatches(resp, e.Meta.ETag) {
			c.markValidated(e.Meta, startedAt, true)
		}
	}
	m, ext := c.fillable(id, req, resp, startedAt)
	var f *fill.Fill
	if m != nil {
		// Other instances learn of the fill from the metadata written now;
		// this process's requests find it in the registry.
		if f = c.startFill(id, m, ext, resp, startedAt, cancel, lock); f != nil && c.store.OtherInstances() > 0 {
			if err := c.store.PutMeta(m, startedAt); err != nil && !errors.Is(err, store.ErrSuperseded) {
				c.log.Warn("cannot store object metadata", "object", id, "err", err)
			}
		}
	}
	if landed != nil {
		landed()
	}
	if f == nil && lock != nil {
		lock.Release()
	}
	if f == nil {
		defer cancel()
		relay.Stream(w, resp, outcome)
		return
	}
	defer f.Release()
	relay.WriteHead(w, resp, outcome)
	if _, err := streamFill(r.Context(), w, f, ext.Start, ext.End); err != nil {
		c.log.Debug("miss relay stopped", "object", id, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// errObjectChanged means S3 answered a gap fetch's If-Match with 412.
var errObjectChanged = errors.New("object changed at the origin")

// gapResult is the outcome of one gap fetch's round trip.
type gapResult struct {
	fill *fill.Fill
	resp *http.Response // set when S3 refused: relay it to the client
	err  error
}

// fetchGap asks S3 for [start, end) of the version m describes, with the
// client's own request plus Range and If-Match, and starts a fill with it.
func (c *Cache) fetchGap(r *http.Request, m *store.Meta, start, end int64) gapResult {
	ctx, cancel := fetchCtx(r)
	startedAt := c.now()
	resp, err := c.origin.Send(ctx, r, http.Header{
		"Range":    {"bytes=" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end-1, 10)},
		"If-Match": {m.ETag},
	})
	if err != nil {
		cancel()
		return gapResult{err: err}
	}
	if resp.StatusCode == http.StatusPreconditionFailed {
		resp.Body.Close()
		cancel()
		return gapResult{err: errObjectChanged}
	}
	ext, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
	if resp.StatusCode != http.StatusPartialContent {
		if resp.StatusCode/100 == 2 {
			resp.Body.Close()
			cancel()
			return gapResult{err: fmt.Errorf("gap fetch answered %s", resp.Status)}
		}
		// S3 refused this client (403 for an expired URL, say): that is
		// its answer to the client's request too.
		return gapResult{resp: resp, err: fmt.Errorf("gap fetch answered %s", resp.Status)}
	}
	if !ok || ext.Start != start || ext.End != end || size != m.Size || resp.Header.Get("ETag") != m.ETag {
		resp.Body.Close()
		cancel()
		return gapResult{err: fmt.Errorf("gap fetch answered %q for bytes %d-%d", resp.Header.Get("Content-Range"), start, end-1)}
	}
	gm := *m
	gm.Parts, gm.PartsCount = nil, 0
	gm.ValidatedAt, gm.HeadValidatedAt = startedAt, startedAt
	f := c.startFill(m.ID(), &gm, ext, resp, startedAt, cancel, nil)
	if f == nil {
		resp.Body.Close()
		cancel()
		return gapResult{err: errors.New("cannot store gap")}
	}
	return gapResult{fill: f}
}
