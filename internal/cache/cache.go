package cache

import (
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/qos"
	"github.com/s3cache/s3cache/internal/ram"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// Settings are the knobs that may differ per bucket and key.
type Settings struct {
	// GetTTL is how long object bytes are served without asking S3; 0
	// means every request is revalidated (and so authorized) by S3.
	GetTTL time.Duration
	// HeadTTL is how long HEAD answers are served without asking S3.
	HeadTTL time.Duration
	// PutTTL is how long bytes cached from an upload are served before S3
	// confirms them (never longer than GetTTL).
	PutTTL time.Duration
	// NoReadCache sends every read to S3 untouched.
	NoReadCache bool
	// NoRAMCache keeps the object's bytes out of the RAM tier: they are
	// read from disk every time.
	NoRAMCache bool
	// Compression stores new compressible segments LZ4-compressed.
	Compression bool
	// WriteCache caches uploads as they go to S3 (the proxy's write path).
	WriteCache bool
	// HedgeAfter, when positive, sends a second copy of a GET or HEAD that
	// S3 has not started answering after this long (see origin.Resilience).
	HedgeAfter time.Duration
}

// Rules resolve the settings of one object. They are consulted on every
// read, so a rule change applies to data already cached.
type Rules interface {
	Settings(bucket, key string, defaults Settings) Settings
}

// Config holds the read path's settings.
type Config struct {
	Settings
	// Rules, when set, override Settings per bucket and key.
	Rules Rules
	// Events, when set, hears about fills and revalidations (metrics).
	Events Events
	// Access, when set, hears which segments are read (eviction scores)
	// and keeps segments being streamed from eviction.
	Access Access
	// QoS, when set, shares the origin download ceiling fairly between
	// callers; only bodies that feed fills are throttled, never hits.
	QoS *qos.Limiter
	// RAM, when set, is the in-memory tier consulted before the disk.
	RAM *ram.Tier
	// ReadAheadPage, when positive, widens small unsigned range misses to
	// aligned pages of this size (at most 64 MiB). See readahead.go.
	ReadAheadPage int64
	// WaitTimeout bounds how long a request waits for another request's
	// fetch of the same object to get S3's answer before fetching itself.
	WaitTimeout time.Duration
}

// Events are the read path's moments worth counting.
type Events interface {
	FillStarted()     // an origin fetch began feeding the cache
	FillJoined()      // a request followed a fetch instead of making its own
	FillWaiters(int)  // requests waiting on another's fetch: +1 on entry, -1 on exit
	Revalidated(bool) // a revalidation; true when S3 answered 304
}

// Access tracks segment use for eviction.
type Access interface {
	Touch(id store.ObjectID, seg store.Extent, bytes int64)
	Hold(id store.ObjectID, seg store.Extent) (release func())
}

type noEvents struct{}

func (noEvents) FillStarted()     {}
func (noEvents) FillJoined()      {}
func (noEvents) FillWaiters(int)  {}
func (noEvents) Revalidated(bool) {}

// Cache serves reads from the store and fills it from the origin.
type Cache struct {
	store  *store.Store
	origin *origin.Client
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	fills  *fill.Registry
	// defaults are cfg.Settings, swappable at run time.
	defaults atomic.Pointer[Settings]
}

// New returns a read path over st that fetches misses through oc.
func New(st *store.Store, oc *origin.Client, cfg Config, log *slog.Logger) *Cache {
	if cfg.Events == nil {
		cfg.Events = noEvents{}
	}
	c := &Cache{store: st, origin: oc, cfg: cfg, log: log, now: time.Now, fills: fill.NewRegistry()}
	c.defaults.Store(&cfg.Settings)
	return c
}

// SetDefaults replaces the default settings (a config reload).
func (c *Cache) SetDefaults(s Settings) { c.defaults.Store(&s) }

// ObjectID is where req's object lives in the store.
func ObjectID(req *s3req.Request) store.ObjectID {
	return store.ObjectID{Endpoint: req.Endpoint, Bucket: req.Bucket, Key: req.Key, VersionID: req.VersionID}
}

// Settings resolves the rules for one object over the defaults.
func (c *Cache) Settings(bucket, key string) Settings {
	d := *c.defaults.Load()
	if c.cfg.Rules == nil {
		return d
	}
	return c.cfg.Rules.Settings(bucket, key, d)
}

// settings resolves the rules for req's object.
func (c *Cache) settings(req *s3req.Request) Settings { return c.Settings(req.Bucket, req.Key) }

// bypass reports why req must go to S3 without looking at the cache, or "".
func (c *Cache) bypass(req *s3req.Request) string {
	switch {
	case req.SSEC:
		return "sse-c"
	case c.settings(req).NoReadCache:
		return "rule"
	case req.Auth.Kind == s3req.AuthUnknown:
		return "unknown-signature"
	case req.Auth.ExpiredAt(c.now()):
		// S3 would refuse this signature; let it say so.
		return "expired-signature"
	}
	return ""
}

func (c *Cache) lookup(id store.ObjectID) *store.Entry {
	lookup := c.store.Lookup
	if c.cfg.RAM != nil {
		lookup = c.cfg.RAM.Lookup
	}
	e, err := lookup(id)
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
	resp, err := c.origin.Send(r.Context(), r, nil)
	if err != nil {
		relay.UpstreamError(w, r, err)
		return nil, false
	}
	return resp, true
}

// forward relays r to S3 without touching the cache.
func (c *Cache) forward(w http.ResponseWriter, r *http.Request, outcome string) {
	if resp, ok := c.roundTrip(w, r); ok {
		relay.Stream(w, resp, outcome)
	}
}

// current is what the cache knows of an object: the store's entry, updated
// with a fill in flight. A fill started after the stored version was
// validated, so its metadata is the newer word; it also carries what the
// store has not yet received (a version being fetched, a part's place).
//
// The registry is read before the store: a fill leaves the registry only
// after its commit, so either the fill is seen or the committed entry is.
// (The other order could see the store just before a commit and the
// registry just after it, and miss both.)
func (c *Cache) current(id store.ObjectID) *store.Entry {
	m := c.fills.Meta(id)
	e := c.lookup(id)
	switch {
	case m == nil:
		return e
	case e == nil || (e.Meta.ETag != m.ETag && !e.Meta.ValidatedAt.After(m.ValidatedAt)):
		return &store.Entry{Meta: m}
	case e.Meta.ETag == m.ETag:
		merged := *e.Meta
		merged.ValidatedAt = latest(e.Meta.ValidatedAt, m.ValidatedAt)
		merged.HeadValidatedAt = latest(e.Meta.HeadValidatedAt, m.HeadValidatedAt)
		if len(m.Parts) > 0 {
			merged.Parts = maps.Clone(e.Meta.Parts)
			if merged.Parts == nil {
				merged.Parts = map[int]store.Extent{}
			}
			maps.Copy(merged.Parts, m.Parts)
			merged.PartsCount = max(merged.PartsCount, m.PartsCount)
		}
		return &store.Entry{Meta: &merged, Segments: e.Segments}
	}
	return e
}

// holdsAny reports whether any byte of sp is cached or arriving.
func (c *Cache) holdsAny(e *store.Entry, sp span) bool {
	for _, seg := range e.Segments {
		if seg.Start < sp.end && sp.start < seg.End {
			return true
		}
	}
	return c.fills.Meta(e.Meta.ID()) != nil
}
