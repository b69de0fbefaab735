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
	"encoding/json"
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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

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

// ---- running external clients ----

// tool runs one external program with an isolated environment.
type tool struct {
	t   *testing.T
	env []string
}

// newTool builds an environment with only this test's credentials, no
// proxy (unless proxy is set), and a private HOME.
func newTool(t *testing.T, proxy string, extra ...string) *tool {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		up := strings.ToUpper(k)
		if strings.HasPrefix(up, "AWS_") || strings.HasPrefix(up, "RCLONE_") || strings.HasSuffix(up, "_PROXY") || up == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+t.TempDir(), "AWS_ACCESS_KEY_ID="+harness.AccessKey, "AWS_SECRET_ACCESS_KEY="+harness.SecretKey,
		"AWS_DEFAULT_REGION="+harness.Region, "AWS_REGION="+harness.Region)
	if proxy != "" {
		env = append(env, "HTTP_PROXY=http://"+proxy, "http_proxy=http://"+proxy)
	}
	return &tool{t: t, env: append(env, extra...)}
}

// run returns the program's stdout, or an error with its stderr.
func (x *tool) run(argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = x.env
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	x.t.Logf("%s (%.1fs)", strings.Join(argv, " "), time.Since(start).Seconds())
	if err != nil {
		return stdout.String(), fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, tailString(stderr.String()+stdout.String(), 1500))
	}
	return stdout.String(), nil
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// endpoints returns the endpoint URL a client uses for a style, and the
// forward proxy it must go through (virtual style without pinned DNS).
func endpoints(e *harness.Env, style, proxy string) (endpoint, via string) {
	if style == "path" {
		return e.FrontURL(), ""
	}
	_, port, _ := net.SplitHostPort(e.Front)
	return "http://" + harness.VirtualDomain + ":" + port, proxy
}

// ---- scripts: boto3 (s3ops.py) and @aws-sdk/client-s3 (s3ops.mjs) ----

// scriptClient runs e2e/clients/s3ops.{py,mjs}, which print JSON.
type scriptClient struct {
	*tool
	argv []string
}

func newScriptClient(t *testing.T, e *harness.Env, style string, argv ...string) *scriptClient {
	endpoint, _ := endpoints(e, style, "")
	extra := []string{"S3_ENDPOINT=" + endpoint, "S3_BUCKET=" + e.Bucket, "S3_STYLE=" + style}
	if style == "virtual" {
		extra = append(extra, "S3_DIAL="+e.Front)
	}
	return &scriptClient{tool: newTool(t, "", extra...), argv: argv}
}

func (c *scriptClient) call(v any, args ...string) error {
	out, err := c.run(append(slices.Clone(c.argv), args...)...)
	if err != nil || v == nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s: output %q: %v", args[0], out, err)
	}
	return nil
}

func (c *scriptClient) Put(key, file string, multipart bool) error {
	op := "put"
	if multipart {
		op = "put-multipart"
	}
	return c.call(nil, op, key, file)
}
func (c *scriptClient) Get(key, dest string) error { return c.call(nil, "get", key, dest) }
func (c *scriptClient) GetRange(key, dest string, first, last int64) error {
	return c.call(nil, "get-range", key, dest, fmt.Sprint(first), fmt.Sprint(last))
}
func (c *scriptClient) Head(key string) (int64, error) {
	var v struct{ Size int64 }
	err := c.call(&v, "head", key)
	return v.Size, err
}
func (c *scriptClient) List(prefix string) ([]string, error) {
	var v struct{ Keys []string }
	err := c.call(&v, "list", prefix)
	return v.Keys, err
}
func (c *scriptClient) Delete(key string) error { return c.call(nil, "delete", key) }
func (c *scriptClient) Presign(key string) (string, error) {
	var v struct{ URL string }
	err := c.call(&v, "presign", key)
	return v.URL, err
}

// ---- the AWS CLI ----

type awsCLI struct {
	*tool
	endpoint, bucket string
}

