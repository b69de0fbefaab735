package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
	"github.com/s3cache/s3cache/internal/observe"
	"github.com/s3cache/s3cache/internal/relay"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// span is what a GET asks for, resolved against a cached object's size.
type span struct {
	start, end int64 // [start, end)
	whole      bool  // a 200 of the whole object, not a 206
	part       int   // partNumber, 0 when none
}

// resolveSpan maps req onto the cached object m. ok is false when the cache
// cannot decide the answer (odd Range syntax, unsatisfiable ranges, parts
// not seen yet): S3 must answer those.
func resolveSpan(req *s3req.Request, m *store.Meta) (span, bool) {
	if req.PartNumber > 0 {
		ext, ok := m.Parts[req.PartNumber]
		if !ok || req.Range != "" {
			return span{}, false
		}
		return span{start: ext.Start, end: ext.End, part: req.PartNumber}, true
	}
	if req.Range == "" {
		return span{start: 0, end: m.Size, whole: true}, true
	}
	br, err := s3req.ParseRange(req.Range)
	if err != nil {
		return span{}, false
	}
	first, last, ok := br.Resolve(m.Size)
	if !ok {
		return span{}, false
	}
	return span{start: first, end: last + 1}, true
}

// canFetchGaps reports whether the cache may ask S3 for just the missing
// bytes with the client's request. It may when the signature does not
// cover Range or If-Match, so adding them keeps it valid.
func canFetchGaps(req *s3req.Request) bool {
	switch req.Auth.Kind {
	case s3req.AuthAnonymous, s3req.AuthHeaderV4, s3req.AuthPresignedV4:
		return !req.Auth.Signs("range") && !req.Auth.Signs("if-match")
	}
	return false
}

// ServeGet answers a GetObject request.
func (c *Cache) ServeGet(w http.ResponseWriter, r *http.Request, req *s3req.Request) {
	if reason := c.bypass(req); reason != "" {
		c.log.Debug("cache bypass", "object", ObjectID(req), "reason", reason)
		c.forward(w, r, relay.Bypass)
		return
	}
	id := ObjectID(req)
	if req.NoCache {
		c.fetchAndFill(w, r, req, id, nil, nil)
		return
	}
	if c.serveCached(w, r, req, id) {
		return
	}
	if req.Conditional {
		c.fetchAndFill(w, r, req, id, nil, nil)
		return
	}
	if req.Range != "" && c.coldReadAhead(w, r, req, id) {
		return
	}
	// Cold: if a fetch of this object is already waiting for S3's answer,
	// wait for it too and then follow its fill instead of fetching again.
	key := fill.FlightKey{ID: id}
	for round := 0; ; round++ {
		flight, leader := c.fills.Lead(key)
		if leader && round == 0 && c.bytesArrived(id) {
			// Another fetch landed between our look at the cache and
			// Lead (its flight was over, so we lead a new one): follow
			// it rather than fetch again; if it cannot serve us, lead
			// anew.
			c.fills.Land(key, flight)
			if c.serveCached(w, r, req, id) {
				return
			}
			continue
		}
		if leader {
			c.leadColdFetch(w, r, req, id, func() { c.fills.Land(key, flight) })
			return
		}
		ctx, cancel := withTimeout(r.Context(), c.cfg.WaitTimeout)
		c.cfg.Events.FillWaiters(1)
		landed := flight.Wait(ctx)
		c.cfg.Events.FillWaiters(-1)
		cancel()
		if landed && c.serveCached(w, r, req, id) {
			return
		}
		c.fetchAndFill(w, r, req, id, nil, nil)
		return
	}
}

// bytesArrived reports whether object bytes are arriving or cached: a fill
// is registered, or the store holds segments.
func (c *Cache) bytesArrived(id store.ObjectID) bool {
	if c.fills.Meta(id) != nil {
		return true
	}
	e := c.lookup(id)
	return e != nil && len(e.Segments) > 0
}

// bodyTTL is how long m's bytes are served without asking S3.
func bodyTTL(s Settings, m *store.Meta) time.Duration {
	if m.WriteCached && s.PutTTL < s.GetTTL {
		return s.PutTTL
	}
	return s.GetTTL
}

