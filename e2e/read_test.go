package e2e

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3cache/s3cache/e2e/harness"
)

// TestGetMissThenHit: bytes through the proxy equal the uploaded bytes; the
// first GET is a MISS, the second a HIT that makes no origin request.
func TestGetMissThenHit(t *testing.T) {
	e := harness.NewEnv(t)
	for i, size := range []int64{0, 1, MiB + 7, 64 * MiB} {
		seed := int64(100 + i)
		t.Run(fmt.Sprintf("size=%d", size), func(t *testing.T) {
			key := fmt.Sprintf("obj/size-%d", size)
			putPattern(t, e, e.Direct, key, seed, size)
			e.Counter.Reset()

			r := get(t, e, e.Client, key)
			wantBody(t, "first GET", r, seed, size)
			wantXCache(t, "first GET", r, "MISS")
			wantOrigin(t, e, "first GET", http.MethodGet, 1)
			if got := r.header.Get("Content-Length"); got != fmt.Sprint(size) {
				t.Errorf("first GET: Content-Length %q, want %d", got, size)
			}

			e.Counter.Reset()
			r = get(t, e, e.Client, key)
			wantBody(t, "second GET", r, seed, size)
			wantXCache(t, "second GET", r, "HIT")
			wantNoOrigin(t, e, "second GET")
			if got := r.header.Get("Content-Length"); got != fmt.Sprint(size) {
				t.Errorf("second GET: Content-Length %q, want %d", got, size)
			}
		})
	}
}

// TestHeadMissThenHit: HEAD is cached on its own.
func TestHeadMissThenHit(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "h", 1, 12345)
	e.Counter.Reset()
	r := head(t, e, e.Client, "h")
	if r.err != nil {
		t.Fatalf("first HEAD: %v", r.err)
	}
	wantXCache(t, "first HEAD", r, "MISS")
	wantOrigin(t, e, "first HEAD", http.MethodHead, 1)

	e.Counter.Reset()
	r = head(t, e, e.Client, "h")
	if r.err != nil {
		t.Fatalf("second HEAD: %v", r.err)
	}
	wantXCache(t, "second HEAD", r, "HIT")
	wantNoOrigin(t, e, "second HEAD")
	if got := r.header.Get("Content-Length"); got != "12345" {
		t.Errorf("second HEAD: Content-Length %q, want 12345", got)
	}
}

// TestHeadAfterGetIsHit: a HEAD is answered from a cached GET's metadata.
func TestHeadAfterGetIsHit(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "g", 2, 4097)
	direct := head(t, e, e.Direct, "g")
	wantBody(t, "GET", get(t, e, e.Client, "g"), 2, 4097)

	e.Counter.Reset()
	r := head(t, e, e.Client, "g")
	if r.err != nil {
		t.Fatalf("HEAD: %v", r.err)
	}
	wantXCache(t, "HEAD after GET", r, "HIT")
	wantNoOrigin(t, e, "HEAD after GET")
	compareObjectHeaders(t, "HEAD after GET vs direct HEAD", direct.header, r.header)
}

// objectHeaders are the headers of a direct response that a cached reply
// must repeat: everything but what belongs to one response or connection.
func objectHeaders(h http.Header) map[string]string {
	skip := map[string]bool{"Date": true, "Server": true, "Connection": true, "Keep-Alive": true,
		"Transfer-Encoding": true, "X-Amz-Request-Id": true, "X-Amz-Id-2": true, "X-Cache": true}
	m := map[string]string{}
	for k, v := range h {
		if !skip[http.CanonicalHeaderKey(k)] {
			m[http.CanonicalHeaderKey(k)] = strings.Join(v, ", ")
		}
	}
	return m
}

func compareObjectHeaders(t *testing.T, what string, want, got http.Header) {
	t.Helper()
	w, g := objectHeaders(want), objectHeaders(got)
	var diffs []string
	for k, v := range w {
		if g[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s: got %q, want %q", k, g[k], v))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%s: headers differ:\n  %s", what, strings.Join(diffs, "\n  "))
	}
}

