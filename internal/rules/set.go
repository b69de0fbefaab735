package rules

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
)

// Set is the rule table in force. Lookups read it through an atomic pointer,
// so a reload never blocks or tears a request's view; each lookup sees one
// whole table. A nil *Set holds no rules.
type Set struct {
	table atomic.Pointer[Table]
	path  string
	done  chan struct{} // closed when the watcher has stopped

	reloads  atomic.Uint64
	failures atomic.Uint64

	mu        sync.Mutex // guards the fields below (written on reload only)
	loadedAt  time.Time
	lastError string
}

// NewSet returns a Set that always holds t (nil: no rules) and never
// reloads. It is meant for tests and for callers without a rules file.
func NewSet(t *Table) *Set {
	s := &Set{done: make(chan struct{})}
	close(s.done)
	s.table.Store(t)
	return s
}

// Table returns the rules in force.
func (s *Set) Table() *Table {
	if s == nil {
		return nil
	}
	return s.table.Load()
}

// Resolve returns every field the rules in force set for bucket/key.
func (s *Set) Resolve(bucket, key string) Resolved {
	return s.Table().Resolve(bucket, key)
}

// FallbackHedgeAfter is when a rule's "hedging": true sends the hedge if
// neither the rule nor the global hedge_after says.
const FallbackHedgeAfter = time.Second

// Settings applies the rules in force to the defaults; it makes a *Set a
// cache.Rules. read_cache and ram_cache false become NoReadCache and
// NoRAMCache; hedging false turns hedging off, hedge_after sets when (and
// turns it on unless hedging is false).
func (s *Set) Settings(bucket, key string, defaults cache.Settings) cache.Settings {
	r := s.Table().resolve(bucket, key, allFields)
	out := defaults
	out.GetTTL = r.GetTTL.Or(defaults.GetTTL)
	out.HeadTTL = r.HeadTTL.Or(defaults.HeadTTL)
	out.PutTTL = r.PutTTL.Or(defaults.PutTTL)
	out.Compression = r.Compression.Or(defaults.Compression)
	out.WriteCache = r.WriteCache.Or(defaults.WriteCache)
	if r.ReadCache.Set {
		out.NoReadCache = !r.ReadCache.Value
	}
	if r.RAMCache.Set {
		out.NoRAMCache = !r.RAMCache.Value
	}
	switch {
	case r.Hedging.Set && !r.Hedging.Value:
		out.HedgeAfter = 0
	case r.HedgeAfter.Set:
		out.HedgeAfter = r.HedgeAfter.Value
	case r.Hedging.Set && out.HedgeAfter <= 0:
		out.HedgeAfter = FallbackHedgeAfter
	}
	return out
}

// Done is closed once the watcher that keeps the Set current has stopped
// (at once for a Set from NewSet).
func (s *Set) Done() <-chan struct{} { return s.done }

// Stats describes the Set's reload history.
type Stats struct {
	Path      string    // the rules file ("" for NewSet)
	Rules     int       // rules in force
	Reloads   uint64    // rule tables put in force, the first load included
	Failures  uint64    // file versions rejected (invalid or unreadable)
	LoadedAt  time.Time // when the rules in force were put in force
	LastError string    // why the newest version was rejected; "" once one loads
}

// Stats reports the rules in force and the reload counters.
func (s *Set) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{
		Path:      s.path,
		Rules:     s.Table().Len(),
		Reloads:   s.reloads.Load(),
		Failures:  s.failures.Load(),
		LoadedAt:  s.loadedAt,
		LastError: s.lastError,
	}
}

// install puts t in force.
func (s *Set) install(t *Table, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table.Store(t)
	s.reloads.Add(1)
	s.loadedAt = now
	s.lastError = ""
}

// clearError forgets the last rejection: the file is back to the version
// in force.
func (s *Set) clearError() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastError = ""
}

// reject counts a rejected file version.
func (s *Set) reject(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures.Add(1)
	s.lastError = err.Error()
}
