package cache

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
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
	// WaitTimeout bounds how long a request waits for another request's
	// fetch of the same object to get S3's answer before fetching itself.
	WaitTimeout time.Duration
}

// Cache serves reads from the store and fills it from the origin.
type Cache struct {
	store  *store.Store
	origin *origin.Client
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	fills  *fill.Registry
}

// New returns a read path over st that fetches misses through oc.
func New(st *store.Store, oc *origin.Client, cfg Config, log *slog.Logger) *Cache {
	return &Cache{store: st, origin: oc, cfg: cfg, log: log, now: time.Now, fills: fill.NewRegistry()}
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
	case req.Auth.Kind == s3req.AuthUnknown:
		return "unknown-signature"
	case req.Auth.ExpiredAt(c.now()):
		// S3 would refuse this signature; let it say so.
		return "expired-signature"
	}
	return ""
}

// ServeHead answers a HeadObject request, from any cached metadata of the
// object (a cached GET answers HEAD too).
func (c *Cache) ServeHead(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	// A part's HEAD describes the part: its length must never be recorded
	// as the object's.
	if reason := c.bypass(req); reason != "" || req.Range != "" || req.Conditional || req.PartNumber > 0 {
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
	if m, _ := c.fillable(id, req, resp, startedAt); m != nil && resp.StatusCode == http.StatusOK {
		m.ValidatedAt = time.Time{} // a HEAD proves nothing about cached bytes
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
