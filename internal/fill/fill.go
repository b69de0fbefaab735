package fill

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/s3cache/s3cache/internal/store"
)

// Fill is one in-flight origin body for the object bytes [Start, End).
type Fill struct {
	ID    store.ObjectID
	ETag  string
	Start int64
	End   int64
	// Meta describes the object version; set before the fill is
	// registered, read-only after.
	Meta *store.Meta

	w      *store.SegmentWriter
	cancel context.CancelFunc

	mu       sync.Mutex
	written  int64         // bytes in w readable by readers
	done     bool          // no more bytes will come
	err      error         // why the fill stopped early, if it did
	more     chan struct{} // closed and replaced whenever written or done changes
	readers  int
	closed   bool // w is closed: nobody can read any more
	detached bool // the fill holds a reader of its own until done
}

// New prepares a fill that writes into w. cancel stops the origin fetch; it
// is called when the last reader leaves before the fill is done.
func New(id store.ObjectID, etag string, start, end int64, w *store.SegmentWriter, cancel context.CancelFunc) *Fill {
	return &Fill{ID: id, ETag: etag, Start: start, End: end, w: w, cancel: cancel, more: make(chan struct{})}
}

// Run copies body into the fill until it ends, then finishes the fill with
// commit, which receives the segment writer to publish (or abort) what
// arrived. Readers may wait on the fill only while Run is going. Readers
// have every byte before commit runs; the fill stays registered until it
// returns, so requests that follow meanwhile find it.
func (f *Fill) Run(body io.Reader, buf []byte, commit func(w *store.SegmentWriter, complete bool)) {
	want := f.End - f.Start
	var got int64
	var err error
	for got < want {
		n, rerr := body.Read(buf[:min(int64(len(buf)), want-got)])
		if n > 0 {
			if _, werr := f.w.Write(buf[:n]); werr != nil {
				err = werr
				break
			}
			got += int64(n)
			f.publish(got)
		}
		if rerr != nil {
			err = rerr
			break
		}
	}
	switch {
	case got == want:
		err = nil
	case err == nil || err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	commit(f.w, err == nil)
	f.mu.Lock()
	f.done, f.err = true, err
	f.signalLocked()
	if f.detached {
		f.detached = false
		f.readers--
	}
	last := f.readers == 0
	f.closed = last
	f.mu.Unlock()
	if last {
		f.w.Close()
	}
}

// publish makes the first n bytes readable.
func (f *Fill) publish(n int64) {
	f.mu.Lock()
	f.written = n
	f.signalLocked()
	f.mu.Unlock()
}

// Detach makes the fill run to its end even if every reader leaves (a
// read-ahead page nobody is waiting for yet). Call it before Run ends.
func (f *Fill) Detach() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.detached && !f.done {
		f.detached = true
		f.readers++
	}
}

func (f *Fill) signalLocked() {
	close(f.more)
	f.more = make(chan struct{})
}

// Acquire registers a reader. It fails once the fill has stopped early, so a
// new reader never joins a fill that cannot give it all its bytes.
func (f *Fill) Acquire() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || (f.done && f.err != nil) {
		return false
	}
	f.readers++
	return true
}

// Release ends a reader. The last reader to leave an unfinished fill
// cancels its origin fetch; the bytes that arrived are still committed.
func (f *Fill) Release() {
	f.mu.Lock()
	f.readers--
	last := f.readers == 0
	done := f.done
	f.closed = last && done
	f.mu.Unlock()
	if !last {
		return
	}
	if done {
		f.w.Close()
	} else {
		f.cancel()
	}
}

// ErrStopped means the fill ended before the bytes a reader wanted arrived.
var ErrStopped = errors.New("fill: origin fetch stopped early")

// ReadAt reads object bytes at offset off (absolute), waiting for them to
// arrive. It returns fewer bytes only with an error: ErrStopped, or ctx's.
func (f *Fill) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < f.Start || off >= f.End {
		return 0, io.EOF
	}
	for {
		f.mu.Lock()
		avail, done, more := f.written-(off-f.Start), f.done, f.more
		f.mu.Unlock()
		if avail > 0 {
			return f.w.ReadAt(p[:min(int64(len(p)), avail)], off-f.Start)
		}
		if done {
			return 0, ErrStopped
		}
		select {
		case <-more:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// Stopped reports whether the fill ended early, and at which offset.
func (f *Fill) Stopped() (at int64, stopped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Start + f.written, f.done && f.err != nil
}