// TestReplayedHeaders: a HIT (GET and HEAD) carries the object's headers as
// the origin sent them: ETag, Content-Type, Content-Length, Last-Modified,
// Cache-Control, Content-Disposition, Content-Language, Expires, x-amz-meta-*.
func TestReplayedHeaders(t *testing.T) {
	e := harness.NewEnv(t)
	expires := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	putPattern(t, e, e.Direct, "dir/headers.bin", 3, 2000, func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("text/x-e2e; charset=utf-8")
		in.CacheControl = aws.String("max-age=60, public")
		in.ContentDisposition = aws.String(`attachment; filename="report 1.txt"`)
		in.ContentLanguage = aws.String("de-CH")
		in.Expires = &expires
		in.Metadata = map[string]string{"color": "blue", "multi-word-key": "two words"}
	})
	direct := get(t, e, e.Direct, "dir/headers.bin")
	wantBody(t, "direct GET", direct, 3, 2000)
	for _, h := range []string{"ETag", "Content-Type", "Last-Modified", "Cache-Control", "Content-Disposition", "X-Amz-Meta-Color", "X-Amz-Meta-Multi-Word-Key"} {
		if direct.header.Get(h) == "" {
			t.Errorf("versitygw sent no %s: the test's premise is wrong", h)
		}
	}

	miss := get(t, e, e.Client, "dir/headers.bin")
	wantBody(t, "first GET", miss, 3, 2000)
	wantXCache(t, "first GET", miss, "MISS")
	compareObjectHeaders(t, "MISS vs direct", direct.header, miss.header)

	e.Counter.Reset()
	hit := get(t, e, e.Client, "dir/headers.bin")
	wantBody(t, "second GET", hit, 3, 2000)
	wantXCache(t, "second GET", hit, "HIT")
	wantNoOrigin(t, e, "second GET")
	compareObjectHeaders(t, "HIT vs direct", direct.header, hit.header)

	directHead := head(t, e, e.Direct, "dir/headers.bin")
	hh := head(t, e, e.Client, "dir/headers.bin")
	wantXCache(t, "HEAD", hh, "HIT")
	compareObjectHeaders(t, "HEAD HIT vs direct HEAD", directHead.header, hh.header)
}

// TestNotFoundNotCached: 404 NoSuchKey passes through and is not cached.
func TestNotFoundNotCached(t *testing.T) {
	e := harness.NewEnv(t)
	e.Counter.Reset()
	for i := 1; i <= 2; i++ {
		r := get(t, e, e.Client, "missing/key")
		wantErr(t, fmt.Sprintf("GET #%d", i), r, 404, "NoSuchKey")
		wantNotHit(t, fmt.Sprintf("GET #%d", i), r)
	}
	wantOrigin(t, e, "two GETs of a missing key", http.MethodGet, 2)

	e.Counter.Reset()
	for i := 1; i <= 2; i++ {
		r := head(t, e, e.Client, "missing/key")
		wantErr(t, fmt.Sprintf("HEAD #%d", i), r, 404, "")
		wantNotHit(t, fmt.Sprintf("HEAD #%d", i), r)
	}
	wantOrigin(t, e, "two HEADs of a missing key", http.MethodHead, 2)

	// Created behind the cache's back: the next GET must see it.
	putPattern(t, e, e.Direct, "missing/key", 4, 10)
	wantBody(t, "GET after the key appeared", get(t, e, e.Client, "missing/key"), 4, 10)
}

// TestPresignedGet: a presigned URL fetched with plain net/http: MISS then HIT.
func TestPresignedGet(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 300000
	putPattern(t, e, e.Direct, "pre/signed obj", 5, size)
	ps, err := s3.NewPresignClient(e.Client).PresignGetObject(e.Ctx(), &s3.GetObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("pre/signed obj")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ps.URL, e.FrontURL()) {
		t.Fatalf("presigned URL %s does not point at s3cache %s", ps.URL, e.FrontURL())
	}
	e.Counter.Reset()
	r := httpGet(t, e, ps.URL, nil)
	wantBody(t, "first presigned GET", r, 5, size)
	wantXCache(t, "first presigned GET", r, "MISS")
	wantOrigin(t, e, "first presigned GET", http.MethodGet, 1)

	e.Counter.Reset()
	r = httpGet(t, e, ps.URL, nil)
	wantBody(t, "second presigned GET", r, 5, size)
	wantXCache(t, "second presigned GET", r, "HIT")
	wantNoOrigin(t, e, "second presigned GET")
}

