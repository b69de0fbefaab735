package origin

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// stallingOrigin delays the first byte of every stallEvery-th request.
func stallingOrigin(t *testing.T, stallEvery int64, stall time.Duration) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%stallEvery == 0 {
			select {
			case <-time.After(stall):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func latencies(t *testing.T, c *Client, url string, n int) []time.Duration {
	t.Helper()
	var out []time.Duration
	for range n {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		start := time.Now()
		resp, err := c.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("body %q", body)
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

// Hedging cuts the tail that one stalled server causes, within its budget.
func TestHedgingCutsTheTail(t *testing.T) {
	const stall = time.Second
	srv, _ := stallingOrigin(t, 10, stall)
	plain, _ := New(Config{URL: srv.URL, ConnectTimeout: time.Second, FirstByteTimeout: 5 * time.Second, MaxIdleConnsPerHost: 4})
	hedging, _ := New(Config{URL: srv.URL, ConnectTimeout: time.Second, FirstByteTimeout: 5 * time.Second, MaxIdleConnsPerHost: 4,
		Resilience: Resilience{HedgeAfter: 30 * time.Millisecond, HedgeFraction: 0.2}})
	defer plain.Close()
	defer hedging.Close()
	off := latencies(t, plain, srv.URL, 50)
	on := latencies(t, hedging, srv.URL, 50)
	p99off, p99on := off[len(off)-1], on[len(on)-1]
	t.Logf("p99 without hedging %v, with hedging %v (ratio %.2f)", p99off, p99on, float64(p99on)/float64(p99off))
	// Behaviour, not speed: no hedged request waited for a stalled server.
	if p99on >= stall/2 {
		t.Errorf("a hedged request waited for the stalled server: %v", p99on)
	}
	requests, hedges := hedging.HedgeStats()
	if float64(hedges) > 0.2*float64(requests)+1 {
		t.Errorf("%d hedges for %d requests exceed the 20%% budget", hedges, requests)
	}
}

// A body that stops mid-way is aborted after IdleTimeout instead of hanging.
func TestIdleBodyIsAborted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "01234")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, _ := New(Config{URL: srv.URL, ConnectTimeout: time.Second, FirstByteTimeout: time.Second, MaxIdleConnsPerHost: 1,
		Resilience: Resilience{IdleTimeout: 100 * time.Millisecond}})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("idle body: err %v after %v", err, time.Since(start))
	}
}

// Connection failures of GETs are retried.
func TestRetriesConnectionFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close() // reset before any answer
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	c, _ := New(Config{URL: srv.URL, ConnectTimeout: time.Second, FirstByteTimeout: time.Second, MaxIdleConnsPerHost: 1,
		Resilience: Resilience{Retries: 2}})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
	resp, err := c.RoundTrip(req)
	if err != nil {
		t.Fatalf("not retried: %v", err)
	}
	resp.Body.Close()
}
