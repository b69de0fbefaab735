package e2e

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3cache/s3cache/e2e/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

const MiB = 1 << 20

// result is what a test needs of one GET or HEAD.
type result struct {
	err    error
	status int
	code   string // S3 error code
	header http.Header
	sha    string
	n      int64
	body   []byte // kept when at most keepBody bytes
}

const keepBody = 2 * MiB

func (r result) xcache() string { return r.header.Get("X-Cache") }

// getObject runs GetObject and reads the body to the end.
func getObject(t testing.TB, e *harness.Env, c *s3.Client, in *s3.GetObjectInput) result {
	t.Helper()
	if in.Bucket == nil {
		in.Bucket = aws.String(e.Bucket)
	}
	out, err := c.GetObject(e.Ctx(), in)
	if err != nil {
		st, code, h := harness.ErrInfo(err)
		return result{err: err, status: st, code: code, header: h}
	}
	defer out.Body.Close()
	r := result{status: harness.RawResponse(out.ResultMetadata).StatusCode, header: harness.Header(out.ResultMetadata)}
	var buf bytes.Buffer
	tee := io.Reader(out.Body)
	if out.ContentLength != nil && *out.ContentLength <= keepBody {
		tee = io.TeeReader(out.Body, &buf)
	}
	r.sha, r.n, r.err = harness.SHA256(tee)
	if buf.Len() > 0 || (out.ContentLength != nil && *out.ContentLength == 0) {
		r.body = buf.Bytes()
	}
	return r
}

func get(t testing.TB, e *harness.Env, c *s3.Client, key string) result {
	t.Helper()
	return getObject(t, e, c, &s3.GetObjectInput{Key: aws.String(key)})
}

func head(t testing.TB, e *harness.Env, c *s3.Client, key string) result {
	t.Helper()
	out, err := c.HeadObject(e.Ctx(), &s3.HeadObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key)})
	if err != nil {
		st, code, h := harness.ErrInfo(err)
		return result{err: err, status: st, code: code, header: h}
	}
	return result{status: harness.RawResponse(out.ResultMetadata).StatusCode, header: harness.Header(out.ResultMetadata)}
}

// putPattern uploads the deterministic pattern (seed, size) under key.
func putPattern(t testing.TB, e *harness.Env, c *s3.Client, key string, seed, size int64, mods ...func(*s3.PutObjectInput)) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(e.Bucket), Key: aws.String(key), Body: harness.NewPattern(seed, size), ContentLength: aws.Int64(size)}
	for _, m := range mods {
		m(in)
	}
	out, err := c.PutObject(e.Ctx(), in)
	if err != nil {
		t.Fatalf("PutObject %s (%d bytes): %v", key, size, err)
	}
	return out
}

// wantBody fails unless r is a successful read of pattern (seed, size).
func wantBody(t testing.TB, what string, r result, seed, size int64) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v (status %d, X-Cache %q)", what, r.err, r.status, r.xcache())
	}
	if r.n != size {
		t.Fatalf("%s: got %d bytes, want %d (X-Cache %q)", what, r.n, size, r.xcache())
	}
	if want := harness.PatternSHA256(seed, size); r.sha != want {
		t.Fatalf("%s: body differs from what was uploaded (sha256 %s, want %s; X-Cache %q)", what, r.sha, want, r.xcache())
	}
}

func wantXCache(t testing.TB, what string, r result, want string) {
	t.Helper()
	if got := r.xcache(); got != want {
		t.Errorf("%s: X-Cache = %q, want %q", what, got, want)
	}
}

// wantNoOrigin fails if anything reached the origin since the last Reset.
func wantNoOrigin(t testing.TB, e *harness.Env, what string) {
	t.Helper()
	if n := e.Counter.Total(); n != 0 {
		t.Errorf("%s: want no origin request, got %s", what, e.Counter.Summary())
	}
}

// wantOrigin fails unless exactly n requests of method reached the origin since the last Reset.
func wantOrigin(t testing.TB, e *harness.Env, what, method string, n int) {
	t.Helper()
	if got := e.Counter.Count(method); got != n {
		t.Errorf("%s: want %d origin %s request(s), got %s", what, n, method, e.Counter.Summary())
	}
}

// wantErr fails unless r is an S3 error with that status and code.
func wantErr(t testing.TB, what string, r result, status int, code string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("%s: succeeded (X-Cache %q), want %d %s", what, r.xcache(), status, code)
	}
	if r.status != status || (code != "" && r.code != code) {
		t.Fatalf("%s: got status %d code %q (%v), want %d %s", what, r.status, r.code, r.err, status, code)
	}
}

// wantNotHit fails if a response that must not come from the cache says HIT,
// or carries no X-Cache at all (every response of the caching listener must).
func wantNotHit(t testing.TB, what string, r result) {
	t.Helper()
	switch x := r.xcache(); x {
	case "":
		t.Errorf("%s: no X-Cache header", what)
	case "HIT":
		t.Errorf("%s: X-Cache HIT, but this response must not come from the cache", what)
	}
}
