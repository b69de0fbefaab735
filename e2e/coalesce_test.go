package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Tests of download coordination (issue 7).

// timedGet reads a whole object and reports its time to first byte.
type timedGet struct {
	result
	ttfb, total time.Duration
}

func getTimed(e *harness.Env, c *s3.Client, key string) timedGet {
	return getTimedAfterFirstByte(e, c, key, func() {})
}

// getTimedAfterFirstByte is getTimed, calling firstByte once the first
// byte is in and before reading the rest.
func getTimedAfterFirstByte(e *harness.Env, c *s3.Client, key string, firstByte func()) timedGet {
	start := time.Now()
	out, err := c.GetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key)})
	if err != nil {
		st, code, h := harness.ErrInfo(err)
		return timedGet{result: result{err: err, status: st, code: code, header: h}}
	}
	defer out.Body.Close()
	var first [1]byte
	n, err := io.ReadFull(out.Body, first[:])
	tg := timedGet{ttfb: time.Since(start)}
	tg.header = harness.Header(out.ResultMetadata)
	if err != nil {
		tg.err = err
		return tg
	}
	firstByte()
	tg.sha, tg.n, tg.err = harness.SHA256(io.MultiReader(strings.NewReader(string(first[:n])), out.Body))
	tg.total = time.Since(start)
	return tg
}

func TestHundredConcurrentColdGetsMakeOneOriginFetch(t *testing.T) {
	e := harness.NewEnv(t)
	const size, seed, clients = 64 * MiB, 71, 100
	putPattern(t, e, e.Direct, "herd", seed, size)
	e.Counter.Reset()

	// Clients read the rest of their bodies only once every client has its
	// first byte (or after 30 s): with 100 clients and the server on 2
	// shared cores, early clients pulling 64 MiB each would otherwise delay
	// the later ones' first bytes, and the figure would measure this box,
	// not whether waiters are held for the download.
	results := make([]timedGet, clients)
	var firstBytes sync.WaitGroup
	firstBytes.Add(clients)
	allFirst := make(chan struct{})
	go func() { firstBytes.Wait(); close(allFirst) }()
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			var once sync.Once
			done := func() { once.Do(firstBytes.Done) }
			defer done() // a failed GET must not hold the others
			results[i] = getTimedAfterFirstByte(e, e.Client, "herd", func() {
				done()
				select {
				case <-allFirst:
				case <-time.After(30 * time.Second):
				}
			})
		})
	}
	wg.Wait()
	var fetcher, fetcherTotal time.Duration
	var waiters []time.Duration
	for i, r := range results {
		wantBody(t, fmt.Sprintf("client %d", i), r.result, seed, size)
		if r.xcache() == "MISS" {
			fetcher, fetcherTotal = r.ttfb, r.total
		} else {
			waiters = append(waiters, r.ttfb)
		}
	}
	wantOrigin(t, e, "100 cold GETs", http.MethodGet, 1)
	if len(waiters) != clients-1 {
		t.Fatalf("%d waiters, want %d", len(waiters), clients-1)
	}
	slices.Sort(waiters)
	median := waiters[len(waiters)/2]
	t.Logf("time to first byte: fetcher %v (whole download %v), median waiter %v (%.2fx), slowest waiter %v",
		fetcher, fetcherTotal, median, float64(median)/float64(fetcher), waiters[len(waiters)-1])
	// Waiters stream from the fill: their first byte comes long before the
	// download is over. (The 2x-of-the-fetcher goal is a figure for the
	// benchmark, reported above; on a loaded 2-core machine with 100
	// clients hashing 64 MiB each, a timing assertion would be noise.)
	if median >= fetcherTotal/2 {
		t.Errorf("median waiter TTFB %v is not well before the end of the download (%v): waiters are not streamed", median, fetcherTotal)
	}
}