func newAWSCLI(t *testing.T, e *harness.Env, style, proxy string) *awsCLI {
	endpoint, via := endpoints(e, style, proxy)
	cfg := filepath.Join(t.TempDir(), "config")
	text := fmt.Sprintf("[default]\nregion = %s\ns3 =\n  addressing_style = %s\n  signature_version = s3v4\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n", harness.Region, style)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &awsCLI{tool: newTool(t, via, "AWS_CONFIG_FILE="+cfg, "AWS_MAX_ATTEMPTS=1", "AWS_PAGER="), endpoint: endpoint, bucket: e.Bucket}
}

func (c *awsCLI) aws(args ...string) (string, error) {
	return c.run(append([]string{"aws", "--endpoint-url", c.endpoint}, args...)...)
}
func (c *awsCLI) uri(key string) string { return "s3://" + c.bucket + "/" + key }

func (c *awsCLI) Put(key, file string, _ bool) error {
	_, err := c.aws("s3", "cp", "--no-progress", file, c.uri(key))
	return err
}
func (c *awsCLI) Get(key, dest string) error {
	_, err := c.aws("s3", "cp", "--no-progress", c.uri(key), dest)
	return err
}
func (c *awsCLI) GetRange(key, dest string, first, last int64) error {
	_, err := c.aws("s3api", "get-object", "--bucket", c.bucket, "--key", key, "--range", fmt.Sprintf("bytes=%d-%d", first, last), dest)
	return err
}
func (c *awsCLI) Head(key string) (int64, error) {
	out, err := c.aws("s3api", "head-object", "--bucket", c.bucket, "--key", key, "--output", "json")
	if err != nil {
		return 0, err
	}
	var v struct{ ContentLength int64 }
	return v.ContentLength, json.Unmarshal([]byte(out), &v)
}
func (c *awsCLI) List(prefix string) ([]string, error) {
	out, err := c.aws("s3api", "list-objects-v2", "--bucket", c.bucket, "--prefix", prefix, "--output", "json")
	if err != nil {
		return nil, err
	}
	var v struct{ Contents []struct{ Key string } }
	var keys []string
	err = json.Unmarshal([]byte(out), &v)
	for _, o := range v.Contents {
		keys = append(keys, o.Key)
	}
	return keys, err
}
func (c *awsCLI) Delete(key string) error {
	_, err := c.aws("s3", "rm", c.uri(key))
	return err
}
func (c *awsCLI) Presign(key string) (string, error) {
	return c.aws("s3", "presign", c.uri(key), "--expires-in", "600")
}

// ---- s3cmd ----

type s3cmdCLI struct {
	*tool
	cfg, bucket string
}

func newS3cmd(t *testing.T, e *harness.Env, style, proxy string) *s3cmdCLI {
	host, bucketHost, proxyHost, proxyPort := e.Front, e.Front, "", "0"
	if style == "virtual" {
		_, port, _ := net.SplitHostPort(e.Front)
		host = harness.VirtualDomain + ":" + port
		bucketHost = "%(bucket)s." + host
		proxyHost, proxyPort, _ = net.SplitHostPort(proxy)
	}
	cfg := filepath.Join(t.TempDir(), "s3cfg")
	text := fmt.Sprintf(`[default]
access_key = %s
secret_key = %s
host_base = %s
host_bucket = %s
bucket_location = %s
use_https = False
signature_v2 = False
enable_multipart = True
multipart_chunk_size_mb = 5
proxy_host = %s
proxy_port = %s
progress_meter = False
`, harness.AccessKey, harness.SecretKey, host, bucketHost, harness.Region, proxyHost, proxyPort)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &s3cmdCLI{tool: newTool(t, ""), cfg: cfg, bucket: e.Bucket}
}

func (c *s3cmdCLI) s3cmd(args ...string) (string, error) {
	return c.run(append([]string{"s3cmd", "-c", c.cfg, "--no-check-md5"}, args...)...)
}
func (c *s3cmdCLI) uri(key string) string { return "s3://" + c.bucket + "/" + key }

