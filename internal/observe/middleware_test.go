package observe

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3cache/s3cache/internal/s3err"
	"github.com/s3cache/s3cache/internal/s3req"
)

// recorderSink keeps the records it is given.
type recorderSink struct{ finished []*Record }

func (s *recorderSink) Started(*Record)      {}
func (s *recorderSink) Finished(rec *Record) { s.finished = append(s.finished, rec) }

func mustGather(t *testing.T, m *Metrics) gathered {
	t.Helper()
	g, err := m.gather()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestWrapCountsOutcomesAndBytes(t *testing.T) {
	m := NewMetrics(MetricsOptions{Version: "test", BucketLabels: 1})
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/b/hit":
			w.Header().Set("X-Cache", "HIT")
			io.WriteString(w, "0123456789")
		case "/b/miss":
			w.Header().Set("X-Cache", "MISS")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "abc")
		case "/c/partial":
			w.Header().Set("X-Cache", "PARTIAL")
			w.WriteHeader(http.StatusPartialContent)
			io.WriteString(w, "abcd")
		case "/b/relayed-503":
			// S3's own SlowDown, relayed: not an error of s3cache's.
			w.Header().Set("X-Cache", "BYPASS")
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			// What relay.UpstreamError answers when S3 cannot be reached.
			s3err.Write(w, r, http.StatusBadGateway, "BadGateway", "s3cache: cannot reach the origin")
		}
	}), s3req.Options{Origin: "http://origin"}, m)
	for _, path := range []string{"/b/hit", "/b/hit", "/b/miss", "/c/partial", "/b/error", "/b/relayed-503"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	g := mustGather(t, m)
	checks := []struct {
		name  string
		got   float64
		want  float64
		label string
	}{
		{"hits", g.sum("s3cache_requests_total", "operation", "GetObject", "outcome", "hit", "status_class", "2xx"), 2, ""},
		{"misses", g.sum("s3cache_requests_total", "outcome", "miss"), 1, ""},
		{"partial", g.sum("s3cache_requests_total", "outcome", "partial"), 1, ""},
		{"errors", g.sum("s3cache_requests_total", "outcome", "error", "status_class", "5xx"), 1, ""},
		{"relayed 503", g.sum("s3cache_requests_total", "outcome", "bypass", "status_class", "5xx"), 1, ""},
		{"cache bytes", g.sum("s3cache_response_bytes_total", "source", "cache"), 20, ""},
		{"origin bytes", g.sum("s3cache_response_bytes_total", "source", "origin"), 3, ""},
		{"mixed bytes", g.sum("s3cache_response_bytes_total", "source", "mixed"), 4, ""},
		{"in flight", g.sum("s3cache_requests_in_flight"), 0, ""},
		{"latency samples", g.sum("s3cache_request_duration_seconds"), 6, ""},
		{"first bucket labelled", g.sum("s3cache_bucket_requests_total", "bucket", "b"), 5, ""},
		{"capped bucket", g.sum("s3cache_bucket_requests_total", "bucket", "other"), 1, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, name := range []string{"s3cache_fill_fetches_saved_total", "s3cache_evictions_total", "s3cache_cache_size_bytes",
		"s3cache_cache_capacity_bytes", "s3cache_revalidations_total", "s3cache_config_reloads_total", "s3cache_origin_requests_total"} {
		if _, ok := g[name]; !ok {
			t.Errorf("metric %s is not exposed before its subsystem reports", name)
		}
	}
}

func TestWrapRecordsErrorCodeAndAbort(t *testing.T) {
	sink := &recorderSink{}
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/b/abort" {
			w.Header().Set("X-Cache", "MISS")
			w.WriteHeader(http.StatusOK)
			panic(http.ErrAbortHandler)
		}
		MarkLocalError(r.Context())
		s3err.Write(w, r, http.StatusServiceUnavailable, "SlowDown", "slow down")
	}), s3req.Options{}, sink)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/b/k", nil))
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("panic = %v, want it passed on", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/b/abort", nil))
	}()
	if len(sink.finished) != 2 {
		t.Fatalf("%d records, want 2", len(sink.finished))
	}
	if rec := sink.finished[0]; rec.ErrorCode != "SlowDown" || rec.Outcome != OutcomeError || rec.Source != SourceS3cache {
		t.Errorf("error record = code %q outcome %q source %q", rec.ErrorCode, rec.Outcome, rec.Source)
	}
	if rec := sink.finished[1]; !rec.Aborted || rec.Outcome != OutcomeMiss || rec.Status != http.StatusOK {
		t.Errorf("aborted record = aborted %v outcome %q status %d", rec.Aborted, rec.Outcome, rec.Status)
	}
}

// readFromWriter is a ResponseWriter whose ReadFrom reports that it was used.
type readFromWriter struct {
	*httptest.ResponseRecorder
	readFromCalls int
	source        io.Reader
}

func (w *readFromWriter) ReadFrom(src io.Reader) (int64, error) {
	w.readFromCalls++
	w.source = src
	return io.Copy(w.ResponseRecorder, src)
}

