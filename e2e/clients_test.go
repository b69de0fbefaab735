package e2e

// The client matrix: real S3 clients (the AWS CLI, boto3, s3cmd, rclone,
// @aws-sdk/client-s3 under node, and aws-sdk-go-v2) put, get, range-get,
// head, list, presign and delete through s3cache against versitygw, in
// path style and virtual-hosted style. Bytes are compared by SHA-256, and a
// second read must reach no origin (the counting proxy sees no GET or HEAD).
//
// How virtual-hosted names (BUCKET.s3.local.test) reach 127.0.0.1 without
// DNS or /etc/hosts:
//   - aws-sdk-go-v2: the harness dials s3cache whatever the name.
//   - boto3, node: the scripts in e2e/clients/ pin name resolution to
//     s3cache's address (like curl --resolve), so the request goes straight
//     to the caching listener.
//   - AWS CLI, s3cmd, rclone: no such option, so they use s3cache's
//     forward-proxy listener (HTTP_PROXY, or s3cmd's proxy_host); s3cache
//     gets absolute-form requests for BUCKET.s3.local.test.
//
// Clients come from scripts/client-deps.sh (Debian packages, npm into
// e2e/clients/node_modules). A missing client skips its test, or fails it
// with S3CACHE_E2E_REQUIRE=1.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/e2e/harness"
)

// s3ops is what the matrix asks of every client.
type s3ops interface {
	// Put uploads file; with multipart the client is configured (5 MiB
	// threshold and parts) so that a 20 MiB file goes up in parts.
	Put(key, file string, multipart bool) error
	Get(key, dest string) error
	// GetRange writes bytes [first, last] of the object to dest.
	GetRange(key, dest string, first, last int64) error
	Head(key string) (int64, error)
	List(prefix string) ([]string, error)
	Delete(key string) error
	Presign(key string) (string, error)
}

// errUnsupported marks an operation the client has no way to do.
type errUnsupported string

func (e errUnsupported) Error() string { return "client cannot: " + string(e) }

// matrixEnv starts versitygw and s3cache with virtual-hosted names enabled
// and a forward-proxy listener; it returns the env and the proxy's address.
func matrixEnv(t *testing.T) (*harness.Env, string) {
	t.Helper()
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	proxyAddr := "127.0.0.1:" + port
	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{
		"--virtual-host-domains", harness.VirtualDomain, "--listen-proxy", proxyAddr,
	}})
	return e, proxyAddr
}

// styles are the two addressing styles every client runs.
var styles = []string{"path", "virtual"}

