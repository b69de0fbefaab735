package evict

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// fakeClock is a settable clock for the managers under test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestManager(t testing.TB, dir string, cfg Config, clock *fakeClock) *Manager {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	st, err := store.Open(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(cfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	if clock != nil {
		m.now = clock.Now
	}
	return m
}

func objectID(key string) store.ObjectID {
	return store.ObjectID{Endpoint: "http://origin", Bucket: "bucket", Key: key}
}

// fill stores a whole object of size bytes through the store and reports it
// the way the store's SizeObserver hook will.
func fill(t testing.TB, m *Manager, key string, size int) {
	t.Helper()
	id := objectID(key)
	now := time.Now()
	before := objectBytes(m, id)
	w, err := m.st.NewSegmentWriter(id, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := io.Copy(w, io.LimitReader(strings.NewReader(strings.Repeat("x", size)), int64(size))); err != nil {
		t.Fatal(err)
	}
	meta := &store.Meta{Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, ETag: `"` + key + `"`,
		Size: int64(size), Header: http.Header{"Content-Type": {"application/octet-stream"}}, StoredAt: now, ValidatedAt: now}
	if err := w.Commit(meta); err != nil {
		t.Fatal(err)
	}
	if grown := objectBytes(m, id) - before; grown >= 0 {
		m.Added(id.Shard(), grown)
	} else {
		m.Removed(id.Shard(), -grown)
	}
	m.Touch(id, store.Extent{Start: 0, End: int64(size)}, int64(size))
}

// objectBytes is the size of the object's directory: what the store's
// SizeObserver hook reports the changes of.
func objectBytes(m *Manager, id store.ObjectID) int64 {
	d, err := m.st.ListObjectDir(id.Hash())
	if err != nil {
		return 0
	}
	return d.Bytes()
}

// cached reports whether the object's whole body is in the store.
func cached(m *Manager, key string) bool {
	e, err := m.st.Lookup(objectID(key))
	if err != nil {
		return false
	}
	_, ok := e.Covering(0, e.Meta.Size)
	return ok
}

// walkedSize is what du --apparent-size says of the object tree.
func walkedSize(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(filepath.Join(dir, "v1", "objects"), func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return total
}

// measureAll runs the startup scan to completion.
func measureAll(t testing.TB, m *Manager) {
	t.Helper()
	m.startupScan(context.Background())
	m.refreshView()
	if _, ok := m.Size(); !ok {
		t.Fatal("size unknown after the startup scan")
	}
}

// cycle writes out this instance's deltas and accesses and runs one
// accounting cycle with a fold.
func cycle(t testing.TB, m *Manager) {
	t.Helper()
	if err := m.flushDeltas(); err != nil {
		t.Fatal(err)
	}
	if err := m.flushTouches(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		did, err := m.accountingCycle(context.Background(), true, false)
		if err != nil {
			t.Fatal(err)
		}
		if did {
			m.refreshView()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("accounting lock never free")
}

func key(i int) string { return fmt.Sprintf("obj/%05d", i) }