// leadColdFetch fetches an object no instance has cached, unless another
// instance sharing the directory is already fetching it: then it waits for
// that fetch's metadata and follows its temp file. land is called once
// requests of this process waiting on the flight can proceed.
func (c *Cache) leadColdFetch(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID, land func()) {
	land = sync.OnceFunc(land)
	defer land()
	start, lockable := coldStart(req)
	if !lockable || c.store.OtherInstances() == 0 {
		c.fetchAndFill(w, r, req, id, land, nil)
		return
	}
	// A few rounds: an owner that dies before S3 answers leaves nothing to
	// follow, and the next round steals its lock.
	for round := 0; round < 3; round++ {
		lock, err := c.store.LockFill(id, start)
		if !errors.Is(err, store.ErrLocked) {
			if err != nil {
				c.log.Warn("cannot take fill lock; fetching without it", "object", id, "err", err)
			}
			c.fetchAndFill(w, r, req, id, land, lock)
			return
		}
		ctx, cancel := withTimeout(r.Context(), c.cfg.WaitTimeout)
		found := c.waitRemoteMeta(ctx, id, start)
		cancel()
		if found {
			land()
			if c.serveCached(w, r, req, id) {
				return
			}
			break
		}
		if r.Context().Err() != nil {
			return
		}
	}
	// Nothing to follow: fetch, with this process's waiters following.
	c.fetchAndFill(w, r, req, id, land, nil)
}

// coldStart is the first object byte a cold request asks for, when it is
// known before S3 answers (not for suffix ranges).
func coldStart(req *s3req.Request) (int64, bool) {
	if req.PartNumber > 0 {
		return 0, false
	}
	if req.Range == "" {
		return 0, true
	}
	br, err := s3req.ParseRange(req.Range)
	if err != nil || br.IsSuffix {
		return 0, false
	}
	return br.First, true
}

// serveCached answers from what the store holds, fetching missing bytes when
// it may. It returns false, having written nothing, when the cache has
// nothing fresh to say about the request.
func (c *Cache) serveCached(w http.ResponseWriter, r *http.Request, req *s3req.Request, id store.ObjectID) bool {
	e := c.current(id)
	if e == nil {
		return false
	}
	sp, ok := resolveSpan(req, e.Meta)
	if !ok || (req.Conditional && !conditionsAllowCache(req, e.Meta)) {
		return false
	}
	outcome := relay.Hit
	if !c.fresh(e.Meta.ValidatedAt, bodyTTL(c.settings(req), e.Meta)) {
		if req.Conditional || !canRevalidate(req, e.Meta) || !c.holdsAny(e, sp) {
			// Nothing cached to save (metadata from a HEAD, say): a
			// plain fetch is one request where revalidating is two.
			return false
		}
		if c.revalidate(w, r, req, e) == answered {
			return true
		}
		outcome = relay.Revalidated
	}
	pieces := c.plan(e, sp.start, sp.end)
	defer func() { releaseAll(pieces) }()
	if countMissing(pieces) > 0 {
		// The entry may be a second old (RAM tier) or miss a segment
		// another instance just published: look at the directory itself
		// before asking S3 for anything.
		if fresh, err := c.store.Lookup(id); err == nil && fresh.Meta.ETag == e.Meta.ETag && len(fresh.Segments) > len(e.Segments) {
			releaseAll(pieces)
			e = fresh
			pieces = c.plan(e, sp.start, sp.end)
		}
	}
	if countMissing(pieces) > 0 {
		if !canFetchGaps(req) {
			// The signature covers Range: only the client's exact request
			// can be sent, and its answer is cached as a segment.
			releaseAll(pieces)
			c.fetchAndFill(w, r, req, id, nil, nil)
			return true
		}
		switch err := c.fetchGaps(w, r, req, e.Meta, pieces); {
		case errors.Is(err, errObjectChanged):
			c.log.Info("object changed at the origin; dropping its cached bytes", "object", id)
			if err := c.store.Invalidate(id, c.now()); err != nil {
				c.log.Warn("cannot invalidate changed object", "object", id, "err", err)
			}
			releaseAll(pieces)
			c.fetchAndFill(w, r, req, id, nil, nil)
			return true
		case errors.Is(err, errAnswered):
			return true
		case err != nil:
			c.log.Warn("gap fetch failed; forwarding the whole request", "object", id, "err", err)
			releaseAll(pieces)
			c.fetchAndFill(w, r, req, id, nil, nil)
			return true
		}
		outcome = relay.Partial
	}
	observe.NoteSource(r.Context(), sourceOf(pieces))
	c.writeObjectHead(w, req, e.Meta, sp, outcome)
	var resume resumer
	if canFetchGaps(req) {
		resume = func(from, to int64) (source, int64, error) { return c.resume(r, e.Meta, from, to) }
	}
	if err := c.streamPieces(r.Context(), w, pieces, resume); err != nil {
		c.log.Debug("cached response stopped", "object", id, "err", err)
		panic(http.ErrAbortHandler)
	}
	return true
}

