package cache

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// ServeHead answers a HeadObject request, from any cached metadata of the
// object (a cached GET answers HEAD too).
func (c *Cache) ServeHead(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	// A part's HEAD describes the part: its length must never be recorded
	// as the object's. A ranged HEAD is rare enough to leave to S3.
	if reason := c.bypass(req); reason != "" || req.Range != "" || req.PartNumber > 0 {
		c.forward(w, r, relay.Bypass)
		return
	}
	if !req.NoCache {
		if e := c.current(ObjectID(req)); e != nil && (!req.Conditional || conditionsAllowCache(req, e.Meta)) {
			if c.fresh(latest(e.Meta.ValidatedAt, e.Meta.HeadValidatedAt), c.settings(req).HeadTTL) {
				writeHeadHit(w, req, e.Meta, relay.Hit)
				return
			}
			if !req.Conditional && canRevalidate(req, e.Meta) {
				if c.revalidate(w, r, req, e) == stillCurrent {
					writeHeadHit(w, req, e.Meta, relay.Revalidated)
				}
				return
			}
		}
	}
	startedAt := c.now()
	resp, ok := c.roundTrip(w, r)
	if !ok {
		return
	}
	defer resp.Body.Close()
	c.storeHead(req, resp, startedAt)
	relay.WriteHead(w, resp, relay.Miss)
}

func writeHeadHit(w http.ResponseWriter, req *s3req.Request, m *store.Meta, outcome string) {
	replayHeader(w, m.Header, req.Overrides, outcome, true)
	w.Header().Set("Content-Length", strconv.FormatInt(m.Size, 10))
	w.WriteHeader(http.StatusOK)
}

// storeHead caches the metadata in a HEAD answer.
func (c *Cache) storeHead(req *s3req.Request, resp *http.Response, startedAt time.Time) {
	id := ObjectID(req)
	if resp.StatusCode == http.StatusNotModified {
		if e := c.lookup(id); e != nil && etagMatches(resp, e.Meta.ETag) && resp.Header.Get("ETag") != "" {
			c.markValidated(e.Meta, startedAt, false)
		}
		return
	}
	m, _ := c.fillable(id, req, resp, startedAt)
	if m == nil || resp.StatusCode != http.StatusOK {
		return
	}
	m.ValidatedAt = time.Time{} // a HEAD proves nothing about cached bytes of another version
	if err := c.store.PutMeta(m, startedAt); err != nil && !errors.Is(err, store.ErrSuperseded) {
		c.log.Debug("cannot cache HEAD metadata", "object", id, "err", err) // the store logs the condition
	}
}
