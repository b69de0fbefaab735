package e2e

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/s3cache/s3cache/e2e/harness"
)

// diskUse adds up the object files in a cache dir, like du.
func diskUse(dir string) int64 {
	var n int64
	filepath.WalkDir(filepath.Join(dir, "v1", "objects"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// capacityRun reads a Zipf trace over objects several times larger than
// the cache and reports the hit ratio and the largest disk use seen.
func capacityRun(t *testing.T, policy string, limit int64, objects int, objSize int64, reads int) (hitRatio float64, peak int64) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{
		"--max-cache-size", fmt.Sprint(limit), "--eviction-policy", policy, "--compression=false", "--max-ram-cache-size", "0",
	}})
	for i := range objects {
		putPattern(t, e, e.Direct, fmt.Sprintf("zipf/%03d", i), int64(200+i), objSize)
	}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(7, 8)), 1.1, 4, uint64(objects-1))
	hits := 0
	for range reads {
		i := int(zipf.Uint64())
		r := get(t, e, e.Client, fmt.Sprintf("zipf/%03d", i))
		wantBody(t, "zipf read", r, int64(200+i), objSize)
		if r.xcache() == "HIT" {
			hits++
		}
		peak = max(peak, diskUse(e.Cache.Dir))
	}
	return float64(hits) / float64(reads), peak
}

// With max_cache_size far below the working set, disk use stays near the
// limit and frequency-aware eviction beats plain LRU on a skewed trace.
func TestCapacityZipf(t *testing.T) {
	if testing.Short() {
		t.Skip("reads ~600 objects")
	}
	const limit, objects, objSize, reads = 40 * MiB, 200, 1 * MiB, 600
	tiny, tinyPeak := capacityRun(t, "tinylfu", limit, objects, objSize, reads)
	lru, lruPeak := capacityRun(t, "lru", limit, objects, objSize, reads)
	t.Logf("Zipf(1.1) over %d × %d MiB objects, cache %d MiB: hit ratio TinyLFU-like %.3f (peak disk %.1f MiB), LRU %.3f (peak %.1f MiB)",
		objects, objSize/MiB, limit/MiB, tiny, float64(tinyPeak)/MiB, lru, float64(lruPeak)/MiB)
	for name, peak := range map[string]int64{"tinylfu": tinyPeak, "lru": lruPeak} {
		if peak > limit*105/100 {
			t.Errorf("%s: disk use reached %.1f MiB, more than 105%% of %d MiB", name, float64(peak)/MiB, limit/MiB)
		}
	}
	if tiny < lru {
		t.Errorf("TinyLFU-like hit ratio %.3f below LRU's %.3f on the same trace", tiny, lru)
	}
}
