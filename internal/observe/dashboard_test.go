package observe

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/s3req"
)

// trafficServer serves a fixed mix of outcomes through Wrap, as the
// caching listener would, and returns the dashboard over the same metrics.
type trafficServer struct {
	metrics   *Metrics
	dashboard *Dashboard
	s3        *httptest.Server
}

func newTrafficServer(t *testing.T) *trafficServer {
	t.Helper()
	m := NewMetrics(MetricsOptions{Version: "test-1.0"})
	buckets := NewBucketStats(100)
	ring := NewErrorRing(10)
	log := NewLogger(io.Discard, "text", nil, ring)
	fake := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Paths end in /<outcome>/<size>.
		parts := strings.Split(r.URL.Path, "/")
		size, _ := strconv.Atoi(parts[len(parts)-1])
		switch parts[len(parts)-2] {
		case "hit":
			w.Header().Set("X-Cache", "HIT")
		case "miss":
			w.Header().Set("X-Cache", "MISS")
		case "partial":
			w.Header().Set("X-Cache", "PARTIAL")
		case "bypass":
			w.Header().Set("X-Cache", "BYPASS")
		default:
			log.Error("origin unreachable", "object", strings.TrimPrefix(r.URL.Path, "/"))
			http.Error(w, "boom", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		io.WriteString(w, strings.Repeat("z", size))
	})
	ts := &trafficServer{metrics: m}
	ts.s3 = httptest.NewServer(Wrap(fake, s3req.Options{}, m, buckets))
	t.Cleanup(ts.s3.Close)
	ts.dashboard = NewDashboard(DashboardConfig{Version: "test-1.0", Started: time.Now().Add(-time.Hour), Metrics: m,
		Buckets: buckets, Errors: ring, SampleEvery: 50 * time.Millisecond,
		CacheInfo: func() CacheInfo { return CacheInfo{Dir: "/var/cache/s3cache", Writable: true, DiskFree: 50 << 30} }})
	m.SetCacheSize(ScopeShared, 3<<30)
	m.SetCacheCapacity(ScopeShared, 10<<30)
	m.SetInstances(2)
	return ts
}

