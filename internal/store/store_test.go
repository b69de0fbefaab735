package store

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fill(t *testing.T, s *Store, id ObjectID, etag, body string, startedAt time.Time) error {
	t.Helper()
	w, err := s.NewSegmentWriter(id, 0, startedAt)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	io.WriteString(w, body)
	m := &Meta{Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, VersionID: id.VersionID,
		ETag: etag, Size: int64(len(body)), Header: http.Header{"Content-Type": {"text/plain"}},
		StoredAt: startedAt, ValidatedAt: startedAt}
	return w.Commit(m)
}

func read(t *testing.T, s *Store, id ObjectID) string {
	t.Helper()
	e, err := s.Lookup(id)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	seg, ok := e.Covering(0, e.Meta.Size)
	if !ok {
		return "<no segment>"
	}
	f, err := s.OpenSegment(seg)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestFillThenLookup(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Endpoint: "e", Bucket: "b", Key: "../../etc/passwd"}
	now := time.Now()
	if err := fill(t, s, id, `"v1"`, "hello", now); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, id); got != "hello" {
		t.Fatalf("read %q", got)
	}
	// The key never becomes a path: everything stays under the cache dir.
	filepath.Walk(s.Dir(), func(p string, info os.FileInfo, err error) error {
		if strings.Contains(p, "passwd") {
			t.Errorf("key leaked into path %s", p)
		}
		return nil
	})
	// A new version replaces the old one's segments.
	if err := fill(t, s, id, `"v2"`, "world!", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, id); got != "world!" {
		t.Fatalf("after overwrite read %q", got)
	}
	// Versioned ids are separate entries.
	if got := read(t, s, ObjectID{Endpoint: "e", Bucket: "b", Key: "../../etc/passwd", VersionID: "x"}); !strings.Contains(got, "not cached") {
		t.Fatalf("version leaked: %q", got)
	}
}

func TestInvalidationBeatsOlderFill(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Bucket: "b", Key: "k"}
	started := time.Now()
	if err := s.Invalidate(id, started.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := fill(t, s, id, `"old"`, "stale", started); !errors.Is(err, ErrSuperseded) {
		t.Fatalf("fill that started before the invalidation committed: %v", err)
	}
	if got := read(t, s, id); !strings.Contains(got, "not cached") {
		t.Fatalf("read %q after invalidation", got)
	}
	if err := fill(t, s, id, `"new"`, "fresh", started.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got := read(t, s, id); got != "fresh" {
		t.Fatalf("read %q", got)
	}
}

func TestCorruptSegmentIsDropped(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Bucket: "b", Key: "k"}
	if err := fill(t, s, id, `"v"`, "0123456789", time.Now()); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Lookup(id)
	if err := os.Truncate(e.Segments[0].path, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenSegment(e.Segments[0]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short segment opened: %v", err)
	}
	if e, _ := s.Lookup(id); len(e.Segments) != 0 {
		t.Fatal("corrupt segment still listed")
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Bucket: "b", Key: "k"}
	w, _ := s.NewSegmentWriter(id, 0, time.Now())
	io.WriteString(w, "partial")
	w.Close()
	if _, err := s.Lookup(id); !errors.Is(err, ErrNotCached) {
		t.Fatalf("aborted fill visible: %v", err)
	}
	if ents, _ := os.ReadDir(s.tmp); len(ents) != 0 {
		t.Fatalf("temp files left: %d", len(ents))
	}
}
