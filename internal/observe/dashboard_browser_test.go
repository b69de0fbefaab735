package observe

import (
	"context"
	"errors"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// chromiumBinary is Debian's chromium package.
const chromiumBinary = "/usr/bin/chromium"

// requireChromium skips the test when Chromium is not installed, unless
// S3CACHE_E2E_REQUIRE=1 asks for every test to run.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumBinary); err == nil {
		return
	}
	msg := chromiumBinary + " is missing: the dashboard browser test needs Debian's chromium package (apt-get install chromium)"
	if os.Getenv("S3CACHE_E2E_REQUIRE") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// headlessChromium runs Chromium once on url with extra args, in a fresh
// profile, and returns its standard output. It kills Chromium's whole
// process group when done, so no helper process outlives the test.
func headlessChromium(t *testing.T, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000"}, extra...)
	cmd := exec.CommandContext(ctx, chromiumBinary, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // stray helpers, if any
	}
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out
}

// limitedBuffer keeps the first 16 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.b = append(l.b, p[:min(len(p), 16<<10-len(l.b))]...)
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

// artifactsDir is e2e/artifacts at the module root (git-ignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			out := filepath.Join(dir, "e2e", "artifacts")
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			return out
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("module root not found")
	return ""
}

// TestDashboardInChromium loads the page in headless Chromium after a
// workload and checks that every number it shows equals what /metrics says.
func TestDashboardInChromium(t *testing.T) {
	requireChromium(t)
	ts := newTrafficServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		ts.dashboard.Run(ctx)
	}()
	defer func() { cancel(); <-sampled }()
	for range 4 { // a few rounds, so the throughput chart has a shape
		ts.drive(t)
		time.Sleep(150 * time.Millisecond)
	}
	dash := httptest.NewServer(ts.dashboard.Handler())
	defer dash.Close()

	dom := string(headlessChromium(t, dash.URL+"/", "--dump-dom"))
	if !regexp.MustCompile(`<body[^>]*data-loaded="true"`).MatchString(dom) {
		t.Fatalf("the page never rendered its data:\n%.2000s", dom)
	}
	shown := map[string]string{}
	for _, m := range regexp.MustCompile(`id="([a-z-]+)"[^>]*data-value="([^"]*)"`).FindAllStringSubmatch(dom, -1) {
		shown[m[1]] = m[2]
	}
	want := expectedFromMetrics(promSums(t, ts.metrics.Handler()))
	if want["requests-total"] != 4*13 {
		t.Fatalf("metrics count %v requests, the workload sent %d", want["requests-total"], 4*13)
	}
	for id, w := range want {
		got, err := strconv.ParseFloat(shown[id], 64)
		if err != nil {
			t.Errorf("page element #%s shows %q, want %v", id, shown[id], w)
			continue
		}
		if math.Abs(got-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("page element #%s = %v, /metrics says %v", id, got, w)
		}
	}
	for _, text := range []string{"photos/cats/", "origin unreachable", "test-1.0"} {
		if !regexp.MustCompile(regexp.QuoteMeta(text)).MatchString(dom) {
			t.Errorf("page does not show %q", text)
		}
	}

	metricsText := httptest.NewRecorder()
	ts.metrics.Handler().ServeHTTP(metricsText, httptest.NewRequest("GET", "/metrics", nil))
	if err := os.WriteFile(filepath.Join(artifactsDir(t), "dashboard-metrics.txt"), metricsText.Body.Bytes(), 0o644); err != nil {
		t.Error(err)
	}
	shot := filepath.Join(artifactsDir(t), "dashboard.png")
	os.Remove(shot)
	headlessChromium(t, dash.URL+"/", "--screenshot="+shot, "--window-size=1280,1000")
	if info, err := os.Stat(shot); err != nil || info.Size() < 10<<10 {
		t.Errorf("screenshot %s not written (%v)", shot, errors.Join(err))
	} else {
		t.Logf("screenshot: %s", shot)
	}
}