// drive sends the workload: 6 hits, 3 misses, 1 partial, 2 bypasses, 1 error.
func (ts *trafficServer) drive(t *testing.T) {
	t.Helper()
	paths := []string{}
	for i := range 6 {
		paths = append(paths, "/photos/cats/"+strconv.Itoa(i)+"/hit/100000")
	}
	paths = append(paths, "/photos/dogs/miss/70000", "/logs/2024/miss/5000", "/logs/2024/miss/5000",
		"/photos/cats/partial/3000", "/logs/x/bypass/10", "/logs/bypass/10", "/photos/broken/error/0")
	for _, p := range paths {
		resp, err := http.Get(ts.s3.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// promSums reads the exposition text into sums by "name{label=value}" and name.
func promSums(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	sums := map[string]float64{}
	line := regexp.MustCompile(`^([a-zA-Z0-9_:]+)(\{(.*)\})? (\S+)$`)
	label := regexp.MustCompile(`([a-z_]+)="([^"]*)"`)
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			continue
		}
		sums[m[1]] += v
		for _, l := range label.FindAllStringSubmatch(m[3], -1) {
			sums[m[1]+"{"+l[1]+"="+l[2]+"}"] += v
		}
	}
	return sums
}

// expectedFromMetrics is what the page must show, computed from /metrics.
func expectedFromMetrics(p map[string]float64) map[string]float64 {
	hit, miss := p["s3cache_requests_total{outcome=hit}"], p["s3cache_requests_total{outcome=miss}"]
	partial, reval := p["s3cache_requests_total{outcome=partial}"], p["s3cache_requests_total{outcome=revalidated}"]
	cached := p["s3cache_response_bytes_total{source=cache}"] + p["s3cache_response_bytes_total{source=ram}"] + p["s3cache_response_bytes_total{source=disk}"]
	return map[string]float64{
		"requests-total":  p["s3cache_requests_total"],
		"req-hit":         hit,
		"req-miss":        miss,
		"req-partial":     partial,
		"req-bypass":      p["s3cache_requests_total{outcome=bypass}"],
		"req-error":       p["s3cache_requests_total{outcome=error}"],
		"hit-ratio":       (hit + reval) / (hit + reval + partial + miss),
		"bytes-saved":     cached,
		"bytes-cache":     cached,
		"bytes-origin":    p["s3cache_response_bytes_total{source=origin}"],
		"bytes-mixed":     p["s3cache_response_bytes_total{source=mixed}"],
		"bytes-sent":      p["s3cache_response_bytes_total"],
		"byte-hit-ratio":  cached / p["s3cache_response_bytes_total"],
		"cache-size":      p["s3cache_cache_size_bytes{scope=shared}"],
		"cache-capacity":  p["s3cache_cache_capacity_bytes{scope=shared}"],
		"instances":       p["s3cache_instances"],
		"in-flight":       p["s3cache_requests_in_flight"],
		"origin-requests": p["s3cache_origin_requests_total"],
	}
}

func closeEnough(a, b float64) bool {
	d := a - b
	return d < 1e-9 && d > -1e-9
}

func TestDashboardStatsMatchMetrics(t *testing.T) {
	ts := newTrafficServer(t)
	ts.drive(t)
	s, err := ts.dashboard.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := expectedFromMetrics(promSums(t, ts.metrics.Handler()))
	got := map[string]float64{
		"requests-total": s.Requests, "req-hit": s.ByOutcome["hit"], "req-miss": s.ByOutcome["miss"],
		"req-partial": s.ByOutcome["partial"], "req-bypass": s.ByOutcome["bypass"], "req-error": s.ByOutcome["error"],
		"hit-ratio": s.HitRatio, "bytes-saved": s.BytesSaved, "bytes-sent": s.BytesSent, "byte-hit-ratio": s.ByteHitRatio,
		"cache-size": s.Cache.SizeBytes, "cache-capacity": s.Cache.CapacityBytes, "instances": s.Cache.Instances,
	}
	for k, v := range got {
		if !closeEnough(v, want[k]) {
			t.Errorf("%s = %v, /metrics says %v", k, v, want[k])
		}
	}
	if s.Requests != 13 || s.ByOutcome["hit"] != 6 || s.BytesSaved != 600000 {
		t.Errorf("workload not counted as sent: %+v", s)
	}
	if len(s.TopBuckets) != 2 || s.TopBuckets[0].Name != "photos" || s.TopBuckets[0].Requests != 9 {
		t.Errorf("top buckets = %+v", s.TopBuckets)
	}
	if len(s.TopPrefixes) == 0 || s.TopPrefixes[0].Name != "photos/cats/" || s.TopPrefixes[len(s.TopPrefixes)-1].Name != "photos/broken/" {
		t.Errorf("top prefixes = %+v", s.TopPrefixes)
	}
	if len(s.RecentErrors) != 1 || s.RecentErrors[0].Message != "origin unreachable" {
		t.Errorf("recent errors = %+v", s.RecentErrors)
	}
}

func TestDashboardPageIsSelfContained(t *testing.T) {
	ts := newTrafficServer(t)
	srv := httptest.NewServer(ts.dashboard.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "<title>s3cache</title>") {
		t.Fatalf("page: %d", resp.StatusCode)
	}
	if m := regexp.MustCompile(`(src|href)="(https?:)?//`).Find(page); m != nil {
		t.Errorf("page loads something from elsewhere: %s", m)
	}
	resp, err = http.Get(srv.URL + "/api/stats")
	if err != nil {
		t.Fatal(err)
	}
	var s DashboardStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil || s.Version != "test-1.0" {
		t.Errorf("api: %v %+v", err, s)
	}
	resp.Body.Close()
}
