package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

// Tests of freshness and authorization (issue 6).

// With TTL 0 every read is authorized by S3 with a conditional request: one
// origin request, a 304 and no body bytes; a wrong secret is refused even
// though the bytes are cached.
func TestTTLZeroRevalidatesEveryRead(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--get-ttl", "0", "--head-ttl", "0"}})
	const size, seed = 3 * MiB, 61
	putPattern(t, e, e.Direct, "ttl0", seed, size)
	wantBody(t, "first GET", get(t, e, e.Client, "ttl0"), seed, size)

	for i := range 3 {
		e.Counter.Reset()
		r := get(t, e, e.Client, "ttl0")
		wantBody(t, "GET", r, seed, size)
		wantXCache(t, "GET", r, "REVALIDATED")
		reqs := e.Counter.Requests()
		if len(reqs) != 1 || reqs[0].Status != http.StatusNotModified || e.Counter.Bytes() != 0 {
			t.Fatalf("read %d: want exactly one origin request answered 304 with no body, got %s", i, e.Counter.Summary())
		}
	}
	// Ranges and HEAD are authorized the same way.
	e.Counter.Reset()
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("ttl0"), Range: aws.String("bytes=10-20")})
	wantRange(t, "range", r, seed, size, 10, 20)
	wantXCache(t, "range", r, "REVALIDATED")
	wantOrigin(t, e, "range", http.MethodGet, 1)
	e.Counter.Reset()
	h := head(t, e, e.Client, "ttl0")
	wantXCache(t, "HEAD", h, "REVALIDATED")
	wantOrigin(t, e, "HEAD", http.MethodHead, 1)

	// A client with a wrong secret is refused, although the bytes are cached.
	bad := e.NewClient(harness.AccessKey, "not-the-secret")
	r = get(t, e, bad, "ttl0")
	wantErr(t, "wrong secret", r, http.StatusForbidden, "")
	wantNotHit(t, "wrong secret", r)
	// And that refusal did not drop the entry.
	e.Counter.Reset()
	r = get(t, e, e.Client, "ttl0")
	wantXCache(t, "GET after a refused client", r, "REVALIDATED")
	if e.Counter.Bytes() != 0 {
		t.Errorf("entry lost after a refused client: %s", e.Counter.Summary())
	}
}

// When the TTL runs out and the object changed at the origin, the next GET
// returns the new bytes.
func TestExpiredEntrySeesOriginChange(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--get-ttl", "1s", "--head-ttl", "1s"}})
	putPattern(t, e, e.Direct, "exp", 62, 100000)
	wantBody(t, "first GET", get(t, e, e.Client, "exp"), 62, 100000)
	r := get(t, e, e.Client, "exp")
	wantXCache(t, "fresh GET", r, "HIT")

	putPattern(t, e, e.Direct, "exp", 63, 200000) // behind the cache's back
	time.Sleep(1200 * time.Millisecond)
	r = get(t, e, e.Client, "exp")
	wantBody(t, "GET after expiry", r, 63, 200000)
	wantXCache(t, "GET after expiry", r, "MISS")
	r = get(t, e, e.Client, "exp")
	wantBody(t, "GET of the new version", r, 63, 200000)
	wantXCache(t, "GET of the new version", r, "HIT")
}

// Client conditionals: what the cache can decide with certainty (a strong
// If-Match on the cached ETag) is a hit; the rest goes to S3 and gets S3's
// answer, whether or not the object is cached.
func TestConditionalMatrixMatchesS3(t *testing.T) {
	e := harness.NewEnv(t)
	const size, seed = 50000, 64
	put := putPattern(t, e, e.Direct, "cond", seed, size)
	etag := aws.ToString(put.ETag)
	wantBody(t, "warm the cache", get(t, e, e.Client, "cond"), seed, size)
	lastMod := head(t, e, e.Direct, "cond").header.Get("Last-Modified")
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)

	cases := []struct {
		name   string
		in     *s3.GetObjectInput
		hit    bool
		status int
	}{
		{"If-Match cached ETag", &s3.GetObjectInput{IfMatch: aws.String(etag)}, true, 200},
		{"If-Match other ETag", &s3.GetObjectInput{IfMatch: aws.String(`"0000"`)}, false, 412},
		{"If-None-Match cached ETag", &s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, false, 304},
		{"If-None-Match other ETag", &s3.GetObjectInput{IfNoneMatch: aws.String(`"0000"`)}, false, 200},
		{"If-Modified-Since past", &s3.GetObjectInput{IfModifiedSince: parseHTTPTime(t, past)}, false, 200},
		// 0: whatever the server says directly (versitygw's Last-Modified
		// runs ahead of its clock, so it answers 200 where S3 says 304).
		{"If-Modified-Since Last-Modified", &s3.GetObjectInput{IfModifiedSince: parseHTTPTime(t, lastMod)}, false, 0},
		{"If-Unmodified-Since future", &s3.GetObjectInput{IfUnmodifiedSince: parseHTTPTime(t, future)}, false, 200},
		{"If-Unmodified-Since past", &s3.GetObjectInput{IfUnmodifiedSince: parseHTTPTime(t, past)}, false, 412},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := *tc.in
			in.Key = aws.String("cond")
			direct := getObject(t, e, e.Direct, &in)
			in2 := *tc.in
			in2.Key = aws.String("cond")
			e.Counter.Reset()
			via := getObject(t, e, e.Client, &in2)
			if via.status != direct.status || (tc.status != 0 && via.status != tc.status) {
				t.Fatalf("status through s3cache %d, direct %d, want %d", via.status, direct.status, tc.status)
			}
			if via.status == 200 {
				wantBody(t, "body", via, seed, size)
				if got := via.header.Get("ETag"); got != direct.header.Get("ETag") {
					t.Errorf("ETag %q through s3cache, %q direct", got, direct.header.Get("ETag"))
				}
			}
			if tc.hit {
				wantXCache(t, tc.name, via, "HIT")
				wantNoOrigin(t, e, tc.name)
			} else {
				wantNotHit(t, tc.name, via)
			}
		})
	}
}

func parseHTTPTime(t *testing.T, s string) *time.Time {
	t.Helper()
	v, err := http.ParseTime(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return &v
}

// Cache-Control: no-cache skips the lookup and refills; no-store neither
// reads nor writes the cache.
func TestClientCacheControl(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "cc", 65, 1000)
	url := presignedGet(t, e, "cc")
	r := httpGet(t, e, url, http.Header{"Cache-Control": {"no-store"}})
	wantXCache(t, "no-store", r, "MISS")
	e.Counter.Reset()
	r = httpGet(t, e, url, nil)
	wantXCache(t, "after no-store", r, "MISS") // nothing was written
	e.Counter.Reset()
	r = httpGet(t, e, url, http.Header{"Cache-Control": {"no-cache"}})
	wantXCache(t, "no-cache", r, "MISS")
	wantOrigin(t, e, "no-cache", http.MethodGet, 1)
}
