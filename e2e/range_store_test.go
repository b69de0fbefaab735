package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Tests of the unified range store (issue 4): full objects, ranges and parts
// are one set of extents; partial hits fetch only what is missing.

// putMultipart uploads pattern (seed, size) in parts of partSize straight to
// the origin.
func putMultipart(t testing.TB, e *harness.Env, key string, seed, size, partSize int64) {
	t.Helper()
	ctx := e.Ctx()
	up, err := e.Direct.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(e.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n, off := int32(1), int64(0); off < size; n, off = n+1, off+partSize {
		length := min(partSize, size-off)
		out, err := e.Direct.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(e.Bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(n),
			Body: bytes.NewReader(harness.PatternRange(seed, size, off, off+length-1)), ContentLength: aws.Int64(length),
		})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := e.Direct.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(e.Bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
}

// presignedGet returns a presigned GET URL through s3cache: its signature
// covers only the host, so s3cache may fetch just the missing ranges.
func presignedGet(t testing.TB, e *harness.Env, key string) string {
	t.Helper()
	ps, err := s3.NewPresignClient(e.Client).PresignGetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return ps.URL
}

// wantRange fails unless r is exactly bytes [first, last] of pattern (seed, size).
func wantRange(t testing.TB, what string, r result, seed, size, first, last int64) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v (X-Cache %q)", what, r.err, r.xcache())
	}
	want := harness.PatternRange(seed, size, first, last)
	wantSHA, _, _ := harness.SHA256(bytes.NewReader(want))
	if r.n != int64(len(want)) || r.sha != wantSHA {
		t.Fatalf("%s: got %d bytes (sha %s), want bytes %d-%d (X-Cache %q)", what, r.n, r.sha, first, last, r.xcache())
	}
	if got, want := r.header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", first, last, size); got != want {
		t.Errorf("%s: Content-Range %q, want %q", what, got, want)
	}
}

func rangeHeader(first, last int64) http.Header {
	return http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", first, last)}}
}

// wantOriginBytes fails unless the origin sent about want body bytes since
// the last Reset (within slack, for the odd aborted read).
func wantOriginBytes(t testing.TB, e *harness.Env, what string, want, slack int64) {
	t.Helper()
	if got := e.Counter.Bytes(); got < want-slack || got > want+slack {
		t.Errorf("%s: origin sent %d body bytes, want %d (±%d): %s", what, got, want, slack, e.Counter.Summary())
	} else {
		t.Logf("%s: origin bytes %d (%.1f MiB)", what, got, float64(got)/MiB)
	}
}

func TestPartsRangesAndWholeShareExtents(t *testing.T) {
	e := harness.NewEnv(t)
	const size, partSize, seed = 64 * MiB, 8 * MiB, 41
	putMultipart(t, e, "mp/obj", seed, size, partSize)

	e.Counter.Reset()
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), PartNumber: aws.Int32(3)})
	wantRange(t, "GET part 3", r, seed, size, 2*partSize, 3*partSize-1)
	wantXCache(t, "GET part 3", r, "MISS")
	if got := r.header.Get("X-Amz-Mp-Parts-Count"); got != "8" {
		t.Errorf("GET part 3: x-amz-mp-parts-count %q, want 8", got)
	}

	e.Counter.Reset()
	r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), PartNumber: aws.Int32(3)})
	wantRange(t, "GET part 3 again", r, seed, size, 2*partSize, 3*partSize-1)
	wantXCache(t, "GET part 3 again", r, "HIT")
	wantNoOrigin(t, e, "GET part 3 again")

	// A range inside part 3, signed by the SDK: fully cached, so a hit.
	first, last := int64(2*partSize+1000), int64(2*partSize+5*MiB)
	r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, last))})
	wantRange(t, "range inside part 3", r, seed, size, first, last)
	wantXCache(t, "range inside part 3", r, "HIT")
	wantNoOrigin(t, e, "range inside part 3")

	// The whole object through a presigned URL: only the 56 MiB not cached
	// come from the origin.
	url := presignedGet(t, e, "mp/obj")
	e.Counter.Reset()
	r = httpGet(t, e, url, nil)
	wantBody(t, "whole object", r, seed, size)
	wantXCache(t, "whole object", r, "PARTIAL")
	wantOriginBytes(t, e, "whole object", size-partSize, 0)

	// Now any range is a hit.
	e.Counter.Reset()
	for _, span := range [][2]int64{{0, 0}, {partSize - 1, partSize}, {size - 10, size - 1}, {5 * MiB, 40 * MiB}} {
		r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", span[0], span[1]))})
		wantRange(t, fmt.Sprintf("range %v", span), r, seed, size, span[0], span[1])
		wantXCache(t, fmt.Sprintf("range %v", span), r, "HIT")
	}
	r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), PartNumber: aws.Int32(8)})
	wantXCache(t, "part 8 after the whole object", r, "MISS") // part map unknown for 8: S3 must say where it is
	e.Counter.Reset()
	r = getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("mp/obj"), PartNumber: aws.Int32(8)})
	wantRange(t, "part 8 again", r, seed, size, 7*partSize, 8*partSize-1)
	wantXCache(t, "part 8 again", r, "HIT")
	wantNoOrigin(t, e, "part 8 again")
}