// runMatrix drives one client in one style through every operation.
func runMatrix(t *testing.T, e *harness.Env, c s3ops, style, prefix string) {
	dir := t.TempDir()
	const smallSize, bigSize = 300_001, 20*MiB + 3
	smallSeed, bigSeed := int64(len(prefix))*7+1, int64(len(prefix))*7+2
	small := writePatternFile(t, dir, "small", smallSeed, smallSize)
	big := writePatternFile(t, dir, "big", bigSeed, bigSize)
	kSmall, kBig, kPre := prefix+"small.bin", prefix+"big one.bin", prefix+"presigned.bin"

	must(t, "put (single request)", c.Put(kSmall, small, false))
	must(t, "put (multipart)", c.Put(kBig, big, true))
	if d := head(t, e, e.Direct, kBig); d.err != nil || d.header.Get("Content-Length") != fmt.Sprint(bigSize) {
		t.Fatalf("multipart upload: origin has %s bytes (%v), want %d", d.header.Get("Content-Length"), d.err, bigSize)
	} else if etag := d.header.Get("ETag"); !strings.Contains(etag, "-") {
		t.Errorf("multipart upload: ETag %s has no part count: the client uploaded in one request", etag)
	}
	if d := head(t, e, e.Direct, kSmall); d.header.Get("Content-Length") != fmt.Sprint(smallSize) {
		t.Fatalf("small upload: origin has %q bytes, want %d", d.header.Get("Content-Length"), smallSize)
	}

	for _, o := range []struct {
		key        string
		seed, size int64
	}{{kSmall, smallSeed, smallSize}, {kBig, bigSeed, bigSize}} {
		dest := filepath.Join(dir, "got")
		must(t, "first get "+o.key, c.Get(o.key, dest))
		wantFile(t, "first get "+o.key, dest, o.seed, o.size)
		e.Counter.Reset()
		must(t, "second get "+o.key, c.Get(o.key, dest))
		wantFile(t, "second get "+o.key, dest, o.seed, o.size)
		wantNoObjectRead(t, e, "second get "+o.key, o.key)
	}

	for _, rg := range [][2]int64{{5*MiB - 100, 5*MiB + 99}, {bigSize - 1000, bigSize - 1}, {0, 0}} {
		what := fmt.Sprintf("range get bytes=%d-%d of a cached object", rg[0], rg[1])
		dest := filepath.Join(dir, "range")
		e.Counter.Reset()
		err := c.GetRange(kBig, dest, rg[0], rg[1])
		var unsup errUnsupported
		if errors.As(err, &unsup) {
			t.Logf("%s: skipped: %v", what, err)
			continue
		}
		must(t, what, err)
		got, _ := os.ReadFile(dest)
		if want := harness.PatternRange(bigSeed, bigSize, rg[0], rg[1]); string(got) != string(want) {
			t.Errorf("%s: got %d bytes that differ from the object's (want %d)", what, len(got), len(want))
		}
		wantNoObjectRead(t, e, what, kBig)
	}

	e.Counter.Reset()
	n, err := c.Head(kBig)
	must(t, "head", err)
	if n != bigSize {
		t.Errorf("head: size %d, want %d", n, bigSize)
	}
	wantNoObjectRead(t, e, "head of a cached object", kBig)

	keys, err := c.List(prefix)
	must(t, "list", err)
	for _, k := range []string{kSmall, kBig} {
		if !slices.Contains(keys, k) {
			t.Errorf("list %q: %q missing from %q", prefix, k, keys)
		}
	}

	putPattern(t, e, e.Direct, kPre, smallSeed+100, 4321)
	u, err := c.Presign(kPre)
	var unsup errUnsupported
	switch {
	case errors.As(err, &unsup):
		t.Logf("presign: skipped: %v", err)
	case err != nil:
		t.Errorf("presign: %v", err)
	default:
		checkPresigned(t, e, style, u, smallSeed+100, 4321)
	}

	for _, k := range []string{kSmall, kBig} {
		must(t, "delete "+k, c.Delete(k))
		r := get(t, e, e.Client, k)
		wantErr(t, "GET through s3cache after the client deleted "+k, r, 404, "NoSuchKey")
	}
	if _, err := c.Head(kSmall); err == nil {
		t.Errorf("head after delete: the client still sees %s", kSmall)
	}
}