// errAnswered means the client already got S3's own refusal.
var errAnswered = errors.New("answered with the origin's response")

// fetchGaps fills every missing piece: from a fill in flight when one
// appeared meanwhile, else with a gap fetch. All gap fetches run at once and
// must all be accepted before the client sees a header, so a changed object
// is found before any byte is promised.
func (c *Cache) fetchGaps(w http.ResponseWriter, r *http.Request, req *s3req.Request, m *store.Meta, pieces []piece) error {
	results := make([]gapResult, len(pieces))
	var wg sync.WaitGroup
	for i := range pieces {
		p := &pieces[i]
		if !p.missing() {
			continue
		}
		if f := c.fills.Join(m.ID(), m.ETag, p.start); f != nil {
			if f.End >= p.end {
				p.fill = f
				continue
			}
			f.Release()
		}
		from, to := p.start, p.end
		page := c.readAheadPage(req, from, to-1)
		if page > 0 {
			from, to = widen(from, to, page, m.Size)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.fetchGap(r, m, from, to)
			if page > 0 && results[i].fill != nil {
				results[i].fill.Detach()
			}
		}()
	}
	wg.Wait()
	var failure error
	for i, res := range results {
		if res.fill != nil {
			pieces[i].fill = res.fill
			continue
		}
		if res.resp != nil {
			if failure == nil {
				relay.Stream(w, res.resp, relay.Miss)
				failure = errAnswered
			} else {
				res.resp.Body.Close()
			}
			continue
		}
		if res.err != nil && (failure == nil || errors.Is(res.err, errObjectChanged)) {
			failure = res.err
		}
	}
	return failure
}

// writeObjectHead sends the status and headers of a GET answered from
// cached metadata.
func (c *Cache) writeObjectHead(w http.ResponseWriter, req *s3req.Request, m *store.Meta, sp span, outcome string) {
	replayHeader(w, m.Header, req.Overrides, outcome, sp.whole)
	h := w.Header()
	h.Set("Content-Length", strconv.FormatInt(sp.end-sp.start, 10))
	if sp.whole {
		w.WriteHeader(http.StatusOK)
		return
	}
	if sp.part > 0 && m.PartsCount > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(m.PartsCount))
	}
	if sp.end > sp.start {
		h.Set("Content-Range", contentRange(sp.start, sp.end-1, m.Size))
	}
	w.WriteHeader(http.StatusPartialContent)
}

// sourceOf names where a response's bytes come from, for metrics: RAM only
// when every piece is in memory.
func sourceOf(pieces []piece) string {
	for i := range pieces {
		if pieces[i].mem == nil {
			return observe.SourceDisk
		}
	}
	return observe.SourceRAM
}

// resumer fetches object bytes from an offset anew, when the source a
// response was following stopped early. It returns the new source and the
// offset it reaches.
type resumer func(from, to int64) (source, int64, error)

// streamPieces writes the pieces to the client in order, resuming (when
// resume is not nil) after a source that stops early.
func (c *Cache) streamPieces(ctx context.Context, w http.ResponseWriter, pieces []piece, resume resumer) error {
	for i := range pieces {
		p := &pieces[i]
		switch {
		case p.mem != nil:
			if _, err := w.Write(p.mem); err != nil {
				return errClientGone
			}
		case p.file != nil:
			off, err := copySegment(w, p)
			if errors.Is(err, store.ErrCorrupt) {
				// Never a wrong byte: drop the segment, and carry on from
				// S3 when this request may fetch ranges.
				c.store.DropCorrupt(p.seg, err)
				if resume == nil {
					return err
				}
				err = continueFrom(ctx, w, resume, off, p.end)
			}
			if err != nil {
				return err
			}
		case p.fill != nil:
			off, err := streamFill(ctx, w, p.fill, p.start, p.end)
			if errors.Is(err, fill.ErrStopped) && resume != nil {
				// The fetch this piece followed died (its client left, or
				// another instance was killed): carry on with a fetch of
				// this request's own.
				err = continueFrom(ctx, w, resume, off, p.end)
			}
			if err != nil {
				return err
			}
		default:
			return errors.New("piece left missing")
		}
	}
	return nil
}

