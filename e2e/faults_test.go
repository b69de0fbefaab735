package e2e

// Fault injection: s3cache in front of an in-process origin (fakeS3, on
// 127.0.0.1) that imitates S3 for GET and HEAD (ETag, Content-Length,
// Range → 206 with Content-Range, If-Match → 412, NoSuchKey) and misbehaves
// on demand: a connection reset mid-body, a body cut short under a full
// Content-Length, 500 and 503 SlowDown with Retry-After, a slow first byte,
// a body that stalls, an object whose ETag changes between requests.
//
// What must hold whatever the origin does: the client gets the right bytes,
// S3's own error, or an abort it can see (never a short body that looks
// complete); every response carries X-Cache; nothing wrong is cached (a
// later GET returns the right bytes, and once settled from the cache).

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3cache/s3cache/e2e/harness"
	"github.com/s3cache/s3cache/internal/s3req"
)

// fakeObject is one version of an object.
type fakeObject struct {
	body []byte
	etag string
}

func newFakeObject(seed, size int64) fakeObject {
	b := harness.PatternBytes(seed, size)
	return fakeObject{body: b, etag: newFakeETag(b)}
}

// newFakeETag is what S3 gives a single-part upload: the MD5 of the bytes
// (s3cache checks such ETags against the bytes it fills).
func newFakeETag(b []byte) string {
	sum := md5.Sum(b)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// fault answers one request in its own way. It gets the object the origin
// would have served (zero if none).
type fault func(w http.ResponseWriter, r *http.Request, o fakeObject)

// fakeS3 is the misbehaving origin.
type fakeS3 struct {
	srv *httptest.Server

	mu      sync.Mutex
	objects map[string]fakeObject // by "/bucket/key"
	faults  []fault               // one each for the next GET/HEAD requests
	// flap, when set, replaces the object by the next of these versions
	// after each answer; laxIfMatch ignores If-Match (a 200/206 of whatever
	// version is current).
	flap       []fakeObject
	flapped    int
	laxIfMatch bool
	// anyKey, when set, is served for every key the origin does not have.
	anyKey *fakeObject
	// uploadID is what CreateMultipartUpload answers.
	uploadID string
	reqs     []string // "METHOD path range if-match"
	done     chan struct{}
}

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{objects: map[string]fakeObject{}, done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.done) // releases stalled handlers
		f.srv.CloseClientConnections()
		f.srv.Close()
	})
	return f
}

func (f *fakeS3) put(path string, o fakeObject) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[path] = o
}

// inject queues faults for the next GET or HEAD requests, in order.
func (f *fakeS3) inject(fs ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fs...)
}

func (f *fakeS3) clearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

func (f *fakeS3) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

func (f *fakeS3) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = nil
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 64<<20))
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", r.Method, r.URL.RequestURI(), r.Header.Get("Range"), r.Header.Get("If-Match"))))
	o, ok := f.objects[r.URL.Path]
	if !ok && f.anyKey != nil {
		o, ok = *f.anyKey, true
	}
	if r.Method == http.MethodPut && !r.URL.Query().Has("uploadId") {
		o, ok = fakeObject{body: body, etag: newFakeETag(body)}, true
		f.objects[r.URL.Path] = o
	}
	if r.Method == http.MethodDelete && !r.URL.Query().Has("uploadId") {
		delete(f.objects, r.URL.Path)
	}
	uploadID := f.uploadID
	var fl fault
	if len(f.faults) > 0 && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		fl, f.faults = f.faults[0], f.faults[1:]
	}
	if ok && fl == nil && len(f.flap) > 0 {
		f.flapped++
		f.objects[r.URL.Path] = f.flap[f.flapped%len(f.flap)]
	}
	if f.laxIfMatch {
		r.Header.Del("If-Match")
	}
	f.mu.Unlock()
	w.Header().Set("X-Amz-Request-Id", "FAKE"+strconv.Itoa(int(time.Now().UnixNano()%1e6)))
	if fl != nil {
		fl(w, r, o)
		return
	}
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut:
		w.Header().Set("ETag", newFakeETag(body))
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && q.Has("uploads"):
		fmt.Fprintf(w, "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>%s</UploadId></InitiateMultipartUploadResult>", uploadID)
	case r.Method == http.MethodPost && q.Has("uploadId"):
		fmt.Fprintf(w, "<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag>%s</ETag></CompleteMultipartUploadResult>", newFakeETag(body))
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		s3Error(w, http.StatusNotImplemented, "NotImplemented", "")
	case !ok:
		s3Error(w, http.StatusNotFound, "NoSuchKey", "")
	default:
		serveObject(w, r, o)
	}
}