func TestWrapKeepsReadFromForSendfile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "segment")
	if err := os.WriteFile(file, []byte(strings.Repeat("x", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(MetricsOptions{})
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		w.Header().Set("X-Cache", "HIT")
		w.Header().Set("Content-Length", "600")
		w.WriteHeader(http.StatusOK)
		// What the read path does: io.CopyN reaches the connection's ReadFrom.
		if _, err := io.CopyN(w, f, 600); err != nil {
			t.Error(err)
		}
	}), s3req.Options{}, m)
	w := &readFromWriter{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/b/k", nil))
	if w.readFromCalls != 1 {
		t.Fatalf("the connection's ReadFrom was called %d times, want 1", w.readFromCalls)
	}
	if lr, ok := w.source.(*io.LimitedReader); !ok {
		t.Errorf("ReadFrom got %T, want the *io.LimitedReader over the file that sendfile recognises", w.source)
	} else if _, ok := lr.R.(*os.File); !ok {
		t.Errorf("ReadFrom's reader wraps %T, want *os.File", lr.R)
	}
	if got := mustGather(t, m).sum("s3cache_response_bytes_total", "source", "cache"); got != 600 {
		t.Errorf("cache bytes = %v, want 600", got)
	}
}

func TestWrapKeepsFlushAndHijack(t *testing.T) {
	h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.URL.Path == "/hijack" {
			conn, buf, err := rc.Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			buf.Flush()
			return
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("wrapped writer is not an http.Flusher")
		}
		io.WriteString(w, "part1")
		if err := rc.Flush(); err != nil {
			t.Errorf("flush: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("ResponseController cannot unwrap to the connection: %v", err)
		}
		io.WriteString(w, "part2")
	}), s3req.Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]string{"/flush": "part1part2", "/hijack": "hijacked"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("%s body = %q, want %q", path, body, want)
		}
	}
	var _ http.Hijacker = &recordingWriter{}
	var _ io.ReaderFrom = &recordingWriter{}
}

func TestLimitAnswersSlowDown(t *testing.T) {
	m := NewMetrics(MetricsOptions{})
	release, entered := make(chan struct{}), make(chan struct{})
	h := Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}), 1, m)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/b/k", nil))
	}()
	<-entered
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/b/k", nil))
	close(release)
	<-done
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(w.Body.String(), "<Code>SlowDown</Code>") {
		t.Errorf("over the limit: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if got := mustGather(t, m).sum("s3cache_requests_rejected_total", "reason", RejectConcurrency); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
	w = httptest.NewRecorder()
	Limit(http.NotFoundHandler(), 1, m).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("after release: %d", w.Code)
	}
}

func TestConnectTunnelsAreNotRecordedOrLimited(t *testing.T) {
	m := NewMetrics(MetricsOptions{})
	sink := &recorderSink{}
	release, entered := make(chan struct{}), make(chan struct{})
	tunnels := 0
	h := Wrap(Limit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect {
			tunnels++
			return
		}
		close(entered)
		<-release
	}), 1, m), s3req.Options{}, m, sink)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/b/k", nil))
	}()
	<-entered // the only slot is taken
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodConnect, "bucket.s3.amazonaws.com:443", nil))
	close(release)
	<-done
	if tunnels != 1 || w.Code != http.StatusOK {
		t.Errorf("CONNECT with the limit reached: served %d, status %d; want served", tunnels, w.Code)
	}
	if len(sink.finished) != 1 || sink.finished[0].Request.Method != http.MethodGet {
		t.Errorf("recorded %d requests, want only the GET", len(sink.finished))
	}
}

func TestInstrumentRoundTripperCountsOriginBytes(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, strings.Repeat("y", 5000))
	}))
	defer origin.Close()
	m := NewMetrics(MetricsOptions{})
	client := &http.Client{Transport: m.InstrumentRoundTripper(http.DefaultTransport)}
	resp, err := client.Post(origin.URL+"/b/k", "text/plain", strings.NewReader("upload"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	g := mustGather(t, m)
	if got := g.sum("s3cache_origin_response_bytes_total"); got != 5000 {
		t.Errorf("origin bytes in = %v, want 5000", got)
	}
	if got := g.sum("s3cache_origin_request_bytes_total"); got != 6 {
		t.Errorf("origin bytes out = %v, want 6", got)
	}
	if got := g.sum("s3cache_origin_requests_total", "method", "POST", "status_class", "2xx"); got != 1 {
		t.Errorf("origin requests = %v, want 1", got)
	}
}

func TestSubsystemMethodsAreNilSafe(t *testing.T) {
	var m *Metrics
	m.FillStarted()
	m.FillJoined()
	m.FillWaiters(1)
	m.Evicted(1, 10)
	m.SetCacheSize(ScopeShared, 1)
	m.SetCacheCapacity(ScopeShared, 1)
	m.SetInstances(2)
	m.Revalidated(true)
	m.ConfigReloaded(nil)
	m.Rejected(RejectConcurrency)
	if m.InstrumentRoundTripper(http.DefaultTransport) != http.DefaultTransport {
		t.Error("nil metrics changed the transport")
	}
}
