package evict

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// Tracker counts this instance's accesses per segment in memory until they
// are written out as an access journal.
type Tracker struct {
	mu      sync.Mutex
	pending map[segmentKey]*touch
	held    map[segmentKey]int
	limit   int
	now     func() time.Time

	dropped      atomic.Int64
	touchedBytes atomic.Int64
}

// segmentKey names a segment across instances: its object's directory name
// and its extent.
type segmentKey struct {
	hash       string
	start, end int64
}

type touch struct {
	count int64
	last  int64 // Unix seconds
}

func newTracker(limit int, now func() time.Time) *Tracker {
	return &Tracker{pending: map[segmentKey]*touch{}, held: map[segmentKey]int{}, limit: limit, now: now}
}

// Touch records one access to the segment seg of object id that served
// bytes. It never blocks on I/O.
func (t *Tracker) Touch(id store.ObjectID, seg store.Extent, bytes int64) {
	key := segmentKey{hash: id.Hash(), start: seg.Start, end: seg.End}
	now := t.now().Unix()
	t.touchedBytes.Add(bytes)
	t.mu.Lock()
	defer t.mu.Unlock()
	if tc, ok := t.pending[key]; ok {
		tc.count++
		tc.last = max(tc.last, now)
		return
	}
	if len(t.pending) >= t.limit {
		t.dropped.Add(1)
		return
	}
	t.pending[key] = &touch{count: 1, last: now}
}

// Hold marks the segment as being read until release is called.
func (t *Tracker) Hold(id store.ObjectID, seg store.Extent) (release func()) {
	key := segmentKey{hash: id.Hash(), start: seg.Start, end: seg.End}
	t.mu.Lock()
	t.held[key]++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			if t.held[key]--; t.held[key] <= 0 {
				delete(t.held, key)
			}
		})
	}
}

// drain returns the accesses counted since the last drain, with every held
// segment as accessed now, and starts counting afresh.
func (t *Tracker) drain() []touchRecord {
	now := t.now().Unix()
	t.mu.Lock()
	pending := t.pending
	t.pending = make(map[segmentKey]*touch, len(pending))
	out := make([]touchRecord, 0, len(pending)+len(t.held))
	for key := range t.held {
		if _, ok := pending[key]; !ok {
			out = append(out, touchRecord{Hash: key.hash, Start: key.start, End: key.end, Last: now})
		}
	}
	t.mu.Unlock()
	for key, tc := range pending {
		out = append(out, touchRecord{Hash: key.hash, Start: key.start, End: key.end, Count: tc.count, Last: tc.last})
	}
	return out
}

// restore puts back records whose journal could not be written.
func (t *Tracker) restore(recs []touchRecord) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range recs {
		key := segmentKey{hash: r.Hash, start: r.Start, end: r.End}
		if tc, ok := t.pending[key]; ok {
			tc.count += r.Count
			tc.last = max(tc.last, r.Last)
		} else if len(t.pending) < t.limit {
			t.pending[key] = &touch{count: r.Count, last: r.Last}
		}
	}
}

// snapshot returns the accesses counted but not written out, held segments
// included, without draining them.
func (t *Tracker) snapshot() []touchRecord {
	now := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]touchRecord, 0, len(t.pending)+len(t.held))
	for key, tc := range t.pending {
		out = append(out, touchRecord{Hash: key.hash, Start: key.start, End: key.end, Count: tc.count, Last: tc.last})
	}
	for key := range t.held {
		out = append(out, touchRecord{Hash: key.hash, Start: key.start, End: key.end, Last: now})
	}
	return out
}

// touchRecord is one segment's accesses in an access journal.
type touchRecord struct {
	Hash  string `json:"h"`
	Start int64  `json:"s"`
	End   int64  `json:"e"`
	Count int64  `json:"n"`
	Last  int64  `json:"t"` // Unix seconds of the latest access
}

// accessJournal is v1/access/touch-<instance>-<seq>.json: one instance's
// accesses over one flush interval.
type accessJournal struct {
	Format    int           `json:"format"`
	Instance  string        `json:"instance"`
	WrittenAt time.Time     `json:"written_at"`
	Touches   []touchRecord `json:"touches"`
}

const (
	accessArea    = "access"
	journalPrefix = "touch-"
)

// flushTouches writes the accesses counted since the last flush as a new
// journal file.
func (m *Manager) flushTouches() error {
	recs := m.tracker.drain()
	if len(recs) == 0 {
		return nil
	}
	seq := m.journalSeq.Add(1)
	j := accessJournal{Format: fileFormat, Instance: m.instance, WrittenAt: time.Now(), Touches: recs}
	if err := m.writeSeqFile(accessArea, journalPrefix, seq, j); err != nil {
		m.tracker.restore(recs)
		return err
	}
	return nil
}
