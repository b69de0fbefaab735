package fill

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

func newFill(t *testing.T, size int64) (*Fill, *store.Store, context.Context) {
	t.Helper()
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	id := store.ObjectID{Bucket: "b", Key: "k"}
	w, err := st.NewSegmentWriter(id, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	return New(id, `"e"`, 0, size, w, cancel), st, ctx
}

func meta(size int64) *store.Meta {
	now := time.Now()
	return &store.Meta{Bucket: "b", Key: "k", ETag: `"e"`, Size: size, StoredAt: now, ValidatedAt: now}
}

// A reader that joins while the body is still arriving gets every byte,
// before the fill is done.
func TestReaderFollowsGrowingFill(t *testing.T) {
	f, st, _ := newFill(t, 6)
	pr, pw := io.Pipe()
	f.Acquire()
	go f.Run(pr, make([]byte, 4), func(w *store.SegmentWriter, complete bool) { w.Commit(meta(6)) })
	pw.Write([]byte("abc"))
	buf := make([]byte, 6)
	n, err := f.ReadAt(t.Context(), buf, 0)
	if err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("first read %q %v, want the bytes so far", buf[:n], err)
	}
	go func() { pw.Write([]byte("def")); pw.Close() }()
	n, err = f.ReadAt(t.Context(), buf, 3)
	if err != nil || string(buf[:n]) != "def" {
		t.Fatalf("second read %q %v", buf[:n], err)
	}
	f.Release()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if e, err := st.Lookup(store.ObjectID{Bucket: "b", Key: "k"}); err == nil && len(e.Segments) == 1 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("complete fill was not committed")
}

// When the last reader leaves, the fetch is cancelled and the prefix kept.
func TestLastReaderLeavingCancelsAndKeepsPrefix(t *testing.T) {
	f, st, ctx := newFill(t, 100)
	f.Acquire()
	body := &blockingBody{ctx: ctx, data: []byte("0123456789")}
	done := make(chan struct{})
	go func() {
		f.Run(body, make([]byte, 64), func(w *store.SegmentWriter, complete bool) {
			if complete {
				t.Error("fill reported complete")
			}
			w.Commit(meta(100))
		})
		close(done)
	}()
	buf := make([]byte, 10)
	if _, err := f.ReadAt(t.Context(), buf, 0); err != nil {
		t.Fatal(err)
	}
	f.Release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("fetch not cancelled after the last reader left")
	}
	e, err := st.Lookup(store.ObjectID{Bucket: "b", Key: "k"})
	if err != nil || len(e.Segments) != 1 || e.Segments[0].End != 10 {
		t.Fatalf("prefix not kept: %+v %v", e, err)
	}
	if f.Acquire() {
		t.Error("a stopped fill accepted a new reader")
	}
	if _, err := f.ReadAt(t.Context(), buf, 50); !errors.Is(err, ErrStopped) {
		t.Errorf("read past the stop: %v", err)
	}
}

// blockingBody yields its data, then blocks until ctx ends, like an origin
// body whose request context gets cancelled.
type blockingBody struct {
	ctx  context.Context
	data []byte
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func TestRegistryJoinsOnlyMatchingVersion(t *testing.T) {
	f, _, _ := newFill(t, 10)
	r := NewRegistry()
	r.Add(f)
	if g := r.Join(f.ID, `"other"`, 0); g != nil {
		t.Error("joined a fill of another ETag")
	}
	if g := r.Join(f.ID, `"e"`, 10); g != nil {
		t.Error("joined a fill that does not reach the offset")
	}
	if g := r.Join(f.ID, `"e"`, 5); g != f {
		t.Error("did not join a matching fill")
	}
	go f.Run(bytes.NewReader(make([]byte, 10)), make([]byte, 4), func(w *store.SegmentWriter, complete bool) { w.Abort() })
	f.Release()
}
