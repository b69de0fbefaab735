package evict

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

const objectSize = 64 << 10

// fillMany stores the objects first to first+n-1.
func fillMany(t *testing.T, m *Manager, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		fill(t, m, key(i), objectSize)
	}
}

func TestEvictionReachesTargetAndKeepsHotObjects(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	m := newTestManager(t, t.TempDir(), Config{MaxBytes: 20 * objectSize}, clock)
	measureAll(t, m)
	fillMany(t, m, 0, 40)
	hot := []int{3, 11, 17, 29, 38}
	for round := range 20 {
		for _, i := range hot {
			m.Touch(objectID(key(i)), store.Extent{Start: 0, End: objectSize}, objectSize)
		}
		if round == 10 {
			cycle(t, m) // half of the counts go through journals and sidecars
		}
	}
	clock.Advance(5 * time.Minute)

	m.evictIfNeeded(context.Background())

	used, _ := m.Size()
	if c := m.Capacity(); used > c.TargetBytes {
		t.Errorf("after eviction: %d bytes accounted, target %d", used, c.TargetBytes)
	}
	if du := walkedSize(t, m.st.Dir()); du > m.Capacity().TargetBytes {
		t.Errorf("after eviction: walk says %d bytes, target %d", du, m.Capacity().TargetBytes)
	}
	for _, i := range hot {
		if !cached(m, key(i)) {
			t.Errorf("hot object %d was evicted", i)
		}
	}
	if st := m.Stats(); st.EvictedSegments == 0 || st.EvictionPasses != 1 {
		t.Errorf("stats %+v", st)
	}
	// An object evicted whole leaves no directory behind.
	left := 0
	for i := range 40 {
		if _, err := m.st.ListObjectDir(objectID(key(i)).Hash()); err == nil {
			left++
		}
	}
	kept := 0
	for i := range 40 {
		if cached(m, key(i)) {
			kept++
		}
	}
	if left != kept {
		t.Errorf("%d object directories for %d cached objects", left, kept)
	}
}

func TestRecentSegmentsAreSparedUnlessCritical(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	m := newTestManager(t, t.TempDir(), Config{MaxBytes: 20 * objectSize}, clock)
	measureAll(t, m)
	fillMany(t, m, 0, 19) // 95% and metadata: over the trigger, not over the limit
	clock.Advance(30 * time.Second)

	m.evictIfNeeded(context.Background())
	if st := m.Stats(); st.EvictedSegments != 0 || st.YoungSegmentsSpared == 0 {
		t.Fatalf("segments touched 30s ago: evicted %d, spared %d", st.EvictedSegments, st.YoungSegmentsSpared)
	}
	for i := range 19 {
		if !cached(m, key(i)) {
			t.Fatalf("object %d evicted", i)
		}
	}

	fillMany(t, m, 19, 5) // 120%: over the limit, critical
	m.evictIfNeeded(context.Background())
	if used, _ := m.Size(); used > m.Capacity().TargetBytes {
		t.Errorf("critical usage: %d bytes left, target %d", used, m.Capacity().TargetBytes)
	}
}

func TestOnlyOneEvictorActs(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{now: time.Now().Add(time.Hour)}
	a := newTestManager(t, dir, Config{MaxBytes: 10 * objectSize}, clock)
	b := newTestManager(t, dir, Config{MaxBytes: 10 * objectSize}, clock)
	measureAll(t, a)
	fillMany(t, a, 0, 20)
	cycle(t, a)
	b.refreshView()

	lock, err := a.lock(evictionLock)
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	b.evictIfNeeded(context.Background())
	if st := b.Stats(); st.EvictionsSkipped != 1 || st.EvictedSegments != 0 {
		t.Errorf("b evicted while a held the lock: %+v", st)
	}
	lock.Release()

	// a's lock is taken over mid-pass (a was presumed dead): a stops at the
	// next batch.
	batches := 0
	a.beforeBatch = func() {
		if batches++; batches == 1 {
			path := filepath.Join(dir, "v1", "size", evictionLock+".lock")
			if err := os.WriteFile(path, []byte(`{"owner":"someone else"}`), 0o640); err != nil {
				t.Error(err)
			}
		}
	}
	a.evictIfNeeded(context.Background())
	if st := a.Stats(); st.EvictionsAborted != 1 || st.EvictedSegments != 0 {
		t.Errorf("a went on after losing the lock: %+v", st)
	}
}

func TestAbandonedLockIsStolen(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir, Config{}, nil)
	path := filepath.Join(dir, "v1", "size", evictionLock+".lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"owner":"crashed"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	if l, err := m.lock(evictionLock); err != nil || l != nil {
		t.Fatalf("a live lock was taken: %v", err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	l, err := m.lock(evictionLock)
	if err != nil || l == nil {
		t.Fatalf("abandoned lock not stolen: %v", err)
	}
	defer l.Release()
	if !l.Stolen() || m.Stats().LockSteals != 1 || !l.Held() {
		t.Errorf("stolen %v, steals %d, held %v", l.Stolen(), m.Stats().LockSteals, l.Held())
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	m := newTestManager(t, t.TempDir(), Config{MaxBytes: 1 << 30, FlushEvery: 10 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	fill(t, m, "a", 1000)
	// The startup scan walks 256 shards: generous under -race on a busy box.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if size, ok := m.Size(); ok && size >= 1000 && m.Stats().StartupScanDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("size never known: %+v", m.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestHeldSegmentIsNotEvicted(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	m := newTestManager(t, t.TempDir(), Config{MaxBytes: 10 * objectSize}, clock)
	measureAll(t, m)
	fillMany(t, m, 0, 12)
	clock.Advance(2 * time.Hour)
	release := m.Hold(objectID(key(0)), store.Extent{Start: 0, End: objectSize})
	cycle(t, m) // the hold reaches the journals, as another instance would see it

	m.evictIfNeeded(context.Background())
	if !cached(m, key(0)) {
		t.Error("a held segment was evicted")
	}
	release()
	if m.Stats().EvictedSegments == 0 {
		t.Error("nothing evicted")
	}
}

func TestAccessCountHalvesPerIdleHour(t *testing.T) {
	s := accessStat{Count: 16, Last: 0}
	for hours, want := range map[int64]int64{0: 16, 1: 8, 3: 2, 5: 0, 100: 0} {
		if got := s.decayed(hours*3600 + 59); got != want {
			t.Errorf("after %dh idle: %d, want %d", hours, got, want)
		}
	}
	// Folding newer accesses decays the old count to their time first.
	got := s.add(accessStat{Count: 3, Last: 2 * 3600})
	if got != (accessStat{Count: 4 + 3, Last: 2 * 3600}) {
		t.Errorf("add: %+v", got)
	}
}