// serveObject answers like S3: If-Match, Range, ETag, Content-Length.
func serveObject(w http.ResponseWriter, r *http.Request, o fakeObject) {
	if im := r.Header.Get("If-Match"); im != "" && im != o.etag && im != "*" {
		s3Error(w, http.StatusPreconditionFailed, "PreconditionFailed", "")
		return
	}
	h := w.Header()
	h.Set("ETag", o.etag)
	h.Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Accept-Ranges", "bytes")
	size := int64(len(o.body))
	start, end, status := int64(0), size, http.StatusOK
	if rg := r.Header.Get("Range"); rg != "" {
		br, err := s3req.ParseRange(rg)
		if err != nil {
			s3Error(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "")
			return
		}
		switch {
		case br.IsSuffix:
			start = max(size-br.Suffix, 0)
		case br.First >= size:
			s3Error(w, http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "")
			return
		default:
			start = br.First
			if br.Last >= 0 && br.Last+1 < size {
				end = br.Last + 1
			}
		}
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	}
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(o.body[start:end])
	}
}

func s3Error(w http.ResponseWriter, status int, code, retryAfter string) {
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>fake origin says %s</Message><RequestId>FAKE</RequestId></Error>", code, code)
}

// ---- faults ----

// cutAfter sends the whole object's headers and n body bytes, then ends the
// connection: with a TCP reset (rst) or a plain close that looks orderly.
func cutAfter(n int, rst bool) fault {
	return func(w http.ResponseWriter, r *http.Request, o fakeObject) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nETag: %s\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\nLast-Modified: Wed, 25 Nov 2026 10:00:00 GMT\r\n\r\n", o.etag, len(o.body))
		_, _ = buf.Write(o.body[:n])
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok && rst {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// errorStatus answers with S3's XML error.
func errorStatus(status int, code, retryAfter string) fault {
	return func(w http.ResponseWriter, r *http.Request, _ fakeObject) { s3Error(w, status, code, retryAfter) }
}

// stallThen waits d (or until the test ends or s3cache hangs up) and then
// answers normally.
func (f *fakeS3) stallThen(d time.Duration) fault {
	return func(w http.ResponseWriter, r *http.Request, o fakeObject) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
		serveObject(w, r, o)
	}
}

// stallBody sends the headers and n bytes, then nothing for d, then the rest.
func (f *fakeS3) stallBody(n int, d time.Duration) fault {
	return func(w http.ResponseWriter, r *http.Request, o fakeObject) {
		w.Header().Set("ETag", o.etag)
		w.Header().Set("Content-Length", strconv.Itoa(len(o.body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(o.body[:n])
		_ = http.NewResponseController(w).Flush()
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
		_, _ = w.Write(o.body[n:])
	}
}

// ---- s3cache in front of the fake ----

type faultEnv struct {
	t      *testing.T
	fake   *fakeS3
	cache  *harness.Cache
	http   *http.Client
	art    string
	bucket string
}

// newFaultEnv starts a fake origin and s3cache in front of it. It needs no
// S3 server, only the s3cache binary.
func newFaultEnv(t *testing.T, cacheArgs ...string) *faultEnv {
	t.Helper()
	bin, err := harness.S3CacheBinary()
	if err != nil {
		t.Fatalf("s3cache binary: %v", err)
	}
	fe := &faultEnv{t: t, fake: newFakeS3(t), http: harness.NewHTTPClient("", nil), bucket: "fault-bucket"}
	fe.art = testArtifacts(t)
	fe.cache = harness.StartCache(t, bin, fe.art, append([]string{"--origin", fe.fake.srv.URL}, cacheArgs...)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("fake origin saw: %s", strings.Join(fe.fake.requests(), "; "))
			t.Logf("---- s3cache.log (last 40 lines) ----\n%s", tailFile(filepath.Join(fe.art, "s3cache.log"), 40))
		}
	})
	return fe
}

var unsafeNameRE = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// testArtifacts is this test's directory under e2e/artifacts (git-ignored).
func testArtifacts(t *testing.T) string {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "e2e", "artifacts", unsafeNameRE.ReplaceAllString(t.Name(), "_"))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

func (fe *faultEnv) path(key string) string { return "/" + fe.bucket + "/" + key }

// fetch is one request through s3cache, read to the end.
type fetched struct {
	status  int
	header  http.Header
	body    []byte
	err     error // transport or body error: an abort the client can see
	elapsed time.Duration
}

func (fe *faultEnv) do(method, key string, hdr ...string) fetched {
	fe.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, fe.cache.URL+fe.path(key), nil)
	if err != nil {
		fe.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	start := time.Now()
	resp, err := fe.http.Do(req)
	if err != nil {
		return fetched{err: err, elapsed: time.Since(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return fetched{status: resp.StatusCode, header: resp.Header, body: b, err: err, elapsed: time.Since(start)}
}

// wantClean fails on the one unforgivable outcome of a fault: a response
// without X-Cache, or a 200 whose body is not the object though nothing
// told the client so. It returns true if the client got the whole object.
func wantClean(t *testing.T, what string, got fetched, o fakeObject) bool {
	t.Helper()
	if got.status != 0 && got.header.Get("X-Cache") == "" {
		t.Errorf("%s: status %d without X-Cache", what, got.status)
	}
	switch {
	case got.status == http.StatusOK && got.err == nil:
		if !bytes.Equal(got.body, o.body) {
			t.Errorf("%s: 200 with %d bytes that are not the object's %d, and no error: the client takes a wrong body for complete", what, len(got.body), len(o.body))
			return false
		}
		return true
	case got.status == http.StatusOK:
		if !bytes.Equal(got.body, o.body[:min(len(got.body), len(o.body))]) {
			t.Errorf("%s: the %d bytes before the abort are not the object's", what, len(got.body))
		}
		t.Logf("%s: aborted after %d of %d bytes: %v (a visible abort)", what, len(got.body), len(o.body), got.err)
	case got.err != nil && got.status == 0:
		t.Logf("%s: request failed: %v", what, got.err)
	default:
		t.Logf("%s: %d %s (X-Cache %s)", what, got.status, xmlCode(got.body), got.header.Get("X-Cache"))
	}
	return false
}

// wantRecovered: once the origin behaves, reads get the object, and settle
// into hits that reach no origin.
func (fe *faultEnv) wantRecovered(key string, o fakeObject) {
	t := fe.t
	t.Helper()
	for i := 1; i <= 2; i++ {
		got := fe.do(http.MethodGet, key)
		if got.err != nil || got.status != http.StatusOK || !bytes.Equal(got.body, o.body) {
			t.Fatalf("GET #%d once the origin behaves: status %d, %d bytes (want %d), err %v, X-Cache %q", i, got.status, len(got.body), len(o.body), got.err, got.header.Get("X-Cache"))
		}
	}
	fe.fake.reset()
	got := fe.do(http.MethodGet, key)
	if got.status != http.StatusOK || !bytes.Equal(got.body, o.body) || got.header.Get("X-Cache") != "HIT" {
		t.Errorf("GET once settled: status %d, %d bytes, X-Cache %q: want the object as a HIT", got.status, len(got.body), got.header.Get("X-Cache"))
	}
	if reqs := fe.fake.requests(); len(reqs) > 0 {
		t.Errorf("GET once settled: reached the origin: %s", strings.Join(reqs, "; "))
	}
	if rg := fe.do(http.MethodGet, key, "Range", "bytes=1000-1999"); rg.status != http.StatusPartialContent || !bytes.Equal(rg.body, o.body[1000:2000]) {
		t.Errorf("range GET once settled: status %d, %d bytes (want the object's bytes 1000-1999)", rg.status, len(rg.body))
	}
}

const faultSize = 3 * MiB

// TestFaultResetMidBody: the origin resets the connection after 1 MiB of a
// 3 MiB object. The client sees an abort (or, if s3cache resumes, the whole
// object); the next reads get the whole object; no short entry is served.
func TestFaultResetMidBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		rst  bool
	}{{"reset", true}, {"orderly-close-short", false}} {
		t.Run(tc.name, func(t *testing.T) {
			fe := newFaultEnv(t)
			o := newFakeObject(1, faultSize)
			fe.fake.put(fe.path("k"), o)
			fe.fake.inject(cutAfter(MiB, tc.rst))
			wantClean(t, "GET cut by the origin", fe.do(http.MethodGet, "k"), o)
			fe.wantRecovered("k", o)
		})
	}
}

// TestFaultCutOnGapFetch: the first read caches a prefix (the origin cut
// the body after 1 MiB), and the gap fetch for the rest is cut too. No read
// may stitch anything but the object's own bytes.
func TestFaultCutOnGapFetch(t *testing.T) {
	fe := newFaultEnv(t)
	o := newFakeObject(2, faultSize)
	fe.fake.put(fe.path("k"), o)
	fe.fake.inject(cutAfter(MiB, false), cutAfter(10, true), cutAfter(MiB/2, false))
	for i := 1; i <= 3; i++ {
		wantClean(t, fmt.Sprintf("GET #%d while the origin cuts bodies", i), fe.do(http.MethodGet, "k"), o)
	}
	fe.wantRecovered("k", o)
}

// TestFaultErrorStatuses: S3's 500 and 503 SlowDown (with Retry-After) reach
// the client as S3 sent them, for GET and HEAD, and are not cached.
func TestFaultErrorStatuses(t *testing.T) {
	fe := newFaultEnv(t)
	o := newFakeObject(3, faultSize)
	fe.fake.put(fe.path("k"), o)
	for _, c := range []struct {
		status           int
		code, retryAfter string
	}{{500, "InternalError", ""}, {503, "SlowDown", "3"}, {503, "ServiceUnavailable", "1"}} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			what := fmt.Sprintf("%s answered %d %s", method, c.status, c.code)
			key := fmt.Sprintf("k-%s-%s", method, c.code)
			fe.fake.put(fe.path(key), o)
			fe.fake.inject(errorStatus(c.status, c.code, c.retryAfter))
			fe.fake.reset()
			got := fe.do(method, key)
			wantClean(t, what, got, o)
			if got.status != c.status {
				t.Errorf("%s: client got status %d (%v), want the origin's %d", what, got.status, got.err, c.status)
			}
			if method == http.MethodGet && xmlCode(got.body) != c.code {
				t.Errorf("%s: client got error code %q, want the origin's %q", what, xmlCode(got.body), c.code)
			}
			if ra := got.header.Get("Retry-After"); ra != c.retryAfter {
				t.Errorf("%s: Retry-After %q, want the origin's %q", what, ra, c.retryAfter)
			}
			if n := len(fe.fake.requests()); n != 1 {
				t.Errorf("%s: the origin saw %d requests, want 1 (an answer S3 gave is not retried): %v", what, n, fe.fake.requests())
			}
			// The error is not cached: the next request asks the origin
			// and gets the object.
			fe.fake.reset()
			next := fe.do(method, key)
			if next.status != http.StatusOK || len(fe.fake.requests()) == 0 {
				t.Errorf("%s, then a clean %s: status %d X-Cache %q, origin saw %v: want 200 from the origin", what, method, next.status, next.header.Get("X-Cache"), fe.fake.requests())
			}
			if method == http.MethodGet && !bytes.Equal(next.body, o.body) {
				t.Errorf("%s, then a clean GET: %d bytes, not the object", what, len(next.body))
			}
		}
	}
	fe.fake.put(fe.path("k"), o)
	fe.wantRecovered("k", o)
}

// TestFaultSlowFirstByte: with --first-byte-timeout 1s, an origin that
// sends no headers for 20 s gives the client an S3-style error (or, after a
// retry, the object) within a few seconds, never a hang.
func TestFaultSlowFirstByte(t *testing.T) {
	fe := newFaultEnv(t, "--first-byte-timeout", "1s")
	o := newFakeObject(4, faultSize)
	fe.fake.put(fe.path("k"), o)
	fe.fake.inject(fe.fake.stallThen(20*time.Second), fe.fake.stallThen(20*time.Second), fe.fake.stallThen(20*time.Second))
	got := fe.do(http.MethodGet, "k")
	if got.elapsed > 10*time.Second {
		t.Errorf("GET with a silent origin took %v; --first-byte-timeout is 1s", got.elapsed.Round(time.Millisecond))
	}
	if !wantClean(t, "GET with a silent origin", got, o) && got.status != 0 {
		if got.status < 500 || xmlCode(got.body) == "" {
			t.Errorf("GET with a silent origin: status %d body %q: want an S3-style 5xx error", got.status, got.body)
		}
	}
	t.Logf("GET with a silent origin: %d %s after %v (origin saw %d requests)", got.status, xmlCode(got.body), got.elapsed.Round(time.Millisecond), len(fe.fake.requests()))
	fe.fake.clearFaults()
	fe.wantRecovered("k", o)
}

// TestFaultHedgedFirstByte: with --hedge-after 200ms, a GET whose first
// origin request hangs is answered by the hedge, quickly and whole.
func TestFaultHedgedFirstByte(t *testing.T) {
	fe := newFaultEnv(t, "--hedge-after", "200ms", "--hedge-fraction", "1")
	o := newFakeObject(5, faultSize)
	fe.fake.put(fe.path("k"), o)
	fe.fake.inject(fe.fake.stallThen(20 * time.Second))
	got := fe.do(http.MethodGet, "k")
	if !wantClean(t, "GET whose first origin request hangs", got, o) {
		t.Fatalf("GET whose first origin request hangs: status %d (%v): want the object from the hedged request", got.status, got.err)
	}
	if got.elapsed > 5*time.Second {
		t.Errorf("GET whose first origin request hangs took %v: the hedge after 200ms should have answered", got.elapsed.Round(time.Millisecond))
	}
	if n := len(fe.fake.requests()); n != 2 {
		t.Errorf("origin saw %d requests, want 2 (the original and one hedge): %v", n, fe.fake.requests())
	}
	fe.wantRecovered("k", o)
}

// TestFaultHedgingPerRule: a rule's hedge_after hedges the first byte of
// its prefix only; elsewhere (no global --hedge-after) a slow origin is
// waited for, with one request.
func TestFaultHedgingPerRule(t *testing.T) {
	rulesPath := filepath.Join(t.TempDir(), "rules.json")
	if err := os.WriteFile(rulesPath, []byte(`{"rules": [{"key": "slow/**", "hedge_after": "200ms"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fe := newFaultEnv(t, "--hedge-fraction", "1", "--rules-file", rulesPath)
	o := newFakeObject(9, faultSize)
	const stall = 1500 * time.Millisecond
	for _, c := range []struct {
		key    string
		hedged bool
	}{{"slow/k", true}, {"plain/k", false}} {
		fe.fake.put(fe.path(c.key), o)
		fe.fake.reset()
		fe.fake.inject(fe.fake.stallThen(stall))
		got := fe.do(http.MethodGet, c.key)
		if !wantClean(t, "GET "+c.key, got, o) {
			t.Fatalf("GET %s whose first origin request stalls: status %d (%v)", c.key, got.status, got.err)
		}
		reqs := fe.fake.requests()
		t.Logf("GET %s: %v, %d origin requests", c.key, got.elapsed.Round(time.Millisecond), len(reqs))
		switch {
		case c.hedged && (len(reqs) != 2 || got.elapsed >= stall):
			t.Errorf("GET %s under a hedge_after rule: %d origin requests in %v; want the hedge (2) to answer before the stall ends", c.key, len(reqs), got.elapsed)
		case !c.hedged && (len(reqs) != 1 || got.elapsed < stall):
			t.Errorf("GET %s with no hedging rule: %d origin requests in %v; want 1, answered after the stall", c.key, len(reqs), got.elapsed)
		}
	}
}

// TestFaultSlowBody: with --upstream-idle-timeout 1s, a body that stops
// after 1 MiB for 20 s is aborted: the client sees the abort within seconds
// and no short copy is cached.
func TestFaultSlowBody(t *testing.T) {
	fe := newFaultEnv(t, "--upstream-idle-timeout", "1s")
	o := newFakeObject(6, faultSize)
	fe.fake.put(fe.path("k"), o)
	fe.fake.inject(fe.fake.stallBody(MiB, 20*time.Second))
	got := fe.do(http.MethodGet, "k")
	wantClean(t, "GET whose origin body stalls", got, o)
	if got.elapsed > 10*time.Second {
		t.Errorf("GET whose origin body stalls took %v; --upstream-idle-timeout is 1s", got.elapsed.Round(time.Millisecond))
	}
	fe.wantRecovered("k", o)
}

// TestFaultETagChanges: the object is replaced at the origin between
// requests. Every answer must be one version whole, with that version's
// ETag: cached bytes of one version are never stitched to another's.
func TestFaultETagChanges(t *testing.T) {
	versions := []fakeObject{newFakeObject(7, faultSize), newFakeObject(8, faultSize)}
	byETag := map[string]fakeObject{versions[0].etag: versions[0], versions[1].etag: versions[1]}

	// wantOneVersion checks a 200/206 against the version its ETag names.
	wantOneVersion := func(t *testing.T, what string, got fetched, first, last int) {
		t.Helper()
		if got.err != nil || (got.status != 200 && got.status != 206) {
			t.Logf("%s: status %d, %v", what, got.status, got.err)
			return
		}
		o, ok := byETag[got.header.Get("ETag")]
		t.Logf("%s: %d, X-Cache %s, ETag %s", what, got.status, got.header.Get("X-Cache"), got.header.Get("ETag"))
		if !ok {
			t.Errorf("%s: ETag %q is neither version's", what, got.header.Get("ETag"))
			return
		}
		if want := o.body[first : last+1]; !bytes.Equal(got.body, want) {
			i := 0
			for i < min(len(got.body), len(want)) && got.body[i] == want[i] {
				i++
			}
			t.Errorf("%s: %d bytes that differ from version %s's bytes %d-%d at offset %d (X-Cache %s): versions mixed", what, len(got.body), o.etag, first, last, i, got.header.Get("X-Cache"))
		}
	}

	t.Run("honest-origin", func(t *testing.T) {
		// A range is cached from version 1; the object becomes version 2;
		// a whole-object read must not add version 2's bytes to version
		// 1's range (the gap fetch's If-Match gets a 412).
		fe := newFaultEnv(t)
		fe.fake.put(fe.path("k"), versions[0])
		got := fe.do(http.MethodGet, "k", "Range", "bytes=0-999999")
		wantOneVersion(t, "range GET of version 1", got, 0, 999999)
		fe.fake.put(fe.path("k"), versions[1])
		got = fe.do(http.MethodGet, "k")
		wantOneVersion(t, "whole GET after the object changed", got, 0, faultSize-1)
		if got.header.Get("ETag") != versions[1].etag {
			t.Errorf("whole GET after the object changed: ETag %s, want version 2's %s (version 1 is no longer whole anywhere)", got.header.Get("ETag"), versions[1].etag)
		}
		t.Logf("origin saw: %s", strings.Join(fe.fake.requests(), "; "))
		fe.wantRecovered("k", versions[1])
	})

	t.Run("flapping-origin", func(t *testing.T) {
		// The origin flips versions after every answer and ignores
		// If-Match, like a gateway in front of a store being rewritten.
		fe := newFaultEnv(t)
		fe.fake.put(fe.path("k"), versions[0])
		fe.fake.mu.Lock()
		fe.fake.flap, fe.fake.laxIfMatch = versions, true
		fe.fake.mu.Unlock()
		ranges := [][2]int{{0, 99}, {MiB, 2*MiB - 1}, {50, MiB + 50}, {0, faultSize - 1}, {faultSize - 10, faultSize - 1}, {0, faultSize - 1}, {300, 2*MiB + 7}, {0, faultSize - 1}}
		for i, rg := range ranges {
			what := fmt.Sprintf("GET #%d bytes=%d-%d", i+1, rg[0], rg[1])
			var got fetched
			if rg[0] == 0 && rg[1] == faultSize-1 {
				got = fe.do(http.MethodGet, "k")
			} else {
				got = fe.do(http.MethodGet, "k", "Range", fmt.Sprintf("bytes=%d-%d", rg[0], rg[1]))
			}
			wantOneVersion(t, what, got, rg[0], rg[1])
		}
		t.Logf("origin saw: %s", strings.Join(fe.fake.requests(), "; "))
	})
}

// TestFaultBodyDisagreesWithETag: the origin sends bytes whose MD5 is not
// the ETag it gave them (corruption on the way). The requester gets them as
// S3 sent them, as it would going direct, but they are never cached: the
// next GETs reach the origin again until it sends the right bytes.
func TestFaultBodyDisagreesWithETag(t *testing.T) {
	fe := newFaultEnv(t)
	o := newFakeObject(7, faultSize)
	bad := fakeObject{body: bytes.Clone(o.body), etag: o.etag}
	bad.body[faultSize/2] ^= 0xff
	fe.fake.put(fe.path("k"), bad)
	for i := 1; i <= 2; i++ {
		fe.fake.reset()
		got := fe.do(http.MethodGet, "k")
		t.Logf("GET #%d of corrupted bytes: status %d, %d bytes, err %v, X-Cache %q", i, got.status, len(got.body), got.err, got.header.Get("X-Cache"))
		if x := got.header.Get("X-Cache"); x == "HIT" || len(fe.fake.requests()) == 0 {
			t.Fatalf("GET #%d of corrupted bytes: X-Cache %q, %d origin requests: the bytes were cached", i, x, len(fe.fake.requests()))
		}
		time.Sleep(200 * time.Millisecond) // past the fill's commit
	}
	// Had the bad bytes been cached, the first GET here would serve them.
	fe.fake.put(fe.path("k"), o)
	fe.wantRecovered("k", o)
}