// httpGet does a plain GET through e.HTTP() and hashes the body.
func httpGet(t testing.TB, e *harness.Env, url string, hdr http.Header) result {
	t.Helper()
	req, err := http.NewRequestWithContext(e.Ctx(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.HTTP().Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	r := result{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode/100 != 2 {
		b := make([]byte, 4096)
		n, _ := resp.Body.Read(b)
		r.err = fmt.Errorf("HTTP %s: %s", resp.Status, b[:n])
		return r
	}
	r.sha, r.n, r.err = harness.SHA256(resp.Body)
	return r
}

// TestVirtualHostedGet: BUCKET.s3.local.test:PORT style requests, MISS then HIT.
func TestVirtualHostedGet(t *testing.T) {
	e := harness.NewEnv(t, virtualHostOptions)
	vc := e.VirtualClient()
	putPattern(t, e, e.Direct, "vh/obj", 6, 70000)
	e.Counter.Reset()
	r := get(t, e, vc, "vh/obj")
	wantBody(t, "first virtual-hosted GET", r, 6, 70000)
	wantXCache(t, "first virtual-hosted GET", r, "MISS")
	reqs := e.Counter.Requests()
	if len(reqs) == 0 || !strings.HasPrefix(reqs[0].Host, e.Bucket+"."+harness.VirtualDomain) {
		t.Errorf("origin did not see the virtual-hosted Host header: %s", e.Counter.Summary())
	}
	e.Counter.Reset()
	r = get(t, e, vc, "vh/obj")
	wantBody(t, "second virtual-hosted GET", r, 6, 70000)
	wantXCache(t, "second virtual-hosted GET", r, "HIT")
	wantNoOrigin(t, e, "second virtual-hosted GET")
}

// virtualHostOptions tell s3cache, as an operator would, that names under
// s3.local.test are BUCKET.s3.local.test.
var virtualHostOptions = harness.Options{CacheArgs: []string{"--virtual-host-domains", harness.VirtualDomain}}

// TestVirtualAndPathStyleShareEntries: the same object addressed both ways is
// one entry: a write in one style invalidates what the other style cached.
func TestVirtualAndPathStyleShareEntries(t *testing.T) {
	e := harness.NewEnv(t, virtualHostOptions)
	vc := e.VirtualClient()
	putPattern(t, e, e.Direct, "both", 15, 5000)
	wantBody(t, "virtual-hosted GET", get(t, e, vc, "both"), 15, 5000)
	e.Counter.Reset()
	r := get(t, e, e.Client, "both")
	wantBody(t, "path-style GET after a virtual-hosted GET", r, 15, 5000)
	wantXCache(t, "path-style GET after a virtual-hosted GET", r, "HIT")
	wantNoOrigin(t, e, "path-style GET after a virtual-hosted GET")

	// Writes in one style replace the entry read in the other (the new
	// bytes may come from the write-through cache: what matters is that
	// they are the new ones).
	putPattern(t, e, e.Client, "both", 16, 6000) // path-style write
	r = get(t, e, vc, "both")
	wantBody(t, "virtual-hosted GET after a path-style PUT", r, 16, 6000)

	putPattern(t, e, vc, "both", 17, 7000) // virtual-hosted write
	r = get(t, e, e.Client, "both")
	wantBody(t, "path-style GET after a virtual-hosted PUT", r, 17, 7000)
}

// TestOddKeyNames: keys that need URL encoding are forwarded byte for byte
// (signatures stay valid) and cached under the right name.
func TestOddKeyNames(t *testing.T) {
	e := harness.NewEnv(t)
	// (No key ending in "/": versitygw's posix backend stores it as a
	// directory and refuses a body.)
	keys := []string{"with space/and+plus", "ünïcödé/日本語.txt", "sym!$&'()*,;=:@~.bin", "percent%2Fslash", "a//double/slash"}
	for i, k := range keys {
		seed := int64(200 + i)
		size := int64(1000 + i)
		putPattern(t, e, e.Client, k, seed, size)
		r := get(t, e, e.Client, k)
		wantBody(t, "first GET "+k, r, seed, size)
		e.Counter.Reset()
		r = get(t, e, e.Client, k)
		wantBody(t, "second GET "+k, r, seed, size)
		wantXCache(t, "second GET "+k, r, "HIT")
		wantNoOrigin(t, e, "second GET "+k)
	}
	// Distinct keys must not share an entry.
	for i, k := range keys {
		wantBody(t, "re-read "+k, get(t, e, e.Client, k), int64(200+i), int64(1000+i))
	}
}

// TestRangeFromCachedObject: after a whole GET, a Range GET is a HIT with
// exactly the asked bytes and Content-Range.
func TestRangeFromCachedObject(t *testing.T) {
	e := harness.NewEnv(t)
	const size = 3*MiB + 11
	putPattern(t, e, e.Direct, "r", 7, size)
	wantBody(t, "whole GET", get(t, e, e.Client, "r"), 7, size)

	cases := []struct {
		rng        string
		start, end int64
	}{
		{"bytes=100-199", 100, 199},
		{"bytes=0-0", 0, 0},
		{fmt.Sprintf("bytes=%d-", size-5), size - 5, size - 1},
		{"bytes=-10", size - 10, size - 1},
		{fmt.Sprintf("bytes=%d-%d", MiB-3, 2*MiB+3), MiB - 3, 2*MiB + 3},
		{fmt.Sprintf("bytes=%d-%d", size-2, size+1000), size - 2, size - 1}, // end past EOF is clipped
	}
	for _, c := range cases {
		e.Counter.Reset()
		r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("r"), Range: aws.String(c.rng)})
		if r.err != nil {
			t.Errorf("%s: %v", c.rng, r.err)
			continue
		}
		if r.status != http.StatusPartialContent {
			t.Errorf("%s: status %d, want 206", c.rng, r.status)
		}
		wantXCache(t, c.rng, r, "HIT")
		wantNoOrigin(t, e, c.rng)
		if got, want := r.header.Get("Content-Range"), fmt.Sprintf("bytes %d-%d/%d", c.start, c.end, size); got != want {
			t.Errorf("%s: Content-Range %q, want %q", c.rng, got, want)
		}
		if want := harness.PatternRange(7, size, c.start, c.end); string(r.body) != string(want) {
			t.Errorf("%s: got %d bytes that differ from bytes %d-%d of the object", c.rng, len(r.body), c.start, c.end)
		}
	}

	// Unsatisfiable: S3 answers 416 InvalidRange; never a HIT with wrong bytes.
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("r"), Range: aws.String(fmt.Sprintf("bytes=%d-", size+10))})
	wantErr(t, "range past the end", r, 416, "InvalidRange")
}

