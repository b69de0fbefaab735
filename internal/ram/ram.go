package ram

import (
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/s3cache/s3cache/internal/store"
)

// RecheckEvery bounds how stale an entry may be relative to the directory.
const RecheckEvery = time.Second

// Config sizes the tier.
type Config struct {
	// MaxBytes bounds the segment bytes held; 0 disables the byte tier.
	MaxBytes int64
	// MaxSegment is the largest segment kept in memory.
	MaxSegment int64
	// MaxEntries bounds the object entries held.
	MaxEntries int
}

// Tier is the RAM tier over one store.
type Tier struct {
	st         *store.Store
	entries    *otter.Cache[store.ObjectID, *cachedEntry]
	bytes      *otter.Cache[SegmentKey, []byte]
	maxSegment int64
	now        func() time.Time

	entryHits, byteHits, byteMisses atomic.Int64
	// forgets counts Forget calls: a Lookup that saw it move while it read
	// does not keep what it read, since the Forget may have run before the
	// entry was stored and would be undone.
	forgets atomic.Uint64
}

type cachedEntry struct {
	entry   *store.Entry
	stamp   store.Stamp
	checked atomic.Int64 // unix nanoseconds of the last stamp check
}

// SegmentKey names a segment's bytes: immutable for a given ETag.
type SegmentKey struct {
	ID         store.ObjectID
	ETag       string
	Start, End int64
}

// New builds a tier and subscribes it to the store's changes.
func New(st *store.Store, cfg Config) (*Tier, error) {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 100_000
	}
	entries, err := otter.New(&otter.Options[store.ObjectID, *cachedEntry]{MaximumSize: cfg.MaxEntries})
	if err != nil {
		return nil, err
	}
	t := &Tier{st: st, entries: entries, maxSegment: cfg.MaxSegment, now: time.Now}
	if cfg.MaxBytes > 0 && cfg.MaxSegment > 0 {
		t.bytes, err = otter.New(&otter.Options[SegmentKey, []byte]{
			MaximumWeight: uint64(cfg.MaxBytes),
			Weigher:       func(_ SegmentKey, b []byte) uint32 { return uint32(min(len(b)+64, 1<<31)) },
		})
		if err != nil {
			return nil, err
		}
	}
	st.OnChange(t.Forget)
	return t, nil
}

// Forget drops what the tier knows about an object.
func (t *Tier) Forget(id store.ObjectID) {
	t.forgets.Add(1)
	t.entries.Invalidate(id)
}

// Lookup returns the object's entry, from memory when the directory has not
// changed since it was read. It has store.Lookup's errors.
func (t *Tier) Lookup(id store.ObjectID) (*store.Entry, error) {
	now := t.now()
	if ce, ok := t.entries.GetIfPresent(id); ok {
		if now.UnixNano()-ce.checked.Load() < int64(RecheckEvery) {
			t.entryHits.Add(1)
			return ce.entry, nil
		}
		if st, ok := t.st.Stamp(id); ok && st == ce.stamp {
			ce.checked.Store(now.UnixNano())
			t.entryHits.Add(1)
			return ce.entry, nil
		}
		t.entries.Invalidate(id)
	}
	// Stamp before and after the read: only an entry read while the
	// directory stood still, and while this process forgot nothing, is kept.
	forgets := t.forgets.Load()
	stamp, ok := t.st.Stamp(id)
	if !ok {
		return nil, store.ErrNotCached // the common cold miss: two stats, no open
	}
	e, err := t.st.Lookup(id)
	if err != nil {
		return nil, err
	}
	if again, ok := t.st.Stamp(id); !ok || again != stamp {
		// Changed while being read (a fill committing): serve what was
		// read, but do not keep it, or a Forget that ran meanwhile would
		// be undone for up to RecheckEvery.
		return e, nil
	}
	ce := &cachedEntry{entry: e, stamp: stamp}
	ce.checked.Store(now.UnixNano())
	t.entries.Set(id, ce)
	if t.forgets.Load() != forgets {
		t.entries.Invalidate(id)
	}
	return e, nil
}

// Bytes returns a segment's bytes if the tier holds them.
func (t *Tier) Bytes(k SegmentKey) ([]byte, bool) {
	if t.bytes == nil {
		return nil, false
	}
	b, ok := t.bytes.GetIfPresent(k)
	if ok {
		t.byteHits.Add(1)
	} else {
		t.byteMisses.Add(1)
	}
	return b, ok
}

// Eligible reports whether a segment of n bytes may be held in memory.
func (t *Tier) Eligible(n int64) bool { return t.bytes != nil && n <= t.maxSegment }

// Keep offers a segment's bytes to the tier; admission decides.
func (t *Tier) Keep(k SegmentKey, b []byte) {
	if t.Eligible(int64(len(b))) {
		t.bytes.Set(k, b)
	}
}

// Stats are counters for metrics.
type Stats struct {
	EntryHits, ByteHits, ByteMisses int64
	Bytes                           uint64
}

// Stats reports the tier's counters.
func (t *Tier) Stats() Stats {
	s := Stats{EntryHits: t.entryHits.Load(), ByteHits: t.byteHits.Load(), ByteMisses: t.byteMisses.Load()}
	if t.bytes != nil {
		s.Bytes = t.bytes.WeightedSize()
	}
	return s
}
