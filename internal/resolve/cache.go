package resolve

import (
	"net/netip"
	"sync"
	"time"
)

// cacheEntry is one cached lookup: addresses, or the fact that the name
// does not exist (err).
type cacheEntry struct {
	addrs   []netip.Addr
	err     error
	expires time.Time
}

// answerCache holds lookups until their TTL runs out, plus StaleFor for use
// when a refresh fails. Its size is bounded.
type answerCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
	max     int
	keep    time.Duration // how long past expiry an entry is kept for stale use
}

func newAnswerCache(max int, keep time.Duration) *answerCache {
	return &answerCache{entries: make(map[string]cacheEntry), max: max, keep: max0(keep)}
}

func max0(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}

// get returns the entry for host, fresh or not.
func (c *answerCache) get(host string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[host]
	return e, ok
}

func (c *answerCache) put(host string, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, exists := c.entries[host]; !exists && len(c.entries) >= c.max {
		c.evictLocked(now)
	}
	c.entries[host] = e
}

// evictLocked drops every entry past its stale window; if that frees
// nothing, it drops one arbitrary entry.
func (c *answerCache) evictLocked(now time.Time) {
	for host, e := range c.entries {
		if now.After(e.expires.Add(c.keep)) {
			delete(c.entries, host)
		}
	}
	if len(c.entries) < c.max {
		return
	}
	for host := range c.entries {
		delete(c.entries, host)
		return
	}
}
