package store

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// Instances sharing the directory announce themselves with a file in
// instances/, touched every InstanceHeartbeat; a file older than
// InstanceStale is a stopped instance. Knowing that no other instance is
// live lets one skip cross-instance coordination (fill locks, early
// metadata), which costs several file operations per miss.
const (
	InstanceHeartbeat = 5 * time.Second
	InstanceStale     = 30 * time.Second
)

// AnnounceInstance keeps this instance's heartbeat file fresh and counts
// the other live instances until ctx ends, then removes the file.
func (s *Store) AnnounceInstance(ctx context.Context) {
	dir := filepath.Join(s.root, "instances")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		s.log.Warn("cannot announce this instance; assuming others share the directory", "err", err)
		s.others.Store(1)
		return
	}
	mine := filepath.Join(dir, s.instance)
	defer s.announced.Store(false)
	t := time.NewTicker(InstanceHeartbeat)
	defer t.Stop()
	defer os.Remove(mine)
	for {
		now := time.Now()
		if err := os.WriteFile(mine, []byte(now.UTC().Format(time.RFC3339)), 0o640); err != nil {
			s.announced.Store(false)
			s.others.Store(1) // cannot tell: coordinate to be safe
		} else {
			s.others.Store(int64(s.countOthers(dir, now)))
			s.counted.Store(now.UnixNano())
			s.announced.Store(true)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Store) countOthers(dir string, now time.Time) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 1
	}
	n := 0
	for _, e := range entries {
		if e.Name() == s.instance {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if now.Sub(info.ModTime()) < InstanceStale {
			n++
		} else if now.Sub(info.ModTime()) > 10*InstanceStale {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return n
}

// recountEvery bounds how stale OtherInstances may be: a new instance is
// noticed within half a second.
const recountEvery = 500 * time.Millisecond

// OtherInstances is the number of other live instances sharing the
// directory, recounted at most twice a second. Before AnnounceInstance runs
// it is 1: coordination is on until proven unnecessary.
func (s *Store) OtherInstances() int {
	now := time.Now()
	last := s.counted.Load()
	if s.announced.Load() && now.UnixNano()-last > int64(recountEvery) && s.counted.CompareAndSwap(last, now.UnixNano()) {
		s.others.Store(int64(s.countOthers(filepath.Join(s.root, "instances"), now)))
	}
	return int(s.others.Load())
}

// instanceCount is embedded in Store.
type instanceCount struct {
	others    atomic.Int64
	counted   atomic.Int64 // unix nanoseconds of the last count
	announced atomic.Bool
}
