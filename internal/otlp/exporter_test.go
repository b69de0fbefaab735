package otlp

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3cache/s3cache/internal/observe"
	"github.com/s3cache/s3cache/internal/s3req"
)

// knownRegistry has one metric of each kind with known values.
func knownRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "s3cache_requests_total", Help: "Requests."}, []string{"outcome"})
	requests.WithLabelValues("hit").Add(7)
	requests.WithLabelValues("miss").Add(2)
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "s3cache_requests_in_flight", Help: "In flight."})
	inFlight.Set(3)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "s3cache_request_duration_seconds", Help: "Latency.", Buckets: []float64{0.1, 1}})
	for _, v := range []float64{0.05, 0.5, 0.7, 5} {
		latency.Observe(v)
	}
	reg.MustRegister(requests, inFlight, latency)
	return reg
}

// pushOnce starts an exporter that would wait an hour, and stops it: the
// push on stop is the one the collector gets.
func pushOnce(t *testing.T, cfg Config, g prometheus.Gatherer) {
	t.Helper()
	cfg.Interval = time.Hour
	stop := Start(context.Background(), cfg, g, nil)
	stop()
}

func TestCollectorReceivesCountersGaugesAndHistograms(t *testing.T) {
	c := startCollector(t)
	pushOnce(t, Config{Endpoint: c.URL, ServiceVersion: "1.2.3", InstanceID: "host-1", Headers: map[string]string{"X-Api-Key": "secret"}}, knownRegistry())
	got, path, header := c.last(t)
	if path != "/v1/metrics" || header.Get("X-Api-Key") != "secret" {
		t.Errorf("path %q, X-Api-Key %q", path, header.Get("X-Api-Key"))
	}
	res := got.ResourceMetrics[0].Resource.Attributes
	if attr(res, "service.name") != "s3cache" || attr(res, "service.version") != "1.2.3" || attr(res, "service.instance.id") != "host-1" {
		t.Errorf("resource %+v", res)
	}

	requests := got.metric("s3cache_requests_total")
	if requests == nil || requests.Sum == nil || !requests.Sum.IsMonotonic || requests.Sum.AggregationTemporality != temporalityCumulative {
		t.Fatalf("requests_total: %+v", requests)
	}
	byOutcome := map[string]float64{}
	for _, p := range requests.Sum.DataPoints {
		byOutcome[attr(p.Attributes, "outcome")] = p.AsDouble
		start, err1 := strconv.ParseUint(p.StartTimeUnixNano, 10, 64)
		at, err2 := strconv.ParseUint(p.TimeUnixNano, 10, 64)
		if err1 != nil || err2 != nil || start == 0 || start > at {
			t.Errorf("point times: start %q, time %q", p.StartTimeUnixNano, p.TimeUnixNano)
		}
	}
	if byOutcome["hit"] != 7 || byOutcome["miss"] != 2 {
		t.Errorf("requests_total by outcome %v, want hit 7, miss 2", byOutcome)
	}

	if g := got.metric("s3cache_requests_in_flight"); g == nil || g.Gauge == nil || g.Gauge.DataPoints[0].AsDouble != 3 {
		t.Errorf("in_flight: %+v", g)
	}

	h := got.metric("s3cache_request_duration_seconds")
	if h == nil || h.Histogram == nil {
		t.Fatalf("histogram: %+v", h)
	}
	p := h.Histogram.DataPoints[0]
	wantCounts := []string{"1", "2", "1"} // ≤0.1, (0.1,1], >1
	if p.Count != "4" || p.Sum != 6.25 || len(p.ExplicitBounds) != 2 || len(p.BucketCounts) != 3 {
		t.Fatalf("histogram point %+v", p)
	}
	for i, want := range wantCounts {
		if p.BucketCounts[i] != want {
			t.Errorf("bucket %d: %s, want %s (all %v)", i, p.BucketCounts[i], want, p.BucketCounts)
		}
	}
}

// The real s3cache registry (runtime and process collectors included)
// exports, and a served hit shows in the request counter.
func TestCollectorReceivesTheS3cacheRegistry(t *testing.T) {
	m := observe.NewMetrics(observe.MetricsOptions{Version: "test"})
	for range 3 {
		m.Started(nil)
		m.Finished(&observe.Record{S3: &s3req.Request{Op: s3req.OpGetObject}, Status: 200, Outcome: observe.OutcomeHit, Source: observe.SourceDisk})
	}
	c := startCollector(t)
	pushOnce(t, Config{Endpoint: c.URL + "/v1/metrics"}, m.Registry())
	got, _, _ := c.last(t)
	requests := got.metric("s3cache_requests_total")
	if requests == nil || requests.Sum == nil {
		t.Fatal("s3cache_requests_total not exported")
	}
	var hits float64
	for _, p := range requests.Sum.DataPoints {
		if attr(p.Attributes, "outcome") == observe.OutcomeHit {
			hits += p.AsDouble
		}
	}
	if hits != 3 {
		t.Errorf("hits %v, want 3", hits)
	}
	if got.metric("go_goroutines") == nil {
		t.Error("runtime metrics not exported")
	}
}

// Pushes repeat every interval.
func TestPushesEveryInterval(t *testing.T) {
	c := startCollector(t)
	stop := Start(context.Background(), Config{Endpoint: c.URL, Interval: 20 * time.Millisecond}, knownRegistry(), nil)
	defer stop()
	for i := range 2 {
		select {
		case <-c.pushed:
		case <-time.After(5 * time.Second):
			t.Fatalf("push %d did not arrive", i+1)
		}
	}
}

// Off, or an endpoint that is not a URL: nothing is started.
func TestStartOffOrBadEndpoint(t *testing.T) {
	Start(context.Background(), Config{}, knownRegistry(), nil)()
	Start(context.Background(), Config{Endpoint: "collector:4318"}, knownRegistry(), nil)()
	if _, err := metricsURL("https://otel.example.test:4318/custom/path"); err != nil {
		t.Error(err)
	}
	if u, _ := metricsURL("http://127.0.0.1:4318/"); u != "http://127.0.0.1:4318/v1/metrics" {
		t.Errorf("bare endpoint became %q", u)
	}
}

// A collector that refuses the push is reported, not retried in a loop.
func TestPushReportsCollectorErrors(t *testing.T) {
	c := startCollector(t)
	e, err := newExporter(Config{Endpoint: c.URL + "/wrong"}, knownRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.push(context.Background()); err == nil {
		t.Fatal("a 404 from the collector was taken for success")
	}
}

// Non-finite values are written as protobuf JSON spells them.
func TestNonFiniteDoubles(t *testing.T) {
	b, err := json.Marshal([]double{double(math.NaN()), double(math.Inf(1)), double(math.Inf(-1)), 0.25})
	if err != nil || string(b) != `["NaN","Infinity","-Infinity",0.25]` {
		t.Fatalf("%s, %v", b, err)
	}
}
