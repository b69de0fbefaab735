package ram

import (
	"log/slog"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

func TestEntrySeesOtherInstancesWithinRecheck(t *testing.T) {
	dir := t.TempDir()
	here, _ := store.Open(dir, slog.New(slog.DiscardHandler))
	there, _ := store.Open(dir, slog.New(slog.DiscardHandler)) // another instance on the same dir
	tier, err := New(here, Config{MaxBytes: 1 << 20, MaxSegment: 1 << 10})
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	tier.now = func() time.Time { return clock }
	id := store.ObjectID{Bucket: "b", Key: "k"}
	m := &store.Meta{Bucket: "b", Key: "k", ETag: `"1"`, Size: 1, StoredAt: clock, ValidatedAt: clock}
	if err := here.PutMeta(m, clock); err != nil {
		t.Fatal(err)
	}
	if e, err := tier.Lookup(id); err != nil || e.Meta.ETag != `"1"` {
		t.Fatalf("first lookup: %v %v", e, err)
	}
	// The other instance invalidates; within RecheckEvery the tier may
	// still answer from memory, after it it must not.
	if err := there.Invalidate(id, clock.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(RecheckEvery + time.Millisecond)
	if e, err := tier.Lookup(id); err == nil {
		t.Fatalf("stale entry served after the recheck interval: %+v", e.Meta)
	}
	// This process's own writes are seen at once.
	m2 := *m
	m2.ETag = `"2"`
	here.PutMeta(&m2, clock.Add(time.Second))
	if e, err := tier.Lookup(id); err != nil || e.Meta.ETag != `"2"` {
		t.Fatalf("own write not seen: %v %v", e, err)
	}
}

func TestBytesAdmission(t *testing.T) {
	st, _ := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	tier, _ := New(st, Config{MaxBytes: 1 << 20, MaxSegment: 1 << 10})
	k := SegmentKey{ETag: `"e"`, Start: 0, End: 3}
	if tier.Eligible(2 << 10) {
		t.Error("segment above MaxSegment is eligible")
	}
	tier.Keep(k, []byte("abc"))
	if b, ok := tier.Bytes(k); !ok || string(b) != "abc" {
		t.Fatalf("kept bytes not returned: %q %v", b, ok)
	}
}