func TestSignedRangeForwardedThenHit(t *testing.T) {
	e := harness.NewEnv(t)
	const size, seed = 10 * MiB, 42
	putPattern(t, e, e.Direct, "sr", seed, size)
	in := func() *s3.GetObjectInput {
		return &s3.GetObjectInput{Key: aws.String("sr"), Range: aws.String("bytes=1000-2999999")}
	}
	e.Counter.Reset()
	r := getObject(t, e, e.Client, in())
	wantRange(t, "signed range", r, seed, size, 1000, 2999999)
	wantXCache(t, "signed range", r, "MISS")
	if reqs := e.Counter.Requests(); len(reqs) != 1 || reqs[0].Header.Get("Range") != "bytes=1000-2999999" {
		t.Fatalf("signed range not forwarded unchanged: %s", e.Counter.Summary())
	}
	e.Counter.Reset()
	r = getObject(t, e, e.Client, in())
	wantRange(t, "signed range again", r, seed, size, 1000, 2999999)
	wantXCache(t, "signed range again", r, "HIT")
	wantNoOrigin(t, e, "signed range again")
}

func TestPresignedOverlappingRangesFetchOnlyTheNewBytes(t *testing.T) {
	e := harness.NewEnv(t)
	const size, seed = 32 * MiB, 43
	putPattern(t, e, e.Direct, "ov", seed, size)
	url := presignedGet(t, e, "ov")

	e.Counter.Reset()
	r := httpGet(t, e, url, rangeHeader(0, 10*MiB-1))
	wantRange(t, "0-10MiB", r, seed, size, 0, 10*MiB-1)
	wantOriginBytes(t, e, "0-10MiB", 10*MiB, 0)

	e.Counter.Reset()
	r = httpGet(t, e, url, rangeHeader(5*MiB, 20*MiB-1))
	wantRange(t, "5-20MiB", r, seed, size, 5*MiB, 20*MiB-1)
	wantXCache(t, "5-20MiB", r, "PARTIAL")
	wantOriginBytes(t, e, "5-20MiB", 10*MiB, 0)
	for _, req := range e.Counter.Requests() {
		if req.Header.Get("If-Match") == "" {
			t.Errorf("gap fetch without If-Match: %s", req)
		}
	}
}

func TestInterruptedDownloadResumes(t *testing.T) {
	e := harness.NewEnv(t)
	const size, seed = 64 * MiB, 44
	putPattern(t, e, e.Direct, "resume", seed, size)
	url := presignedGet(t, e, "resume")

	// The client reads 20 MiB and goes away.
	e.Counter.Reset()
	ctx, cancel := context.WithCancel(e.Ctx())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := e.HTTP().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	received, _ := io.CopyN(io.Discard, resp.Body, 20*MiB)
	cancel()
	resp.Body.Close()
	time.Sleep(500 * time.Millisecond) // the abandoned fill commits what it has
	fetched := e.Counter.Bytes()
	t.Logf("client read %d bytes before leaving; origin had sent %d", received, fetched)

	// It resumes from where it stopped: only the rest comes from the origin.
	e.Counter.Reset()
	r := httpGet(t, e, url, http.Header{"Range": {fmt.Sprintf("bytes=%d-", received)}})
	wantRange(t, "resume", r, seed, size, received, size-1)
	if got := e.Counter.Bytes(); got > size-received {
		t.Errorf("resume fetched %d bytes from the origin, want at most the %d not yet received", got, size-received)
	}
	t.Logf("resume: origin bytes %d of %d remaining", e.Counter.Bytes(), size-received)
}

func TestObjectChangedBehindTheCacheNeverMixes(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 16 * MiB
	putPattern(t, e, e.Direct, "chg", 45, size)
	url := presignedGet(t, e, "chg")
	r := httpGet(t, e, url, rangeHeader(0, 4*MiB-1))
	wantRange(t, "first range", r, 45, size, 0, 4*MiB-1)

	putPattern(t, e, e.Direct, "chg", 46, size) // overwritten behind the cache's back

	// A partial hit: cached 0-4 MiB of the old version plus a gap. The gap
	// fetch's If-Match fails; the client must get the new object only.
	e.Counter.Reset()
	r = httpGet(t, e, url, rangeHeader(2*MiB, 12*MiB-1))
	wantRange(t, "range after the overwrite", r, 46, size, 2*MiB, 12*MiB-1)
	sawPrecondition := false
	for _, req := range e.Counter.Requests() {
		if req.Status == http.StatusPreconditionFailed {
			sawPrecondition = true
		}
	}
	if !sawPrecondition {
		t.Errorf("the gap fetch did not meet a 412: %s", e.Counter.Summary())
	}
	r = httpGet(t, e, url, nil)
	wantBody(t, "whole object after the overwrite", r, 46, size)
}
