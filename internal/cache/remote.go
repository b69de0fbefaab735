package cache

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
	"github.com/s3cache/s3cache/internal/store"
)

// source is where a piece's bytes come from while they are still arriving:
// a fill of this process, or a fill another instance is writing into the
// shared directory.
type source interface {
	// ReadAt reads object bytes at off, waiting for them to arrive; it
	// returns fill.ErrStopped when they never will.
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	Release()
}

// remotePoll is how often a follower looks for new bytes of another
// instance's fill.
const remotePoll = 10 * time.Millisecond

// remoteFill follows another instance's temp file as it grows. The owner's
// fill lock says whether more is coming: once it is gone (finished, or the
// owner died and it went stale), the bytes present are all there will be.
type remoteFill struct {
	store   *store.Store
	meta    *store.Meta
	lock    store.LockInfo
	f       *os.File
	salvage sync.Once
	log     *slog.Logger
}

// joinRemote returns a follower of another instance's fill of version m
// that will deliver the byte at off, or nil.
func (c *Cache) joinRemote(m *store.Meta, off int64) (*remoteFill, int64) {
	for _, li := range c.store.FillLocks(m.ID()) {
		if li.ETag != m.ETag || off < li.Start || off >= li.End {
			continue
		}
		f, err := c.store.OpenRemoteFill(li)
		if err != nil {
			continue
		}
		return &remoteFill{store: c.store, meta: m, lock: li, f: f, log: c.log}, li.End
	}
	return nil, 0
}

func (r *remoteFill) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if off < r.lock.Start || off >= r.lock.End {
		return 0, io.EOF
	}
	rel := off - r.lock.Start
	for lockSeen := true; ; {
		st, err := r.f.Stat()
		if err != nil {
			return 0, err
		}
		// Never past the range: a finished raw fill ends in its checksum
		// trailer just before it is renamed.
		size := min(st.Size(), r.lock.End-r.lock.Start)
		if avail := size - rel; avail > 0 {
			return r.f.ReadAt(p[:min(int64(len(p)), avail)], rel)
		}
		if !lockSeen {
			r.salvage.Do(func() { r.keep(size) })
			return 0, fill.ErrStopped
		}
		// Look at the lock only after the size: a writer that finishes
		// between the two reads is then seen with all its bytes.
		lockSeen = r.store.LockLive(r.meta.ID(), r.lock.Start)
		if !lockSeen {
			continue
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(remotePoll):
		}
	}
}

func (r *remoteFill) Release() { r.f.Close() }

// waitRemoteMeta waits while another instance's fetch of the object is
// getting S3's answer, until the object's metadata appears. It reports
// whether it did.
func (c *Cache) waitRemoteMeta(ctx context.Context, id store.ObjectID, start int64) bool {
	for {
		if e := c.lookup(id); e != nil {
			return true
		}
		if !c.store.LockLive(id, start) {
			// Finished (or died) meanwhile: one last look.
			return c.lookup(id) != nil
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(remotePoll):
		}
	}
}

// keep publishes the bytes a dead owner left in its temp file as a segment:
// they are the object's bytes all the same, and without this they would
// be lost with the owner. Several followers may do it at once; they write
// the same bytes under the same name.
func (r *remoteFill) keep(n int64) {
	if n <= 0 {
		return
	}
	w, err := r.store.NewSegmentWriter(r.meta.ID(), r.lock.Start, r.lock.Created)
	if err != nil {
		return
	}
	defer w.Close()
	if _, err := io.Copy(w, io.NewSectionReader(r.f, 0, n)); err != nil {
		return
	}
	if err := w.Commit(r.meta); err == nil {
		r.log.Info("kept the bytes of another instance's abandoned fill", "object", r.meta.ID(), "bytes", n)
	}
}
