package evict

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// zipfTrace is a reproducible skewed request sequence over n objects; the
// popular objects are scattered over the key space.
func zipfTrace(n, requests int) []int {
	r := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(r, 1.1, 4, uint64(n-1))
	perm := r.Perm(n)
	out := make([]int, requests)
	for i := range out {
		out[i] = perm[z.Uint64()]
	}
	return out
}

// replay serves the trace through a real store and Manager: a hit when the
// object is cached, else a fill; eviction runs whenever the size passes the
// trigger, accounting every flushEvery requests. The clock advances
// requestGap per request, so MinAge spares the last dozen objects. It returns the hit ratio after the warm-up.
const requestGap = 5 * time.Second

func replay(t testing.TB, policy Policy, trace []int, objects, size, capacityObjects int) float64 {
	clock := &fakeClock{now: time.Now()}
	m := newTestManager(t, t.TempDir(), Config{MaxBytes: int64(capacityObjects * size), Policy: policy}, clock)
	measureAll(t, m)
	const flushEvery = 250
	warmup := len(trace) / 10
	hits, counted := 0, 0
	for i, obj := range trace {
		clock.Advance(requestGap)
		k := key(obj)
		if cached(m, k) {
			m.Touch(objectID(k), store.Extent{Start: 0, End: int64(size)}, int64(size))
			if i >= warmup {
				hits++
			}
		} else {
			fill(t, m, k, size)
			if c := m.Capacity(); c.UsedBytes >= c.TriggerBytes {
				m.evictIfNeeded(context.Background())
			}
		}
		if i >= warmup {
			counted++
		}
		if i%flushEvery == flushEvery-1 {
			cycle(t, m)
		}
	}
	if du, c := walkedSize(t, m.st.Dir()), m.Capacity(); du > c.MaxBytes*105/100 {
		t.Errorf("%s: %d bytes on disk, limit %d", policy, du, c.MaxBytes)
	}
	return float64(hits) / float64(counted)
}

// TestZipfHitRatioBeatsLRU replays one Zipf trace under both policies.
func TestZipfHitRatioBeatsLRU(t *testing.T) {
	if testing.Short() {
		t.Skip("replays a trace through the file system")
	}
	const objects, size, capacity, requests = 600, 8 << 10, 60, 6000
	trace := zipfTrace(objects, requests)
	var lfu, lru float64
	var wg sync.WaitGroup
	wg.Go(func() { lfu = replay(t, PolicyTinyLFU, trace, objects, size, capacity) })
	wg.Go(func() { lru = replay(t, PolicyLRU, trace, objects, size, capacity) })
	wg.Wait()
	t.Logf("Zipf(s=1.1) trace, %d requests over %d objects, cache of %d objects: hit ratio tinylfu %.3f, lru %.3f",
		requests, objects, capacity, lfu, lru)
	if lfu <= lru {
		t.Errorf("tinylfu hit ratio %.3f does not beat lru %.3f", lfu, lru)
	}
}
