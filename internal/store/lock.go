package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Fill locks let instances sharing the cache directory fetch each byte
// range once: the instance that creates locks/<h>-<start>.lock with O_EXCL
// fetches; the others follow its temp file or wait for the segment. The
// owner touches the lock every HeartbeatEvery; a lock untouched for
// StaleAfter belongs to a dead owner and is stolen. See FORMAT.md.
const (
	HeartbeatEvery = 2 * time.Second
	StaleAfter     = 15 * time.Second
)

// ErrLocked means another live instance holds the fill lock.
var ErrLocked = errors.New("store: fill locked by another instance")

// LockInfo is a fill lock's content.
type LockInfo struct {
	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
	// Set once the fetch's answer is known:
	ETag  string `json:"etag,omitempty"`
	Start int64  `json:"start"`
	End   int64  `json:"end,omitempty"`
	Temp  string `json:"temp,omitempty"` // temp file name under tmp/
}

// FillLock is a held fill lock, kept alive by a heartbeat until Release.
type FillLock struct {
	s    *Store
	path string
	info LockInfo
	stop chan struct{}
	once sync.Once
}

func (s *Store) lockPath(id ObjectID, start int64) string {
	return filepath.Join(s.locks, id.hash()+"-"+strconv.FormatInt(start, 10)+".lock")
}

// LockFill takes the fill lock for the object's bytes from start, stealing
// it from a dead owner. It returns ErrLocked when a live owner holds it.
func (s *Store) LockFill(id ObjectID, start int64) (*FillLock, error) {
	path := s.lockPath(id, start)
	info := LockInfo{Owner: s.instance, Created: time.Now(), Start: start}
	data, _ := json.Marshal(info)
	for attempt := 0; attempt < 2; attempt++ {
		err := createLockFile(path, data)
		if err == nil {
			l := &FillLock{s: s, path: path, info: info, stop: make(chan struct{})}
			go l.heartbeat()
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("fill lock: %w", err)
		}
		if !s.stealIfStale(path) {
			return nil, ErrLocked
		}
	}
	return nil, ErrLocked
}

// createLockFile creates path exclusively with content; fs.ErrExist when
// another owner holds it. A lock whose content cannot be written is removed.
func createLockFile(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, werr := f.Write(content)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("write lock %s: %w", filepath.Base(path), werr)
	}
	return nil
}

// stealIfStale removes a lock whose owner stopped its heartbeat. The lock is
// renamed aside first: of several instances stealing at once, exactly one
// rename succeeds, so a fresh lock taken meanwhile is never removed.
func (s *Store) stealIfStale(path string) bool {
	info, err := os.Stat(path)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	if time.Since(info.ModTime()) < StaleAfter {
		li, ok := s.readLockFile(path)
		if !ok || !s.ownerDead(li.Owner) {
			return false
		}
	}
	aside := filepath.Join(s.tmp, filepath.Base(path)+"."+strconv.FormatInt(time.Now().UnixNano(), 36)+".stale")
	if err := os.Rename(path, aside); err != nil {
		return errors.Is(err, fs.ErrNotExist)
	}
	os.Remove(aside)
	s.log.Warn("stole a stale fill lock; its owner stopped", "lock", filepath.Base(path))
	return true
}

func (l *FillLock) heartbeat() {
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			if err := os.Chtimes(l.path, now, now); err != nil {
				return // stolen or removed: nothing left to keep alive
			}
		}
	}
}

// Describe publishes what the fetch is writing, so followers in other
// instances can read the temp file as it grows.
func (l *FillLock) Describe(etag string, end int64, w *SegmentWriter) error {
	l.info.ETag, l.info.End, l.info.Temp = etag, end, filepath.Base(w.f.Name())
	data, err := json.Marshal(l.info)
	if err != nil {
		return err
	}
	tmp := l.path + "." + l.s.instance + ".new"
	if err := os.WriteFile(tmp, data, 0o640); err != nil {
		return fmt.Errorf("describe fill lock: %w", err)
	}
	return os.Rename(tmp, l.path)
}

// Release drops the lock.
func (l *FillLock) Release() {
	l.once.Do(func() {
		close(l.stop)
		os.Remove(l.path)
	})
}

// FillLocks returns the live, described fill locks of other instances on
// the object.
func (s *Store) FillLocks(id ObjectID) []LockInfo {
	prefix := id.hash() + "-"
	entries, err := os.ReadDir(s.locks)
	if err != nil {
		return nil
	}
	var out []LockInfo
	for _, de := range entries {
		name := de.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".lock") {
			continue
		}
		if li, ok := s.readLock(filepath.Join(s.locks, name)); ok && li.Owner != s.instance && li.Temp != "" {
			out = append(out, li)
		}
	}
	return out
}

// readLock returns a live lock's content: not stale, and not owned by a
// process of this host that no longer exists.
func (s *Store) readLock(path string) (LockInfo, bool) {
	st, err := os.Stat(path)
	if err != nil || time.Since(st.ModTime()) >= StaleAfter {
		return LockInfo{}, false
	}
	li, ok := s.readLockFile(path)
	if !ok || s.ownerDead(li.Owner) {
		return LockInfo{}, false
	}
	return li, true
}

func (s *Store) readLockFile(path string) (LockInfo, bool) {
	data, err := os.ReadFile(path)
	var li LockInfo
	if err != nil || json.Unmarshal(data, &li) != nil {
		return LockInfo{}, false
	}
	return li, true
}

// ownerDead reports whether a lock's owner is a process of this host that
// has exited: then there is no need to wait for its heartbeat to go stale.
// Owners on other hosts are judged by the heartbeat alone.
func (s *Store) ownerDead(owner string) bool {
	host, _ := os.Hostname()
	rest, ok := strings.CutPrefix(owner, host+"-")
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// LockLive reports whether the lock for (id, start) is still held by a live
// owner.
func (s *Store) LockLive(id ObjectID, start int64) bool {
	_, ok := s.readLock(s.lockPath(id, start))
	return ok
}

// OpenRemoteFill opens the temp file a lock describes. A file renamed into
// place meanwhile is not found here; the caller then plans again and finds
// the segment.
func (s *Store) OpenRemoteFill(li LockInfo) (*os.File, error) {
	if strings.ContainsAny(li.Temp, `/\`) || li.Temp == ".." {
		return nil, fmt.Errorf("fill lock names an unsafe temp file %q", li.Temp)
	}
	f, err := os.Open(filepath.Join(s.tmp, li.Temp))
	if err == nil {
		return f, nil
	}
	return nil, ErrNotCached
}

// Instance is this process's id in lock files.
func (s *Store) Instance() string { return s.instance }