// continueFrom streams [off, end) from fresh sources, a few at most.
func continueFrom(ctx context.Context, w io.Writer, resume resumer, off, end int64) error {
	for attempt := 0; off < end; attempt++ {
		if attempt == 4 {
			return fmt.Errorf("gave up resuming at %d", off)
		}
		next, reach, err := resume(off, end)
		if err != nil {
			return fmt.Errorf("resume at %d: %w", off, err)
		}
		off, err = streamFill(ctx, w, next, off, min(reach, end))
		next.Release()
		if err != nil && !errors.Is(err, fill.ErrStopped) {
			return err
		}
	}
	return nil
}

// resume gets the bytes from an offset anew: from a fill of this process
// that covers them, else with a gap fetch of this request's own. Requests
// resuming at the same offset (all followers of one dead fill stop exactly
// where its bytes end) share one fetch.
func (c *Cache) resume(r *http.Request, m *store.Meta, from, to int64) (source, int64, error) {
	id := m.ID()
	key := fill.FlightKey{ID: id, From: from}
	for round := 0; ; round++ {
		if f := c.fills.Join(id, m.ETag, from); f != nil {
			return f, f.End, nil
		}
		flight, leader := c.fills.Lead(key)
		if leader {
			// A fetch that landed between Join and Lead has registered
			// its fill by now.
			if f := c.fills.Join(id, m.ETag, from); f != nil {
				c.fills.Land(key, flight)
				return f, f.End, nil
			}
		}
		if !leader && round < 3 {
			if !flight.Wait(r.Context()) {
				return nil, 0, r.Context().Err()
			}
			if f := c.fills.Join(id, m.ETag, from); f != nil {
				return f, f.End, nil
			}
			continue // the leader failed: lead the next round
		}
		res := c.fetchGap(r, m, from, to)
		if leader {
			c.fills.Land(key, flight)
		}
		if res.resp != nil {
			res.resp.Body.Close()
		}
		if res.fill == nil {
			return nil, 0, res.err
		}
		return res.fill, res.fill.End, nil
	}
}

// copySegment writes a cached piece to the client: raw segments through
// io.CopyN, which reaches the connection's ReadFrom and so sendfile;
// compressed ones frame by frame, each checked as it is decoded. It returns
// the object offset reached.
func copySegment(w io.Writer, p *piece) (int64, error) {
	n := p.end - p.start
	if f, raw := p.file.RawRange(p.fileOff, n); raw {
		if _, err := f.Seek(p.fileOff, io.SeekStart); err != nil {
			return p.start, err
		}
		sent, err := io.CopyN(w, f, n)
		if err != nil {
			return p.start + sent, errClientGone
		}
		return p.end, nil
	}
	if p.file.Checked() {
		sent, err := p.file.WriteRangeTo(w, p.fileOff, n)
		if we := (*store.WriteError)(nil); errors.As(err, &we) {
			return p.start + sent, errClientGone
		}
		return p.start + sent, err
	}
	buf := relay.Buffer()
	defer relay.PutBuffer(buf)
	at := p.start
	for off := p.fileOff; at < p.end; {
		m, err := p.file.ReadAt((*buf)[:min(int64(len(*buf)), p.end-at)], off)
		if m > 0 {
			if _, werr := w.Write((*buf)[:m]); werr != nil {
				return at, errClientGone
			}
			off += int64(m)
			at += int64(m)
		}
		if err != nil && at < p.end {
			return at, err
		}
	}
	return at, nil
}

// streamFill writes [start, end) of a source to the client as it arrives.
// It returns the offset reached and, if it stopped early, why.
func streamFill(ctx context.Context, w io.Writer, f source, start, end int64) (int64, error) {
	buf := relay.Buffer()
	defer relay.PutBuffer(buf)
	off := start
	for off < end {
		n, err := f.ReadAt(ctx, (*buf)[:min(int64(len(*buf)), end-off)], off)
		if n > 0 {
			if _, werr := w.Write((*buf)[:n]); werr != nil {
				return off, errClientGone
			}
			off += int64(n)
		}
		if err != nil && off < end {
			return off, err
		}
	}
	return off, nil
}

// errClientGone means the client stopped reading.
var errClientGone = errors.New("client stopped reading")
