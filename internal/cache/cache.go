package cache

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// Config holds the read path's freshness settings.
type Config struct {
	// GetTTL is how long object bytes are served without asking S3.
	GetTTL time.Duration
	// HeadTTL is how long HEAD answers are served without asking S3.
	HeadTTL time.Duration
}

// Cache serves reads from the store and fills it from the origin.
type Cache struct {
	store  *store.Store
	origin *origin.Client
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
}

// New returns a read path over st that fetches misses through oc.
func New(st *store.Store, oc *origin.Client, cfg Config, log *slog.Logger) *Cache {
	return &Cache{store: st, origin: oc, cfg: cfg, log: log, now: time.Now}
}

// ObjectID is where req's object lives in the store.
func ObjectID(req *s3req.Request) store.ObjectID {
	return store.ObjectID{Endpoint: req.Endpoint, Bucket: req.Bucket, Key: req.Key, VersionID: req.VersionID}
}

// bypass reports why req must go to S3 without looking at the cache, or "".
func (c *Cache) bypass(req *s3req.Request) string {
	switch {
	case req.SSEC:
		return "sse-c"
	case req.PartNumber > 0:
		return "part-number"
	case req.Auth.Kind == s3req.AuthUnknown:
		return "unknown-signature"
	case req.Auth.ExpiredAt(c.now()):
		// S3 would refuse this signature; let it say so.
		return "expired-signature"
	}
	return ""
}

// ServeGet answers a GetObject request.
func (c *Cache) ServeGet(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	if reason := c.bypass(req); reason != "" {
		c.log.Debug("cache bypass", "object", ObjectID(req), "reason", reason)
		c.forward(w, r, relay.Bypass)
		return
	}
	id := ObjectID(req)
	if !req.NoCache && !req.Conditional {
		if e := c.lookup(id); e != nil && c.fresh(e.Meta.ValidatedAt, c.cfg.GetTTL) {
			if c.serveHit(w, r, req, e) {
				return
			}
		}
	}
	c.fetch(w, r, req, id)
}

// ServeHead answers a HeadObject request, from any cached metadata of the
// object (a cached GET answers HEAD too).
func (c *Cache) ServeHead(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	if reason := c.bypass(req); reason != "" || req.Range != "" || req.Conditional {
		c.forward(w, r, relay.Bypass)
		return
	}
	id := ObjectID(req)
	if !req.NoCache {
		if e := c.lookup(id); e != nil && c.fresh(latest(e.Meta.ValidatedAt, e.Meta.HeadValidatedAt), c.cfg.HeadTTL) {
			replayHeader(w, e.Meta.Header, req.Overrides, relay.Hit, true)
			w.Header().Set("Content-Length", strconv.FormatInt(e.Meta.Size, 10))
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	startedAt := c.now()
	resp, ok := c.roundTrip(w, r)
	if !ok {
		return
	}
	defer resp.Body.Close()
	if m := c.metaFrom(id, req, resp, startedAt); m != nil {
		m.HeadValidatedAt = startedAt
		if err := c.store.PutMeta(m, startedAt); err != nil && !errors.Is(err, store.ErrSuperseded) {
			c.log.Warn("cannot cache HEAD metadata", "object", id, "err", err)
		}
	}
	relay.WriteHead(w, resp, relay.Miss)
}

func (c *Cache) lookup(id store.ObjectID) *store.Entry {
	e, err := c.store.Lookup(id)
	if err != nil {
		if !errors.Is(err, store.ErrNotCached) {
			c.log.Warn("cache lookup failed; treating as a miss", "object", id, "err", err)
		}
		return nil
	}
	return e
}

func (c *Cache) fresh(validated time.Time, ttl time.Duration) bool {
	return ttl > 0 && c.now().Sub(validated) < ttl
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// serveHit answers from the store. It returns false, having written
// nothing, when the entry cannot answer this request.
func (c *Cache) serveHit(w http.ResponseWriter, r *http.Request, req *s3req.Request, e *store.Entry) bool {
	size := e.Meta.Size
	start, end, whole := int64(0), size-1, true
	if req.Range != "" {
		br, err := s3req.ParseRange(req.Range)
		if err != nil {
			return false // S3 ignores such headers; let it decide what to send
		}
		var ok bool
		if start, end, ok = br.Resolve(size); !ok {
			return false // unsatisfiable: S3's own 416
		}
		whole = false
	}
	seg, ok := e.Covering(start, end+1)
	if !ok {
		return false
	}
	f, err := c.store.OpenSegment(seg)
	if err != nil {
		if !errors.Is(err, store.ErrNotCached) {
			c.log.Warn("cached segment unreadable; refetching", "object", e.Meta.ID(), "err", err)
		}
		return false
	}
	defer f.Close()
	if _, err := f.Seek(start-seg.Start, io.SeekStart); err != nil {
		return false
	}
	replayHeader(w, e.Meta.Header, req.Overrides, relay.Hit, whole)
	n := end - start + 1
	w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if !whole {
		w.Header().Set("Content-Range", contentRange(start, end, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	// io.CopyN reaches the connection's ReadFrom, which uses sendfile.
	if _, err := io.CopyN(w, f, n); err != nil {
		c.log.Debug("client stopped reading a hit", "object", e.Meta.ID(), "err", err)
	}
	return true
}

// roundTrip forwards r. On failure it has already answered the client.
func (c *Cache) roundTrip(w http.ResponseWriter, r *http.Request) (*http.Response, bool) {
	out, err := c.origin.NewRequest(r.Context(), r)
	if err == nil {
		var resp *http.Response
		if resp, err = c.origin.RoundTrip(out); err == nil {
			return resp, true
		}
	}
	relay.UpstreamError(w, r, err)
	return nil, false
}

// forward relays r to S3 without touching the cache.
func (c *Cache) forward(w http.ResponseWriter, r *http.Request, outcome string) {
	if resp, ok := c.roundTrip(w, r); ok {
		relay.Stream(w, resp, outcome)
	}
}