// checkPresigned fetches a client's presigned URL twice through s3cache:
// the right bytes, MISS then HIT.
func checkPresigned(t *testing.T, e *harness.Env, style, u string, seed, size int64) {
	t.Helper()
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		t.Fatalf("presign: %q: %v", u, err)
	}
	_, port, _ := net.SplitHostPort(e.Front)
	if pu.Port() != port || (style == "path") != (pu.Hostname() == "127.0.0.1") {
		t.Errorf("presign (%s style): URL %s does not point at s3cache (%s)", style, u, e.Front)
	}
	// The premise: the S3 server itself takes this URL (versitygw refuses
	// SigV2 URLs, which s3cmd's signurl makes).
	direct := harness.NewHTTPClient(strings.TrimPrefix(e.Origin.URL, "http://"), nil)
	if resp, err := direct.Get(pu.String()); err != nil {
		t.Fatalf("presigned URL straight to the S3 server: %v", err)
	} else {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Logf("presign: skipped: the S3 server itself refuses this client's presigned URL (%s %s)", resp.Status, xmlCode(b))
			return
		}
	}
	e.Counter.Reset()
	r := httpGet(t, e, pu.String(), nil)
	wantBody(t, "first presigned GET", r, seed, size)
	wantNotHit(t, "first presigned GET", r)
	if e.Counter.Count(http.MethodGet) == 0 {
		t.Errorf("first presigned GET: no origin GET, but nothing had read the object's bytes yet: %s", e.Counter.Summary())
	}
	e.Counter.Reset()
	r = httpGet(t, e, pu.String(), nil)
	wantBody(t, "second presigned GET", r, seed, size)
	wantXCache(t, "second presigned GET", r, "HIT")
	wantNoOrigin(t, e, "second presigned GET")
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantNoObjectRead fails if a GetObject or HeadObject of key reached the
// origin since the last Reset. Other requests a client makes on the way
// (s3cmd reads the bucket's policy and the object's ACL, rclone lists the
// "directory") are passed through by design and not counted.
func wantNoObjectRead(t *testing.T, e *harness.Env, what, key string) {
	t.Helper()
	var reads []string
	for _, r := range e.Counter.Requests() {
		if isObjectRead(r, e.Bucket, key) {
			reads = append(reads, r.String())
		}
	}
	if len(reads) > 0 {
		t.Errorf("%s: want no origin GET or HEAD of %q (a hit), got %s (all origin requests: %s)", what, key, strings.Join(reads, "; "), e.Counter.Summary())
	}
}

// isObjectRead reports whether r is a GetObject or HeadObject of key, path
// style or virtual-hosted, with no sub-resource such as ?acl.
func isObjectRead(r harness.Request, bucket, key string) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	rawPath, rawQuery, _ := strings.Cut(r.URI, "?")
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return false
	}
	if p != "/"+bucket+"/"+key && p != "/"+key {
		return false
	}
	q, _ := url.ParseQuery(rawQuery)
	for _, sub := range []string{"acl", "tagging", "attributes", "legal-hold", "retention", "torrent", "uploadId"} {
		if q.Has(sub) {
			return false
		}
	}
	return true
}

