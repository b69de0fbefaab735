package e2e

import (
	"fmt"
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