// TestRangeMissForwarded: a Range GET of an uncached object gets the right bytes.
func TestRangeMissForwarded(t *testing.T) {
	e := harness.NewEnv(t)
	const size = MiB + 1
	putPattern(t, e, e.Direct, "rm", 8, size)
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("rm"), Range: aws.String("bytes=5-1004")})
	if r.err != nil || r.status != 206 {
		t.Fatalf("range miss: status %d, %v", r.status, r.err)
	}
	if string(r.body) != string(harness.PatternRange(8, size, 5, 1004)) {
		t.Fatalf("range miss: wrong bytes (%d)", len(r.body))
	}
	if got := r.header.Get("Content-Range"); got != fmt.Sprintf("bytes 5-1004/%d", size) {
		t.Errorf("range miss: Content-Range %q", got)
	}
	wantNotHit(t, "range miss", r)
	// The whole object must still read back whole, not as the cached range.
	wantBody(t, "whole GET after a range miss", get(t, e, e.Client, "rm"), 8, size)
}

// TestResponseOverridesOnHit: response-content-type (and friends) are applied
// on top of a hit, and are not stored under the plain key.
func TestResponseOverridesOnHit(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "ov", 9, 5000, func(in *s3.PutObjectInput) { in.ContentType = aws.String("application/x-original") })
	wantBody(t, "plain GET", get(t, e, e.Client, "ov"), 9, 5000)

	e.Counter.Reset()
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("ov"),
		ResponseContentType:        aws.String("text/x-override"),
		ResponseContentDisposition: aws.String(`inline; filename="x.txt"`),
		ResponseCacheControl:       aws.String("no-store"),
	})
	wantBody(t, "GET with overrides", r, 9, 5000)
	wantXCache(t, "GET with overrides", r, "HIT")
	wantNoOrigin(t, e, "GET with overrides")
	for h, want := range map[string]string{"Content-Type": "text/x-override", "Content-Disposition": `inline; filename="x.txt"`, "Cache-Control": "no-store"} {
		if got := r.header.Get(h); got != want {
			t.Errorf("GET with overrides: %s %q, want %q", h, got, want)
		}
	}

	r = get(t, e, e.Client, "ov")
	wantBody(t, "plain GET after overrides", r, 9, 5000)
	if got := r.header.Get("Content-Type"); got != "application/x-original" {
		t.Errorf("plain GET after an override: Content-Type %q, want the object's own application/x-original", got)
	}
	if got := r.header.Get("Cache-Control"); got != "" {
		t.Errorf("plain GET after an override: Cache-Control %q, want none", got)
	}
}