func writePatternFile(t *testing.T, dir, name string, seed, size int64) string {
	t.Helper()
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, harness.NewPattern(seed, size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantFile fails unless the file holds pattern (seed, size).
func wantFile(t *testing.T, what, path string, seed, size int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer f.Close()
	sum, n, err := harness.SHA256(f)
	if err != nil || n != size || sum != harness.PatternSHA256(seed, size) {
		t.Fatalf("%s: downloaded file has %d bytes (sha256 %s, %v), want the %d bytes uploaded", what, n, sum, err, size)
	}
}

// ---- finding clients ----

// needClient skips (or, with S3CACHE_E2E_REQUIRE=1, fails) when a client
// that scripts/client-deps.sh installs is missing.
func needClient(t *testing.T, name, missing string) {
	t.Helper()
	if missing == "" {
		return
	}
	msg := fmt.Sprintf("%s not available: %s (scripts/client-deps.sh installs it)", name, missing)
	if os.Getenv("S3CACHE_E2E_REQUIRE") != "" {
		t.Fatal(msg + " [S3CACHE_E2E_REQUIRE is set]")
	}
	t.Skip(msg)
}

// probe runs argv briefly and returns "" if it succeeded, else why not.
func probe(argv ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s: %v %s", strings.Join(argv, " "), err, firstLine(string(out)))
	}
	return ""
}

// xmlCode returns the <Code> of an S3 error document.
func xmlCode(b []byte) string {
	_, rest, _ := strings.Cut(string(b), "<Code>")
	code, _, _ := strings.Cut(rest, "</Code>")
	return code
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// ---- the tests ----

// eachStyle runs the matrix for both addressing styles in one environment.
func eachStyle(t *testing.T, name string, mk func(t *testing.T, e *harness.Env, style, proxy string) s3ops) {
	e, proxy := matrixEnv(t)
	for _, style := range styles {
		t.Run(style, func(t *testing.T) {
			runMatrix(t, e, mk(t, e, style, proxy), style, name+"/"+style+"/")
		})
	}
}

func TestClientGoSDK(t *testing.T) {
	eachStyle(t, "go", func(t *testing.T, e *harness.Env, style, _ string) s3ops {
		c := e.Client
		if style == "virtual" {
			c = e.VirtualClient()
		}
		return &goSDK{e: e, c: c}
	})
}

func TestClientAWSCLI(t *testing.T) {
	needClient(t, "AWS CLI", probe("aws", "--version"))
	eachStyle(t, "awscli", func(t *testing.T, e *harness.Env, style, proxy string) s3ops {
		return newAWSCLI(t, e, style, proxy)
	})
}

// boto3Python finds a python3 that imports boto3: the one on PATH, or
// Debian's (python3-boto3).
func boto3Python() (string, string) {
	var why []string
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		msg := probe(py, "-c", "import boto3")
		if msg == "" {
			return py, ""
		}
		why = append(why, msg)
	}
	return "", strings.Join(why, "; ")
}

func TestClientBoto3(t *testing.T) {
	py, missing := boto3Python()
	needClient(t, "boto3", missing)
	root := harness.RequireServer(t)
	eachStyle(t, "boto3", func(t *testing.T, e *harness.Env, style, _ string) s3ops {
		return newScriptClient(t, e, style, py, filepath.Join(root, "e2e", "clients", "s3ops.py"))
	})
}

func TestClientS3cmd(t *testing.T) {
	needClient(t, "s3cmd", probe("s3cmd", "--version"))
	eachStyle(t, "s3cmd", func(t *testing.T, e *harness.Env, style, proxy string) s3ops {
		return newS3cmd(t, e, style, proxy)
	})
}

func TestClientRclone(t *testing.T) {
	needClient(t, "rclone", probe("rclone", "version"))
	eachStyle(t, "rclone", func(t *testing.T, e *harness.Env, style, proxy string) s3ops {
		return newRclone(t, e, style, proxy)
	})
}

func TestClientNodeSDK(t *testing.T) {
	root := harness.RequireServer(t)
	dir := filepath.Join(root, "e2e", "clients")
	missing := probe("node", "--version")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-s3")); missing == "" && err != nil {
		missing = "@aws-sdk/client-s3 not installed in e2e/clients/node_modules"
	}
	needClient(t, "@aws-sdk/client-s3 (node)", missing)
	eachStyle(t, "node", func(t *testing.T, e *harness.Env, style, _ string) s3ops {
		return newScriptClient(t, e, style, "node", filepath.Join(dir, "s3ops.mjs"))
	})
}

// TestClientHeadThenPresignedGet is what `rclone link` and many download
// tools do: a HEAD, then a GET of a presigned URL. Only metadata was cached,
// so every byte of the GET comes from the origin: X-Cache must say MISS,
// not PARTIAL (PARTIAL tells operators part of the body came from cache).
func TestClientHeadThenPresignedGet(t *testing.T) {
	e := harness.NewEnv(t)
	putPattern(t, e, e.Direct, "hg", 31, 100_000)
	if r := head(t, e, e.Client, "hg"); r.err != nil {
		t.Fatalf("HEAD: %v", r.err)
	}
	u, err := (&goSDK{e: e, c: e.Client}).Presign("hg")
	must(t, "presign", err)
	e.Counter.Reset()
	r := httpGet(t, e, u, nil)
	wantBody(t, "presigned GET after a HEAD", r, 31, 100_000)
	if b := e.Counter.Bytes(); b < 100_000 {
		t.Fatalf("presigned GET after a HEAD: origin sent only %d bytes: the premise (nothing cached but metadata) is wrong", b)
	}
	wantXCache(t, "presigned GET after a HEAD (all bytes from the origin)", r, "MISS")
}
