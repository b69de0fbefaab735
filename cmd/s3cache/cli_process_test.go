package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testAccessKey = "AKIDS3CACHETEST"
	testSecretKey = "s3cache-test-secret-key"
)

// signedClient is an SDK client with static test credentials aimed at s3cache.
func signedClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
	})
}

// getXCache GETs an object through s3cache and returns its X-Cache.
func getXCache(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GET %s: %v", key, err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	raw, _ := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if raw == nil {
		t.Fatal("no raw response")
	}
	return raw.Header.Get("X-Cache")
}

// runCLI runs an s3cache subcommand as a separate process, with the test
// credentials as the user's default AWS credential chain.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s3cacheBinary(t), args...)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testAccessKey, "AWS_SECRET_ACCESS_KEY="+testSecretKey,
		"AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

// TestWarmLsPurge: warm fetches every object under a prefix through s3cache
// with the user's credentials; a GET afterwards is a hit; ls shows what warm
// fetched; purge makes the next GET a miss. The metrics and the access log
// agree with what the test did, and SIGTERM exits 0.
func TestWarmLsPurge(t *testing.T) {
	origin := newFakeOrigin(t, "bkt")
	keys := []string{"data/a.bin", "data/b.bin", "data/sub/c.bin", "data/d.bin", "data/e.bin"}
	for i, k := range keys {
		origin.put(k, int64(1000+i*70000))
	}
	origin.put("other/x.bin", 10)
	cacheDir, logDir := t.TempDir(), t.TempDir()
	p := startS3cache(t, proxyArgs(t, origin.URL, cacheDir, "--access-log-dir", logDir)...)
	endpoint := "http://" + p.addr("s3")

	out, errOut, code := runCLI(t, "warm", "s3://bkt/data/", "--endpoint", endpoint, "--concurrency", "3")
	if code != 0 || !strings.Contains(out, "warmed 5 of 5 objects") || !strings.Contains(out, "X-Cache MISS") {
		t.Fatalf("warm exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "5/5 objects") {
		t.Errorf("warm printed no final progress line:\n%s", errOut)
	}
	for _, k := range keys {
		if n := origin.getCount(k); n != 1 {
			t.Errorf("origin GETs of %s after warm = %d, want 1", k, n)
		}
	}
	if origin.getCount("other/x.bin") != 0 {
		t.Error("warm fetched an object outside the prefix")
	}

	client := signedClient(endpoint)
	for _, k := range keys {
		if x := getXCache(t, client, "bkt", k); x != "HIT" {
			t.Errorf("GET %s after warm: X-Cache %s, want HIT", k, x)
		}
		if n := origin.getCount(k); n != 1 {
			t.Errorf("a hit on %s went to the origin (%d GETs)", k, n)
		}
	}

	out, errOut, code = runCLI(t, "ls", "bkt/data/", "--cache-dir", cacheDir)
	if code != 0 || !strings.Contains(out, "5 objects") {
		t.Fatalf("ls exit %d\n%s%s", code, out, errOut)
	}
	for _, k := range keys {
		if !strings.Contains(out, "bkt/"+k) {
			t.Errorf("ls does not show %s:\n%s", k, out)
		}
	}
	out, _, _ = runCLI(t, "ls", "--json", "--cache-dir", cacheDir, "bkt/data/sub")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, `"key":"data/sub/c.bin"`) {
		t.Errorf("ls --json of one prefix:\n%s", out)
	}

	out, errOut, code = runCLI(t, "purge", "bkt/data/sub/", "--cache-dir", cacheDir)
	if code != 0 || !strings.Contains(out, "1 objects purged") {
		t.Fatalf("purge exit %d\n%s%s", code, out, errOut)
	}
	// A running instance's RAM tier re-checks the directory at most once a
	// second (ram.RecheckEvery), so another process's purge shows within that.
	time.Sleep(1500 * time.Millisecond)
	if x := getXCache(t, client, "bkt", "data/sub/c.bin"); x != "MISS" {
		t.Errorf("GET after purge: X-Cache %s, want MISS", x)
	}
	if x := getXCache(t, client, "bkt", "data/a.bin"); x != "HIT" {
		t.Errorf("purge of one prefix dropped another object: X-Cache %s", x)
	}
	if _, _, code := runCLI(t, "purge", "--cache-dir", filepath.Join(cacheDir, "nope"), "bkt"); code == 0 {
		t.Error("purge of a directory holding no cache succeeded")
	}

	metrics := p.addr("metrics")
	hits := metricValue(t, metrics, "s3cache_requests_total", `outcome="hit"`)
	misses := metricValue(t, metrics, "s3cache_requests_total", `operation="GetObject",outcome="miss"`)
	if hits != 6 || misses != 6 {
		t.Errorf("metrics count %v hits and %v GET misses; the test made 6 and 6", hits, misses)
	}
	if code := p.stop(t, syscall.SIGTERM, 40*time.Second); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	logged, err := os.ReadFile(filepath.Join(logDir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(logged)), "\n")
	if len(lines) != 13 { // the list, 5 warm misses, 5 hits, the miss after purge, 1 hit
		t.Errorf("access log has %d lines, want 13:\n%s", len(lines), logged)
	}
	if c := strings.Count(string(logged), " HIT\n"); c != 6 {
		t.Errorf("access log records %d hits, want 6", c)
	}
	for _, secret := range []string{testSecretKey, testAccessKey, "Signature="} {
		if strings.Contains(string(logged), secret) {
			t.Errorf("access log contains %q", secret)
		}
	}
}

