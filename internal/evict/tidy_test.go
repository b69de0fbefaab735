package evict

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/config"
)

// scanEverything runs a scan of every shard at the manager's clock.
func scanEverything(t *testing.T, m *Manager) {
	t.Helper()
	lock, err := m.lock(accountingLock)
	if err != nil || lock == nil {
		t.Fatalf("lock: %v", err)
	}
	defer lock.Release()
	for shard := range 256 {
		if _, err := m.scanShard(context.Background(), lock, shard); err != nil {
			t.Fatal(err)
		}
	}
	m.refreshView()
}

func TestScansRemoveOldTombstonesAndOrphans(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	m := newTestManager(t, t.TempDir(), Config{}, clock)
	measureAll(t, m)
	fill(t, m, "kept", 1000)
	fill(t, m, "deleted", 1000)
	if err := m.st.Invalidate(objectID("deleted"), time.Now()); err != nil {
		t.Fatal(err)
	}
	fill(t, m, "orphan", 1000)
	orphan, err := m.st.ListObjectDir(objectID("orphan").Hash())
	if err != nil {
		t.Fatal(err)
	}
	// A writer that died between the segment and meta.json.
	if err := os.Remove(filepath.Join(m.st.Dir(), "v1", "objects", orphan.Hash[:2], orphan.Hash[2:4], orphan.Hash, "meta.json")); err != nil {
		t.Fatal(err)
	}

	scanEverything(t, m) // everything is young: nothing goes
	if _, err := m.st.ListObjectDir(objectID("deleted").Hash()); err != nil {
		t.Fatalf("a fresh tombstone was removed: %v", err)
	}

	clock.Advance(2 * time.Hour)
	scanEverything(t, m)
	for key, want := range map[string]bool{"kept": true, "deleted": false, "orphan": false} {
		_, err := m.st.ListObjectDir(objectID(key).Hash())
		if got := err == nil; got != want {
			t.Errorf("%s: directory present %v, want %v", key, got, want)
		}
	}
	if st := m.Stats(); st.TombstonesRemoved != 1 || st.OrphansRemoved != 1 {
		t.Errorf("stats %+v", st)
	}
	if size, _ := m.Size(); size != walkedSize(t, m.st.Dir()) {
		t.Errorf("size %d after tidying, walk says %d", size, walkedSize(t, m.st.Dir()))
	}
}

func TestActiveExpiryDeletesObjectsOlderThanTheTTL(t *testing.T) {
	for _, active := range []bool{false, true} {
		clock := &fakeClock{now: time.Now()}
		m := newTestManager(t, t.TempDir(), Config{ActiveExpiry: active, GetTTL: time.Hour}, clock)
		measureAll(t, m)
		fill(t, m, "old", 1000)
		clock.Advance(90 * time.Minute)
		scanEverything(t, m)
		if got := cached(m, "old"); got == active {
			t.Errorf("active expiry %v: expired object cached %v", active, got)
		}
	}
}

func TestSweepRemovesAbandonedFiles(t *testing.T) {
	m := newTestManager(t, t.TempDir(), Config{}, nil)
	root := filepath.Join(m.st.Dir(), "v1")
	old := time.Now().Add(-2 * time.Hour)
	files := map[string]bool{ // path: removed by the sweep
		filepath.Join(root, "tmp", "abc.0123.tmp"):             true,
		filepath.Join(root, "tmp", "fresh.tmp"):                false,
		filepath.Join(root, "locks", "deadbeef-0.lock"):        true,
		filepath.Join(root, "size", ".state.json.1234.tmp"):    true,
		filepath.Join(root, "access", ".touch-x-1.json.9.tmp"): true,
	}
	for path := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
		if filepath.Base(path) != "fresh.tmp" {
			if err := os.Chtimes(path, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	m.sweep()
	for path, removed := range files {
		_, err := os.Stat(path)
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", filepath.Base(path), gone, removed)
		}
	}
	if m.Stats().StaleLocksRemoved != 1 {
		t.Errorf("stale locks removed: %d", m.Stats().StaleLocksRemoved)
	}
}

func TestConfigFromDefaultsIsValid(t *testing.T) {
	c := ConfigFrom(config.Default())
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MaxBytes != 0 || c.TriggerPercent != 95 || c.TargetPercent != 80 || c.Policy != PolicyTinyLFU {
		t.Errorf("%+v", c)
	}
}
