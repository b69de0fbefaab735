package cache

import (
	"errors"
	"io"

	"github.com/s3cache/s3cache/internal/ram"
	"github.com/s3cache/s3cache/internal/store"
)

// joinGapBelow is the size under which a cached island between two missing
// ranges is fetched again rather than costing an extra origin request.
const joinGapBelow = 1 << 20

// maxGaps bounds the origin requests one client request may cause.
const maxGaps = 8

// piece is a stretch [start, end) of a response, served from exactly one
// place: RAM, an open segment file, a fill in flight, or nowhere yet
// (missing).
type piece struct {
	start, end int64
	file       *store.SegmentFile // cached: the segment holding start at fileOff
	seg        store.Segment
	fileOff    int64
	mem        []byte // cached in RAM: the bytes of exactly [start, end)
	hold       func() // releases the segment for eviction; nil when none
	fill       source // arriving: a fill in flight here or in another instance
}

func (p *piece) missing() bool { return p.file == nil && p.fill == nil && p.mem == nil }

// release closes what the piece holds.
func (p *piece) release() {
	if p.hold != nil {
		p.hold()
		p.hold = nil
	}
	if p.file != nil {
		p.file.Close()
		p.file = nil
	}
	if p.fill != nil {
		p.fill.Release()
		p.fill = nil
	}
}

func releaseAll(pieces []piece) {
	for i := range pieces {
		pieces[i].release()
	}
}

func countMissing(pieces []piece) int {
	n := 0
	for i := range pieces {
		if pieces[i].missing() {
			n++
		}
	}
	return n
}

// plan splits [start, end) of the entry's object into pieces. Cached
// segments are opened now, so a segment removed later (superseded or
// evicted) cannot break a response already promised to the client; a
// segment that fails to open counts as missing. In-flight fills of the same
// version are joined. The caller must releaseAll the result.
func (c *Cache) plan(e *store.Entry, start, end int64) []piece {
	var pieces []piece
	skip := map[int]bool{} // segments that failed to open
	for p := start; p < end; {
		if seg, i, ok := bestSegment(e.Segments, p, skip); ok {
			to := min(seg.End, end)
			hold := c.access(e.Meta.ID(), seg, to-p)
			if b := c.segmentBytes(e.Meta, seg); b != nil {
				pieces = append(pieces, piece{start: p, end: to, mem: b[p-seg.Start : to-seg.Start], hold: hold})
				p = to
				continue
			}
			f, err := c.store.OpenSegment(seg)
			if err != nil {
				if hold != nil {
					hold()
				}
				skip[i] = true
				continue
			}
			pieces = append(pieces, piece{start: p, end: to, file: f, seg: seg, fileOff: p - seg.Start, hold: hold})
			p = to
			continue
		}
		if fl := c.fills.Join(e.Meta.ID(), e.Meta.ETag, p); fl != nil {
			c.cfg.Events.FillJoined()
			to := min(fl.End, end)
			pieces = append(pieces, piece{start: p, end: to, fill: fl})
			p = to
			continue
		}
		if rf, fillEnd := c.joinRemote(e.Meta, p); rf != nil {
			c.cfg.Events.FillJoined()
			to := min(fillEnd, end)
			pieces = append(pieces, piece{start: p, end: to, fill: rf})
			p = to
			continue
		}
		to := nextSegmentStart(e.Segments, p, end, skip)
		if n := len(pieces); n > 0 && pieces[n-1].missing() {
			pieces[n-1].end = to
		} else {
			pieces = append(pieces, piece{start: p, end: to})
		}
		p = to
	}
	return joinGaps(pieces)
}

// bestSegment returns the segment covering p that reaches furthest.
func bestSegment(segs []store.Segment, p int64, skip map[int]bool) (store.Segment, int, bool) {
	best, bi := store.Segment{}, -1
	for i, s := range segs {
		if !skip[i] && s.Start <= p && p < s.End && (bi < 0 || s.End > best.End) {
			best, bi = s, i
		}
	}
	return best, bi, bi >= 0
}

func nextSegmentStart(segs []store.Segment, p, end int64, skip map[int]bool) int64 {
	next := end
	for i, s := range segs {
		if !skip[i] && s.Start > p && s.Start < next {
			next = s.Start
		}
	}
	return next
}

// joinGaps merges missing pieces separated by small cached islands, then
// keeps merging across the smallest islands until at most maxGaps remain.
func joinGaps(pieces []piece) []piece {
	limit := int64(joinGapBelow)
	for {
		pieces = joinIslandsBelow(pieces, limit)
		if countMissing(pieces) <= maxGaps || limit > 1<<50 {
			return pieces // the rest are separated by fills, which cost nothing
		}
		limit *= 2
	}
}

func joinIslandsBelow(pieces []piece, limit int64) []piece {
	out := pieces[:0]
	for i := 0; i < len(pieces); i++ {
		p := pieces[i]
		n := len(out)
		island := p.file != nil && p.end-p.start < limit
		if island && n > 0 && out[n-1].missing() && i+1 < len(pieces) && pieces[i+1].missing() {
			p.release()
			out[n-1].end = pieces[i+1].end
			i++
			continue
		}
		out = append(out, p)
	}
	return out
}

// segmentBytes returns a small segment's bytes from the RAM tier, loading
// them from disk (checksums verified for compressed segments) when the tier
// may hold them. It returns nil for segments the tier does not take.
func (c *Cache) segmentBytes(m *store.Meta, seg store.Segment) []byte {
	n := seg.End - seg.Start
	if c.cfg.RAM == nil || !c.cfg.RAM.Eligible(n) || c.Settings(m.Bucket, m.Key).NoRAMCache {
		return nil
	}
	key := ram.SegmentKey{ID: m.ID(), ETag: m.ETag, Start: seg.Start, End: seg.End}
	if b, ok := c.cfg.RAM.Bytes(key); ok {
		return b
	}
	f, err := c.store.OpenSegment(seg)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		if errors.Is(err, store.ErrCorrupt) {
			c.store.DropCorrupt(seg, err)
		}
		return nil
	}
	c.cfg.RAM.Keep(key, b)
	return b
}

// access records a read of n bytes of seg and holds it against eviction
// until the returned func is called (nil without an Access tracker).
func (c *Cache) access(id store.ObjectID, seg store.Segment, n int64) func() {
	if c.cfg.Access == nil {
		return nil
	}
	ext := store.Extent{Start: seg.Start, End: seg.End}
	c.cfg.Access.Touch(id, ext, n)
	return c.cfg.Access.Hold(id, ext)
}
