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
	b, _ := io.ReadAll(io.NewSectionReader(f, 0, seg.End-seg.Start))
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
	if err := os.Truncate(e.Segments[0].path, 4); err != nil { // raw: size is checked
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

func TestCompressedSegments(t *testing.T) {
	s := openTest(t)
	s.EnableCompression(true)
	id := ObjectID{Bucket: "b", Key: "logs/app.log"}
	body := strings.Repeat("2026-11-26T15:00:00Z INFO request served bucket=b key=k bytes=1234\n", 20000)
	if err := fill(t, s, id, `"v"`, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	e, err := s.Lookup(id)
	if err != nil || len(e.Segments) != 1 || !e.Segments[0].Compressed {
		t.Fatalf("want one compressed segment: %+v %v", e, err)
	}
	if got := read(t, s, id); got != body {
		t.Fatal("compressed segment read back wrong")
	}
	info, _ := os.Stat(e.Segments[0].path)
	if info.Size()*2 > int64(len(body)) {
		t.Errorf("log text stored in %d bytes for %d: want >= 2x", info.Size(), len(body))
	}
	// A corrupt frame is detected on read; a corrupt footer on open.
	f, _ := os.OpenFile(e.Segments[0].path, os.O_RDWR, 0)
	f.WriteAt([]byte{0xff, 0xff, 0xff}, 40)
	f.Close()
	sf, err := s.OpenSegment(e.Segments[0])
	if err == nil {
		_, err = sf.ReadAt(make([]byte, 100), 0)
		sf.Close()
	}
	if err == nil {
		t.Fatal("corruption not detected")
	}
}

func TestFillLockOfDeadOwnerIsStolen(t *testing.T) {
	s := openTest(t)
	id := ObjectID{Bucket: "b", Key: "k"}
	l, err := s.LockFill(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	other := openTest(t)
	other.locks = s.locks // another instance on the same directory
	if _, err := other.LockFill(id, 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("a live lock was taken: %v", err)
	}
	l.stop <- struct{}{} // stop the heartbeat without removing the lock
	// Pretend the owner was a process of this host that has exited.
	host, _ := os.Hostname()
	os.WriteFile(l.path, []byte(`{"owner":"`+host+`-999999999-x"}`), 0o640)
	if _, err := other.LockFill(id, 0); err != nil {
		t.Fatalf("lock of a dead owner not stolen: %v", err)
	}
}