func (c *s3cmdCLI) Put(key, file string, _ bool) error {
	_, err := c.s3cmd("put", file, c.uri(key))
	return err
}
func (c *s3cmdCLI) Get(key, dest string) error {
	_, err := c.s3cmd("get", "--force", c.uri(key), dest)
	return err
}

// GetRange: s3cmd has no range option, but `get --continue` resumes a
// partial file with Range: bytes=N-. Only ranges to the end are possible.
func (c *s3cmdCLI) GetRange(key, dest string, first, last int64) error {
	size, err := c.Head(key)
	if err != nil {
		return err
	}
	if last != size-1 || first == 0 {
		return errUnsupported("a range that does not run to the end (s3cmd only resumes downloads)")
	}
	part := dest + ".part"
	if err := os.WriteFile(part, make([]byte, first), 0o644); err != nil {
		return err
	}
	if _, err := c.s3cmd("get", "--continue", c.uri(key), part); err != nil {
		return err
	}
	b, err := os.ReadFile(part)
	if err != nil {
		return err
	}
	if int64(len(b)) < first {
		return fmt.Errorf("s3cmd get --continue left %d bytes", len(b))
	}
	return os.WriteFile(dest, b[first:], 0o644)
}
func (c *s3cmdCLI) Head(key string) (int64, error) {
	out, err := c.s3cmd("info", c.uri(key))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "File size:"); ok {
			var n int64
			_, err := fmt.Sscan(strings.TrimSpace(v), &n)
			return n, err
		}
	}
	return 0, fmt.Errorf("s3cmd info: no File size in %q", out)
}
func (c *s3cmdCLI) List(prefix string) ([]string, error) {
	out, err := c.s3cmd("ls", "--recursive", c.uri(prefix))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, line := range strings.Split(out, "\n") {
		if _, u, ok := strings.Cut(line, "s3://"+c.bucket+"/"); ok {
			keys = append(keys, u)
		}
	}
	return keys, nil
}
func (c *s3cmdCLI) Delete(key string) error {
	_, err := c.s3cmd("del", c.uri(key))
	return err
}
func (c *s3cmdCLI) Presign(key string) (string, error) {
	return c.s3cmd("signurl", c.uri(key), "+600")
}

// ---- rclone ----

type rcloneCLI struct {
	*tool
	bucket string
}

func newRclone(t *testing.T, e *harness.Env, style, proxy string) *rcloneCLI {
	endpoint, via := endpoints(e, style, proxy)
	conf := filepath.Join(t.TempDir(), "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return &rcloneCLI{bucket: e.Bucket, tool: newTool(t, via,
		"RCLONE_CONFIG="+conf,
		"RCLONE_S3_PROVIDER=Other", "RCLONE_S3_ENV_AUTH=false",
		"RCLONE_S3_ACCESS_KEY_ID="+harness.AccessKey, "RCLONE_S3_SECRET_ACCESS_KEY="+harness.SecretKey,
		"RCLONE_S3_REGION="+harness.Region, "RCLONE_S3_ENDPOINT="+endpoint,
		"RCLONE_S3_FORCE_PATH_STYLE="+fmt.Sprint(style == "path"),
		"RCLONE_S3_UPLOAD_CUTOFF=5M", "RCLONE_S3_CHUNK_SIZE=5M", "RCLONE_S3_NO_CHECK_BUCKET=true",
		"RCLONE_RETRIES=1", "RCLONE_LOW_LEVEL_RETRIES=1")}
}

func (c *rcloneCLI) rclone(args ...string) (string, error) {
	return c.run(append([]string{"rclone"}, args...)...)
}
func (c *rcloneCLI) remote(key string) string { return ":s3:" + c.bucket + "/" + key }