// lockOwnerPID returns the pid of the instance holding a fill lock in the
// cache dir, once one appears.
func lockOwnerPID(t *testing.T, cacheDir string, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		locks, _ := filepath.Glob(filepath.Join(cacheDir, "v1", "locks", "*.lock"))
		for _, l := range locks {
			data, err := os.ReadFile(l)
			var li struct{ Owner, Temp string }
			if err != nil || json.Unmarshal(data, &li) != nil || li.Temp == "" {
				continue
			}
			parts := strings.Split(li.Owner, "-")
			if len(parts) >= 3 {
				if pid, err := strconv.Atoi(parts[len(parts)-2]); err == nil {
					return pid
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return 0
}

func TestThreeInstancesShareOneDirectory(t *testing.T) {
	e := harness.NewEnv(t)
	bin, err := harness.S3CacheBinary()
	if err != nil {
		t.Fatal(err)
	}
	instances := []*harness.Cache{e.Cache}
	for i := 2; i <= 3; i++ {
		art := filepath.Join(e.Art, fmt.Sprintf("instance-%d", i))
		os.MkdirAll(art, 0o755)
		instances = append(instances, harness.StartCache(t, bin, art, "--origin", e.Counter.URL, "--cache-dir", e.Cache.Dir))
	}
	// Instances notice each other within half a second (heartbeat files);
	// until then each may believe it is alone and skip the fill locks.
	time.Sleep(time.Second)
	clientOf := func(c *harness.Cache) *s3.Client {
		return harness.NewClient(harness.ClientConfig{Endpoint: c.URL, AccessKey: harness.AccessKey, SecretKey: harness.SecretKey, PathStyle: true})
	}

	// 30 clients over 3 instances, one cold object.
	const size, seed = 64 * MiB, 72
	putPattern(t, e, e.Direct, "shared", seed, size)
	e.Counter.Reset()
	var wg sync.WaitGroup
	results := make([]timedGet, 30)
	for i := range results {
		c := clientOf(instances[i%3])
		wg.Go(func() { results[i] = getTimed(e, c, "shared") })
	}
	wg.Wait()
	for i, r := range results {
		wantBody(t, fmt.Sprintf("client %d", i), r.result, seed, size)
	}
	gets := e.Counter.Count(http.MethodGet)
	t.Logf("3 instances, 30 clients, one cold object: %d origin GET(s), %d bytes", gets, e.Counter.Bytes())
	if gets > 3 {
		t.Errorf("%d origin GETs, want at most 3: %s", gets, e.Counter.Summary())
	}

	// kill -9 the fetching instance mid-fill: the others' clients still get
	// correct bytes, and a later GET is a hit.
	const big, bigSeed = 256 * MiB, 73
	putPattern(t, e, e.Direct, "killed", bigSeed, big)
	e.Counter.Reset()
	results = make([]timedGet, 12)
	for i := range results {
		c := clientOf(instances[i%3])
		wg.Go(func() { results[i] = getTimed(e, c, "killed") })
	}
	pid := lockOwnerPID(t, e.Cache.Dir, 10*time.Second)
	var victim *harness.Cache
	for _, c := range instances {
		if c.Proc().PID() == pid {
			victim = c
		}
	}
	if victim == nil {
		t.Fatalf("no instance owns the fill lock (pid %d)", pid)
	}
	victim.Proc().CleanExit = false
	victim.Proc().Kill()
	wg.Wait()
	served := 0
	for i, r := range results {
		if instances[i%3] == victim {
			continue // its clients lose their connection, as with any crash
		}
		wantBody(t, fmt.Sprintf("client %d of a surviving instance", i), r.result, bigSeed, big)
		served++
	}
	t.Logf("killed pid %d mid-fill; %d clients of the surviving instances got correct bytes; origin: %s", pid, served, e.Counter.Summary())
	var survivor *harness.Cache
	for _, c := range instances {
		if c != victim {
			survivor = c
		}
	}
	e.Counter.Reset()
	r := getTimed(e, clientOf(survivor), "killed")
	wantBody(t, "GET after the kill", r.result, bigSeed, big)
	wantXCache(t, "GET after the kill", r.result, "HIT")
	wantNoOrigin(t, e, "GET after the kill")
}
