package cache

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// revalidation is what S3 said when asked whether a cached version is
// still current.
type revalidation int

const (
	stillCurrent revalidation = iota // 304: serve the cached bytes
	answered                         // the client already got S3's answer
)

// validators returns the conditional headers that ask S3 whether m is still
// current, leaving out any the client's signature covers (adding those would
// break it). ok is false when no validator can be sent.
func validators(req *s3req.Request, m *store.Meta) (http.Header, bool) {
	h := http.Header{}
	if !req.Auth.Signs("if-none-match") {
		h.Set("If-None-Match", m.ETag)
	}
	if lm := m.Header.Get("Last-Modified"); lm != "" && !req.Auth.Signs("if-modified-since") {
		h.Set("If-Modified-Since", lm)
	}
	// ETag is the validator that counts: Last-Modified has one-second
	// resolution, so two writes within a second would look unchanged.
	return h, h.Get("If-None-Match") != ""
}

// canRevalidate reports whether the cache may add validators to req.
func canRevalidate(req *s3req.Request, m *store.Meta) bool {
	switch req.Auth.Kind {
	case s3req.AuthAnonymous, s3req.AuthHeaderV4, s3req.AuthPresignedV4, s3req.AuthV2:
		_, ok := validators(req, m)
		return ok
	}
	return false
}

// revalidate sends the client's own request with validators for the cached
// version e. S3 authorizes the client either way: on 304 the cached version
// is marked validated and the caller serves it; on anything else the
// client gets S3's answer (a 200 or 206 of a new version is cached as it
// streams; a 403 leaves the cache alone, since refused credentials say
// nothing about the data).
func (c *Cache) revalidate(w http.ResponseWriter, r *http.Request, req *s3req.Request, e *store.Entry) revalidation {
	extra, _ := validators(req, e.Meta)
	ctx, cancel := fetchCtx(r)
	startedAt := c.now()
	resp, err := c.origin.Send(ctx, r, extra)
	if err != nil {
		cancel()
		relay.UpstreamError(w, r, err)
		return answered
	}
	c.cfg.Events.Revalidated(resp.StatusCode == http.StatusNotModified)
	if resp.StatusCode == http.StatusNotModified && etagMatches(resp, e.Meta.ETag) {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		m := e.Meta
		if m.WriteCached {
			// S3's 304 carries the object's real Last-Modified: from now
			// on the entry is as good as one read from S3.
			v := *m
			v.Header = m.Header.Clone()
			if lm := resp.Header.Get("Last-Modified"); lm != "" {
				v.Header.Set("Last-Modified", lm)
			}
			v.WriteCached = false
			m = &v
		}
		c.markValidated(m, startedAt, r.Method == http.MethodGet)
		return stillCurrent
	}
	if r.Method == http.MethodHead {
		defer cancel()
		defer resp.Body.Close()
		c.storeHead(req, resp, startedAt)
		relay.WriteHead(w, resp, relay.Miss)
		return answered
	}
	c.relayAndFill(w, r, req, ObjectID(req), resp, startedAt, cancel, nil, nil, relay.Miss)
	return answered
}

// etagMatches reports whether a 304 names the cached version. S3 sends the
// ETag with a 304; an answer without one is taken at its word.
func etagMatches(resp *http.Response, etag string) bool {
	got := resp.Header.Get("ETag")
	return got == "" || got == etag
}

// markValidated records that S3 confirmed m at the given time.
func (c *Cache) markValidated(m *store.Meta, at time.Time, body bool) {
	v := *m
	v.HeadValidatedAt = at
	if body {
		v.ValidatedAt = at
	}
	if err := c.store.PutMeta(&v, at); err != nil {
		c.log.Warn("cannot record revalidation", "object", m.ID(), "err", err)
	}
}

// withTimeout is context.WithTimeout that tolerates a zero timeout (none).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
