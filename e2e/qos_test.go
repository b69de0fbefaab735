package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// countingWriter counts what passes through it.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// TestBandwidthSharedBetweenUserAgents: under a 50 MiB/s ceiling shared by
// application (User-Agent), two callers missing the cache at once each get
// 25 ± 5 MiB/s; their bytes are equal to what was uploaded; a hit
// afterwards is not held to the ceiling.
func TestBandwidthSharedBetweenUserAgents(t *testing.T) {
	const (
		ceilingMiB = 50
		size       = 96 * MiB
	)
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{
		"--download-max-bytes-per-sec", fmt.Sprintf("%dMiB", ceilingMiB), "--qos-fairness", "user-agent",
	}})
	apps := []string{"etl-nightly", "dashboards"}
	for i := range apps {
		putPattern(t, e, e.Direct, fmt.Sprintf("qos/%d", i), int64(60+i), size)
	}

	counters := make([]*countingWriter, len(apps))
	sums := make([]string, len(apps))
	errs := make([]error, len(apps))
	var wg sync.WaitGroup
	for i, app := range apps {
		opts := e.Client.Options()
		opts.AppID = app // the SDK adds "app/<AppID>" to its User-Agent
		client := s3.New(opts)
		counters[i] = &countingWriter{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := client.GetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(fmt.Sprintf("qos/%d", i))})
			if err != nil {
				errs[i] = err
				return
			}
			defer out.Body.Close()
			h := sha256.New()
			_, errs[i] = io.Copy(io.MultiWriter(h, counters[i]), out.Body)
			sums[i] = hex.EncodeToString(h.Sum(nil))
		}()
	}

	// Measure while both are downloading: from 1 s to 3 s (each needs
	// about 3.8 s at 25 MiB/s).
	time.Sleep(time.Second)
	start := []int64{counters[0].n.Load(), counters[1].n.Load()}
	t0 := time.Now()
	time.Sleep(2 * time.Second)
	elapsed := time.Since(t0).Seconds()
	for i, app := range apps {
		rate := float64(counters[i].n.Load()-start[i]) / elapsed / MiB
		t.Logf("%s: %.1f MiB/s", app, rate)
		if rate < 20 || rate > 30 {
			t.Errorf("%s got %.1f MiB/s, want 25 ± 5 (half of %d)", app, rate, ceilingMiB)
		}
	}
	wg.Wait()
	for i := range apps {
		if errs[i] != nil {
			t.Fatalf("GET %d: %v", i, errs[i])
		}
		if want := harness.PatternSHA256(int64(60+i), size); sums[i] != want {
			t.Errorf("GET %d: bytes differ from the upload", i)
		}
	}

	e.Counter.Reset()
	began := time.Now()
	out, err := e.Client.GetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("qos/0")})
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, out.Body)
	out.Body.Close()
	rate := float64(n) / time.Since(began).Seconds() / MiB
	t.Logf("hit: %.0f MiB/s (X-Cache %s)", rate, harness.XCache(out.ResultMetadata))
	if err != nil || n != size || harness.XCache(out.ResultMetadata) != "HIT" {
		t.Fatalf("hit: %d bytes, err %v, X-Cache %q", n, err, harness.XCache(out.ResultMetadata))
	}
	wantNoOrigin(t, e, "hit")
	if rate <= ceilingMiB {
		t.Errorf("a hit ran at %.0f MiB/s, within the miss ceiling of %d MiB/s: hits must not be throttled", rate, ceilingMiB)
	}
}