// TestResponseOverridesOnMiss: an override on a miss gets the overridden
// header, and a later plain GET still sees the object's own Content-Type.
func TestResponseOverridesOnMiss(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "ovm", 10, 500, func(in *s3.PutObjectInput) { in.ContentType = aws.String("application/x-original") })
	r := getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("ovm"), ResponseContentType: aws.String("text/x-override")})
	wantBody(t, "GET with override (miss)", r, 10, 500)
	if got := r.header.Get("Content-Type"); got != "text/x-override" {
		t.Errorf("GET with override (miss): Content-Type %q", got)
	}
	for i := 1; i <= 2; i++ {
		r = get(t, e, e.Client, "ovm")
		wantBody(t, "plain GET", r, 10, 500)
		if got := r.header.Get("Content-Type"); got != "application/x-original" {
			t.Errorf("plain GET #%d after an override miss: Content-Type %q, want application/x-original (X-Cache %s)", i, got, r.xcache())
		}
	}
}

// TestVersionIDIsPartOfKey: each versionId is cached separately, and the
// plain key means the latest version.
func TestVersionIDIsPartOfKey(t *testing.T) {
	e := harness.NewEnv(t)
	if _, err := e.Direct.PutBucketVersioning(e.Ctx(), &s3.PutBucketVersioningInput{Bucket: aws.String(e.Bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Skipf("versitygw refused versioning (started without --versioning-dir?): %v", err)
	}
	v1 := putPattern(t, e, e.Direct, "ver", 11, 1000)
	v2 := putPattern(t, e, e.Direct, "ver", 12, 2000)
	if v1.VersionId == nil || v2.VersionId == nil || *v1.VersionId == *v2.VersionId {
		t.Fatalf("versitygw gave no distinct version ids: %v %v", aws.ToString(v1.VersionId), aws.ToString(v2.VersionId))
	}
	getV := func(id *string) result {
		return getObject(t, e, e.Client, &s3.GetObjectInput{Key: aws.String("ver"), VersionId: id})
	}
	e.Counter.Reset()
	wantBody(t, "GET v1", getV(v1.VersionId), 11, 1000)
	wantBody(t, "GET v2", getV(v2.VersionId), 12, 2000)
	wantBody(t, "GET latest", get(t, e, e.Client, "ver"), 12, 2000)
	wantOrigin(t, e, "first GET of v1, v2, latest", http.MethodGet, 3)

	e.Counter.Reset()
	r := getV(v1.VersionId)
	wantBody(t, "GET v1 again", r, 11, 1000)
	wantXCache(t, "GET v1 again", r, "HIT")
	if got := r.header.Get("X-Amz-Version-Id"); got != *v1.VersionId {
		t.Errorf("GET v1 again: x-amz-version-id %q, want %q", got, *v1.VersionId)
	}
	r = getV(v2.VersionId)
	wantBody(t, "GET v2 again", r, 12, 2000)
	wantXCache(t, "GET v2 again", r, "HIT")
	r = get(t, e, e.Client, "ver")
	wantBody(t, "GET latest again", r, 12, 2000)
	wantXCache(t, "GET latest again", r, "HIT")
	wantNoOrigin(t, e, "second GET of v1, v2, latest")

	// HEAD of a version is that version's metadata.
	h := getHeadVersion(t, e, v1.VersionId)
	if got := h.header.Get("Content-Length"); got != "1000" {
		t.Errorf("HEAD v1: Content-Length %q, want 1000", got)
	}
}

func getHeadVersion(t *testing.T, e *harness.Env, id *string) result {
	t.Helper()
	out, err := e.Client.HeadObject(e.Ctx(), &s3.HeadObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String("ver"), VersionId: id})
	if err != nil {
		t.Fatalf("HEAD version %s: %v", aws.ToString(id), err)
	}
	return result{header: harness.Header(out.ResultMetadata)}
}

// TestConditionalsForwarded: If-None-Match, If-Modified-Since and
// If-Unmodified-Since reach the origin even when the object is cached, and the
// client gets the same status as straight from the origin (If-Match too).
func TestConditionalsForwarded(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "cond", 13, 800)
	r := get(t, e, e.Client, "cond")
	wantBody(t, "GET", r, 13, 800)
	etag := r.header.Get("ETag")
	lm, err := http.ParseTime(r.header.Get("Last-Modified"))
	if err != nil {
		t.Fatalf("Last-Modified %q: %v", r.header.Get("Last-Modified"), err)
	}
	cases := []struct {
		name, header string
		forward      bool // the contract says it must reach the origin
		set          func(*s3.GetObjectInput)
	}{
		{"If-None-Match matching", "If-None-Match", true, func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(etag) }},
		{"If-None-Match other", "If-None-Match", true, func(in *s3.GetObjectInput) { in.IfNoneMatch = aws.String(`"0000"`) }},
		{"If-Modified-Since later", "If-Modified-Since", true, func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(lm.Add(time.Second)) }},
		{"If-Modified-Since earlier", "If-Modified-Since", true, func(in *s3.GetObjectInput) { in.IfModifiedSince = aws.Time(lm.Add(-time.Hour)) }},
		{"If-Unmodified-Since earlier", "If-Unmodified-Since", true, func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(lm.Add(-time.Hour)) }},
		{"If-Unmodified-Since later", "If-Unmodified-Since", true, func(in *s3.GetObjectInput) { in.IfUnmodifiedSince = aws.Time(lm.Add(time.Hour)) }},
		{"If-Match matching", "If-Match", false, func(in *s3.GetObjectInput) { in.IfMatch = aws.String(etag) }},
		{"If-Match other", "If-Match", false, func(in *s3.GetObjectInput) { in.IfMatch = aws.String(`"0000"`) }},
	}
	for _, c := range cases {
		din, pin := &s3.GetObjectInput{Key: aws.String("cond")}, &s3.GetObjectInput{Key: aws.String("cond")}
		c.set(din)
		c.set(pin)
		d := getObject(t, e, e.Direct, din)
		e.Counter.Reset()
		p := getObject(t, e, e.Client, pin)
		if p.status != d.status {
			t.Errorf("%s: status %d through s3cache (%v), %d from the origin directly", c.name, p.status, p.err, d.status)
		}
		if p.status == 200 {
			wantBody(t, c.name, p, 13, 800)
		}
		if c.forward {
			reqs := e.Counter.Requests()
			if len(reqs) != 1 || reqs[0].Header.Get(c.header) == "" {
				t.Errorf("%s: want one origin GET carrying %s, got %s", c.name, c.header, e.Counter.Summary())
			}
		}
	}

	// The plain key is still a hit afterwards, with the right bytes.
	e.Counter.Reset()
	r = get(t, e, e.Client, "cond")
	wantBody(t, "plain GET after conditionals", r, 13, 800)
	wantXCache(t, "plain GET after conditionals", r, "HIT")
	wantNoOrigin(t, e, "plain GET after conditionals")
}

// TestZeroTTLRevalidates: with --get-ttl 0 and --head-ttl 0 every read asks
// the origin (with the client's own signature) and a 304 is served from the
// cache as REVALIDATED; a client with a wrong secret is refused even though
// the bytes are cached.
func TestZeroTTLRevalidates(t *testing.T) {
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--get-ttl", "0s", "--head-ttl", "0s"}})
	const size = 2*MiB + 5
	putPattern(t, e, e.Direct, "z", 14, size)
	wantBody(t, "first GET", get(t, e, e.Client, "z"), 14, size)

	e.Counter.Reset()
	r := get(t, e, e.Client, "z")
	wantBody(t, "second GET", r, 14, size)
	wantXCache(t, "second GET", r, "REVALIDATED")
	wantOrigin(t, e, "second GET", http.MethodGet, 1)
	if b := e.Counter.Bytes(); b > 64<<10 {
		t.Errorf("second GET: origin sent %d body bytes; a revalidation should not move the object", b)
	}

	bad := e.NewClient(harness.AccessKey, "not-the-secret")
	r = get(t, e, bad, "z")
	wantErr(t, "wrong secret with TTL 0", r, 403, "SignatureDoesNotMatch")
}
