package e2e

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Page-aligned read-ahead (issue 12): small unsigned ranges fetch their
// aligned page once; later small reads in the same page are hits.
func TestReadAheadServesLaterRangesFromThePage(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--readahead-page-size", "1MiB"}})
	const size, seed = 5 * MiB, 111
	putPattern(t, e, e.Direct, "table.parquet", seed, size)
	url := presignedGet(t, e, "table.parquet")

	// The footer read: the last few KiB, cold.
	e.Counter.Reset()
	r := httpGet(t, e, url, rangeHeader(size-8192, size-1))
	wantRange(t, "footer", r, seed, size, size-8192, size-1)
	wantOriginBytes(t, e, "footer (one page)", MiB, 0)

	// More small reads inside the same page: hits.
	e.Counter.Reset()
	for _, span := range [][2]int64{{size - MiB, size - MiB + 100}, {size - 300000, size - 200000}} {
		r = httpGet(t, e, url, rangeHeader(span[0], span[1]))
		wantRange(t, "read in the footer's page", r, seed, size, span[0], span[1])
		wantXCache(t, "read in the footer's page", r, "HIT")
	}
	wantNoOrigin(t, e, "reads in the footer's page")

	// A read in another page fetches that page only.
	e.Counter.Reset()
	r = httpGet(t, e, url, rangeHeader(MiB+10, MiB+20))
	wantRange(t, "read in page 2", r, seed, size, MiB+10, MiB+20)
	// The client has its bytes; the rest of the page lands behind it.
	for deadline := time.Now().Add(10 * time.Second); e.Counter.Bytes() < MiB && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	wantOriginBytes(t, e, "read in page 2", MiB, 0)
	e.Counter.Reset()
	r = httpGet(t, e, url, rangeHeader(2*MiB-100, 2*MiB-1))
	wantXCache(t, "another read in page 2", r, "HIT")

	// A signed range is never widened.
	e.Counter.Reset()
	rs := getObject(t, e, e.Client, rangeInput("table.parquet", 3*MiB+5, 3*MiB+9))
	wantRange(t, "signed range", rs, seed, size, 3*MiB+5, 3*MiB+9)
	wantOriginBytes(t, e, "signed range (exact)", 5, 0)
	if n := e.Counter.Count(http.MethodGet); n != 1 {
		t.Errorf("signed range: %d origin GETs", n)
	}
}

func rangeInput(key string, first, last int64) *s3.GetObjectInput {
	return &s3.GetObjectInput{Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, last))}
}

// 100 random 64 KiB presigned reads over a 256 MiB object with 8 MiB pages
// cost at most 32 origin requests and 256 MiB of origin bytes.
func TestReadAheadRandomReads(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--readahead-page-size", "8MiB"}})
	const size, seed, page = 256 * MiB, 112, 8 * MiB
	putPattern(t, e, e.Direct, "big.orc", seed, size)
	url := presignedGet(t, e, "big.orc")
	rng := rand.New(rand.NewPCG(1, 2))
	e.Counter.Reset()
	for range 100 {
		first := rng.Int64N(size - 64<<10)
		r := httpGet(t, e, url, rangeHeader(first, first+64<<10-1))
		wantRange(t, "random read", r, seed, size, first, first+64<<10-1)
	}
	// Pages fetched for reads that have left may still be landing.
	for deadline, last := time.Now().Add(20*time.Second), int64(-1); time.Now().Before(deadline); {
		if b := e.Counter.Bytes(); b == last {
			break
		} else {
			last = b
		}
		time.Sleep(300 * time.Millisecond)
	}
	reqs, bytes := e.Counter.Count(http.MethodGet), e.Counter.Bytes()
	t.Logf("100 random 64 KiB reads: %d origin requests, %.1f MiB from the origin", reqs, float64(bytes)/MiB)
	if reqs > size/page {
		t.Errorf("%d origin requests, want at most %d", reqs, size/page)
	}
	if bytes > size {
		t.Errorf("%d origin bytes, want at most %d", bytes, size)
	}
}