// TestDrainOnSIGTERM: SIGTERM while 20 large downloads are in flight lets
// them all complete, then s3cache exits 0.
func TestDrainOnSIGTERM(t *testing.T) {
	const downloads = 20
	size := int64(64 << 20)
	if testing.Short() {
		size = 4 << 20
	}
	origin := newFakeOrigin(t, "bkt")
	origin.bytesPerSecond = size / 3 // each download takes about 3 seconds
	for i := range downloads {
		origin.put(fmt.Sprintf("big/%02d", i), size)
	}
	p := startS3cache(t, proxyArgs(t, origin.URL, t.TempDir())...)
	endpoint := "http://" + p.addr("s3")
	client := signedClient(endpoint)

	var wg sync.WaitGroup
	headers := make(chan struct{}, downloads)
	errs := make(chan error, downloads)
	for i := range downloads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("big/%02d", i)
			out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(key)})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", key, err)
				headers <- struct{}{}
				return
			}
			headers <- struct{}{}
			defer out.Body.Close()
			etag := aws.ToString(out.ETag)
			if err := verifyPattern(out.Body, etag, size); err != nil {
				errs <- fmt.Errorf("%s: %w", key, err)
			}
		}()
	}
	for range downloads {
		select {
		case <-headers:
		case <-time.After(60 * time.Second):
			t.Fatal("downloads did not start")
		}
	}
	code := p.stop(t, syscall.SIGTERM, 60*time.Second)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	if !strings.Contains(p.logText(), "draining") {
		t.Error("s3cache did not log its drain")
	}
}

// verifyPattern reads r to the end and checks it is the fake origin's
// pattern for etag, size bytes long.
func verifyPattern(r io.Reader, etag string, size int64) error {
	want := &patternReader{seed: etag}
	got := make([]byte, 64<<10)
	exp := make([]byte, 64<<10)
	var off int64
	for {
		n, err := io.ReadFull(r, got)
		if n > 0 {
			want.ReadAt(exp[:n], off)
			if !bytes.Equal(got[:n], exp[:n]) {
				return fmt.Errorf("bytes differ in [%d, %d)", off, off+int64(n))
			}
			off += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", off, err)
		}
	}
	if off != size {
		return fmt.Errorf("got %d bytes, want %d", off, size)
	}
	return nil
}

// TestReloadOnSIGHUP: SIGHUP re-reads the file, logs each change (applied
// or needing a restart), and refuses an invalid file while serving on.
func TestReloadOnSIGHUP(t *testing.T) {
	origin := newFakeOrigin(t, "bkt")
	origin.put("k", 5)
	file := filepath.Join(t.TempDir(), "s3cache.yaml")
	write := func(s string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("log_level: info\nhead_ttl: 60s\n")
	p := startS3cache(t, proxyArgs(t, origin.URL, t.TempDir(), "--config", file)...)
	metrics := p.addr("metrics")

	write("log_level: debug\nhead_ttl: 5s\nmax_concurrent_requests: 10\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	line := p.waitLog(t, "key=log_level", 20*time.Second)
	if !strings.Contains(line, "old=info") || !strings.Contains(line, "new=debug") || !strings.Contains(line, "level=INFO") {
		t.Errorf("log level change logged as %q", line)
	}
	p.waitLog(t, "config reloaded", 20*time.Second)
	if !strings.Contains(p.logText(), `needs a restart to take effect" key=max_concurrent_requests`) {
		t.Errorf("a change that needs a restart was not reported:\n%s", p.logText())
	}
	if v := metricValue(t, metrics, "s3cache_config_reloads_total", `result="success"`); v != 1 {
		t.Errorf("successful reloads = %v, want 1", v)
	}

	write("log_level: loud\n")
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, "config reload failed", 20*time.Second)
	if v := metricValue(t, metrics, "s3cache_config_reloads_total", `result="failure"`); v != 1 {
		t.Errorf("failed reloads = %v, want 1", v)
	}
	if x := getXCache(t, signedClient("http://"+p.addr("s3")), "bkt", "k"); x != "MISS" {
		t.Errorf("after a refused reload: X-Cache %q", x)
	}
	if code := p.stop(t, syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Errorf("exit code = %d", code)
	}
}

// TestOperationsListeners: the metrics and dashboard listeners answer, and
// the dashboard page is served from the binary.
func TestOperationsListeners(t *testing.T) {
	origin := newFakeOrigin(t, "bkt")
	args := proxyArgs(t, origin.URL, t.TempDir())
	for i, a := range args {
		if a == "--dashboard" {
			args[i+1] = "127.0.0.1:0"
		}
	}
	p := startS3cache(t, args...)
	for _, u := range []string{"http://" + p.addr("dashboard") + "/", "http://" + p.addr("dashboard") + "/api/stats",
		"http://" + p.addr("metrics") + "/metrics"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) < 100 {
			t.Errorf("GET %s: %d, %d bytes", u, resp.StatusCode, len(body))
		}
	}
	if v := metricValue(t, p.addr("metrics"), "s3cache_build_info", ""); v != 1 {
		t.Errorf("build_info = %v", v)
	}
}
