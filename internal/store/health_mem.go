package store

import (
	"errors"
	"sync"
	"syscall"
	"time"
)

// When the cache directory cannot be written, two things must still hold:
// an invalidation is never forgotten, and requests are not slowed or
// broken by fills that are bound to fail.

// maxRemembered bounds the invalidations kept in memory.
const maxRemembered = 100_000

// memory is the part of the store's state that lives in this process only.
type memory struct {
	mu          sync.Mutex
	invalidated map[ObjectID]time.Time
	lastFailure time.Time
	failureErr  error
	loggedAt    time.Time
}

// rememberInvalidation records an invalidation the directory could not take.
func (s *Store) rememberInvalidation(id ObjectID, at time.Time) {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	if s.mem.invalidated == nil {
		s.mem.invalidated = map[ObjectID]time.Time{}
	}
	if len(s.mem.invalidated) >= maxRemembered {
		// Better a few extra misses than stale bytes: forget the cache.
		s.mem.invalidated = map[ObjectID]time.Time{}
		s.mem.lastFailure = time.Now()
	}
	s.mem.invalidated[id] = at
}

// invalidatedSince reports whether m predates an invalidation this process
// could not write down.
func (s *Store) invalidatedSince(id ObjectID, m *Meta) bool {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	at, ok := s.mem.invalidated[id]
	if !ok {
		return false
	}
	if m.StoredAt.After(at) && m.ValidatedAt.After(at) {
		delete(s.mem.invalidated, id) // a newer version was stored since
		return false
	}
	return true
}

// noteWriteFailure remembers that the directory refused a write for lack
// of space or permission, so fills pause for a while (WritesFailing).
func (s *Store) noteWriteFailure(err error) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EDQUOT) {
		now := time.Now()
		s.mem.mu.Lock()
		// Once per condition: again only after a quiet minute.
		first := s.mem.failureErr == nil || now.Sub(s.mem.lastFailure) > time.Minute || now.Sub(s.mem.loggedAt) > time.Hour
		s.mem.lastFailure, s.mem.failureErr = now, err
		if first {
			s.mem.loggedAt = now
		}
		s.mem.mu.Unlock()
		if first {
			s.log.Error("cache directory refuses writes; serving without caching for now", "err", err)
		}
	}
}

// failurePause is how long fills stop after the directory refused a write.
const failurePause = 200 * time.Millisecond

// WritesFailing reports whether the directory refused a write recently, has
// less free space than need, or is at capacity for need more bytes (the
// SizeObserver's Admit): a fill would fail or overfill the cache, so the
// caller should relay without one.
func (s *Store) WritesFailing(need int64) bool {
	s.mem.mu.Lock()
	recent := s.mem.failureErr != nil && time.Since(s.mem.lastFailure) < failurePause
	s.mem.mu.Unlock()
	if recent {
		return true
	}
	if need > 0 && s.sizes != nil && !s.sizes.Admit(need) {
		return true
	}
	if need > 0 {
		free, size := diskSpace(s.root)
		reserve := min(uint64(maxReserve), size/20)
		if free > 0 && uint64(need)+reserve > free {
			return true
		}
	}
	return false
}

// maxReserve caps the space kept free on the cache's file system (5% of
// it, at most this much).
const maxReserve = 64 << 20
