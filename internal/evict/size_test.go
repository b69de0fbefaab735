package evict

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestTwoInstancesMergeToWalkedSize(t *testing.T) {
	dir := t.TempDir()
	a := newTestManager(t, dir, Config{}, nil)
	b := newTestManager(t, dir, Config{}, nil)
	measureAll(t, a)
	measureAll(t, b)

	var wg sync.WaitGroup
	for n, m := range []*Manager{a, b} {
		wg.Go(func() {
			for i := range 60 {
				fill(t, m, key(n*1000+i), 20_000+i*3_000)
				if i%7 == 6 {
					cycle(t, m)
				}
			}
		})
	}
	wg.Wait()
	cycle(t, a)
	cycle(t, b)
	cycle(t, a)

	du := walkedSize(t, dir)
	for name, m := range map[string]*Manager{"a": a, "b": b} {
		size, ok := m.Size()
		if !ok {
			t.Fatalf("%s: size unknown", name)
		}
		if diff := float64(size-du) / float64(du); diff > 0.05 || diff < -0.05 {
			t.Errorf("%s: accounted %d bytes, walk says %d (%.2f%%)", name, size, du, 100*diff)
		}
		t.Logf("%s: accounted %d, walked %d", name, size, du)
	}
	deltas, _ := filepath.Glob(filepath.Join(dir, "v1", "size", "delta-*"))
	if len(deltas) != 0 {
		t.Errorf("merged delta files left behind: %v", deltas)
	}

	// A scan of every shard makes the account exact.
	lock, err := a.lock(accountingLock)
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	for shard := range 256 {
		if _, err := a.scanShard(context.Background(), lock, shard); err != nil {
			t.Fatal(err)
		}
	}
	lock.Release()
	a.refreshView()
	if size, _ := a.Size(); size != du {
		t.Errorf("after a full scan: accounted %d, walk says %d", size, du)
	}
}

func TestMergeSkipsDeltasCountedByADeadMerger(t *testing.T) {
	dir := t.TempDir()
	m := newTestManager(t, dir, Config{}, nil)
	measureAll(t, m)
	m.Added(3, 1000)
	if err := m.flushDeltas(); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "v1", "size", "delta-*"))
	if len(names) != 1 {
		t.Fatalf("delta files: %v", names)
	}
	saved, _ := os.ReadFile(names[0])
	cycle(t, m)
	// A merger that died after writing state.json but before deleting.
	if err := os.WriteFile(names[0], saved, 0o640); err != nil {
		t.Fatal(err)
	}
	cycle(t, m)
	if size, _ := m.Size(); size != 1000 {
		t.Errorf("size %d, want 1000 (a delta counted twice?)", size)
	}
	if _, err := os.Stat(names[0]); !os.IsNotExist(err) {
		t.Errorf("the counted delta file was not deleted: %v", err)
	}
}

func TestSizeUnknownUntilEveryShardMeasured(t *testing.T) {
	m := newTestManager(t, t.TempDir(), Config{}, nil)
	m.refreshView()
	if _, ok := m.Size(); ok {
		t.Fatal("size known before any scan")
	}
	fill(t, m, "a", 5000)
	measureAll(t, m)
	if size, ok := m.Size(); !ok || size < 5000 {
		t.Errorf("size %d, %v after the scan", size, ok)
	}
}