func (c *rcloneCLI) Put(key, file string, _ bool) error {
	_, err := c.rclone("copyto", file, c.remote(key))
	return err
}
func (c *rcloneCLI) Get(key, dest string) error {
	_ = os.Remove(dest) // else rclone skips a file it deems identical
	_, err := c.rclone("copyto", c.remote(key), dest)
	return err
}
func (c *rcloneCLI) GetRange(key, dest string, first, last int64) error {
	out, err := c.rclone("cat", "--offset", fmt.Sprint(first), "--count", fmt.Sprint(last-first+1), c.remote(key))
	if err != nil {
		return err
	}
	return os.WriteFile(dest, []byte(out), 0o644)
}
func (c *rcloneCLI) Head(key string) (int64, error) {
	out, err := c.rclone("lsjson", "--stat", c.remote(key))
	if err != nil {
		return 0, err
	}
	var v struct {
		Size  int64
		IsDir bool
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		return 0, err
	}
	if v.IsDir { // what rclone says of a key that is not there
		return 0, fmt.Errorf("rclone lsjson --stat: %s is not an object", key)
	}
	return v.Size, nil
}
func (c *rcloneCLI) List(prefix string) ([]string, error) {
	out, err := c.rclone("lsf", "--recursive", "--files-only", c.remote(prefix))
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, name := range strings.Split(strings.TrimSpace(out), "\n") {
		if name != "" {
			keys = append(keys, prefix+name)
		}
	}
	return keys, nil
}
func (c *rcloneCLI) Delete(key string) error {
	_, err := c.rclone("deletefile", c.remote(key))
	return err
}
func (c *rcloneCLI) Presign(key string) (string, error) {
	return c.rclone("link", "--expire", "10m", c.remote(key))
}

// ---- aws-sdk-go-v2 (in process) ----

type goSDK struct {
	e *harness.Env
	c *s3.Client
}

func (g *goSDK) ctx() context.Context { return g.e.Ctx() }

func (g *goSDK) Put(key, file string, multipart bool) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	b := aws.String(g.e.Bucket)
	if !multipart {
		_, err := g.c.PutObject(g.ctx(), &s3.PutObjectInput{Bucket: b, Key: aws.String(key), Body: f, ContentLength: aws.Int64(st.Size())})
		return err
	}
	up, err := g.c.CreateMultipartUpload(g.ctx(), &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String(key)})
	if err != nil {
		return err
	}
	var parts []types.CompletedPart
	const partSize = 5 * MiB
	for n, off := int32(1), int64(0); off < st.Size(); n, off = n+1, off+partSize {
		size := min(partSize, st.Size()-off)
		out, err := g.c.UploadPart(g.ctx(), &s3.UploadPartInput{Bucket: b, Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: io.NewSectionReader(f, off, size), ContentLength: aws.Int64(size)})
		if err != nil {
			return fmt.Errorf("part %d: %w", n, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	_, err = g.c.CompleteMultipartUpload(g.ctx(), &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	return err
}

func (g *goSDK) getTo(in *s3.GetObjectInput, dest string) error {
	in.Bucket = aws.String(g.e.Bucket)
	out, err := g.c.GetObject(g.ctx(), in)
	if err != nil {
		return err
	}
	defer out.Body.Close()
	f, err := os.Create(dest)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
func (g *goSDK) Get(key, dest string) error {
	return g.getTo(&s3.GetObjectInput{Key: aws.String(key)}, dest)
}
func (g *goSDK) GetRange(key, dest string, first, last int64) error {
	return g.getTo(&s3.GetObjectInput{Key: aws.String(key), Range: aws.String(fmt.Sprintf("bytes=%d-%d", first, last))}, dest)
}
func (g *goSDK) Head(key string) (int64, error) {
	out, err := g.c.HeadObject(g.ctx(), &s3.HeadObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	return aws.ToInt64(out.ContentLength), nil
}
func (g *goSDK) List(prefix string) ([]string, error) {
	out, err := g.c.ListObjectsV2(g.ctx(), &s3.ListObjectsV2Input{Bucket: aws.String(g.e.Bucket), Prefix: aws.String(prefix)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys, nil
}
func (g *goSDK) Delete(key string) error {
	_, err := g.c.DeleteObject(g.ctx(), &s3.DeleteObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	return err
}
func (g *goSDK) Presign(key string) (string, error) {
	ps, err := s3.NewPresignClient(g.c).PresignGetObject(g.ctx(), &s3.GetObjectInput{Bucket: aws.String(g.e.Bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	return ps.URL, nil
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
