package observe

import (
	"net/http"
	"runtime"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "s3cache"

// latencyBuckets span 1 ms to about a minute.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2.5, 13)

// MetricsOptions shape the metric set.
type MetricsOptions struct {
	Version string
	// BucketLabels is how many distinct buckets get their own label value
	// on the per-bucket metrics; later buckets share the value "other".
	// 0 leaves the per-bucket metrics out.
	BucketLabels int
}

// Metrics is s3cache's Prometheus metric set, on a registry of its own.
// All methods are safe for concurrent use and do nothing on a nil *Metrics.
type Metrics struct {
	registry *prometheus.Registry

	requests  *prometheus.CounterVec // operation, outcome, status_class
	sent      *prometheus.CounterVec // source
	duration  *prometheus.HistogramVec
	firstByte *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	rejected  *prometheus.CounterVec // reason

	buckets        *labelCap
	bucketRequests *prometheus.CounterVec // bucket, outcome
	bucketSent     *prometheus.CounterVec // bucket, source

	origin originMetrics
	events eventMetrics
}

// NewMetrics builds the metric set and registers it, with the Go runtime
// and process collectors, on a new registry.
func NewMetrics(opts MetricsOptions) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "requests_total", Help: "Requests on the caching listener by S3 operation, cache outcome and status class."},
			[]string{"operation", "outcome", "status_class"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "response_bytes_total", Help: "Response body bytes sent to clients, by where they came from (cache, ram, disk, origin, mixed, s3cache)."},
			[]string{"source"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "request_duration_seconds", Help: "Time from request arrival to the end of the response, by cache outcome.", Buckets: latencyBuckets},
			[]string{"outcome"}),
		firstByte: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "time_to_first_byte_seconds", Help: "Time from request arrival to the response head, by cache outcome.", Buckets: latencyBuckets},
			[]string{"outcome"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace,
			Name: "requests_in_flight", Help: "Requests being served on the caching listener."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "requests_rejected_total", Help: "Requests answered 503 SlowDown without being served, by reason."},
			[]string{"reason"}),
	}
	reg.MustRegister(m.requests, m.sent, m.duration, m.firstByte, m.inFlight, m.rejected)
	for _, s := range Sources {
		m.sent.WithLabelValues(s)
	}
	m.rejected.WithLabelValues(RejectConcurrency)
	if opts.BucketLabels > 0 {
		m.buckets = newLabelCap(opts.BucketLabels)
		m.bucketRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "bucket_requests_total", Help: "Requests by bucket (the first buckets seen, up to a cap; the rest are \"other\") and cache outcome."},
			[]string{"bucket", "outcome"})
		m.bucketSent = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace,
			Name: "bucket_response_bytes_total", Help: "Response body bytes by bucket (capped as bucket_requests_total) and source."},
			[]string{"bucket", "source"})
		reg.MustRegister(m.bucketRequests, m.bucketSent)
	}
	m.origin = newOriginMetrics(reg)
	m.events = newEventMetrics(reg)
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help:        "Always 1; the labels name the running build.",
		ConstLabels: prometheus.Labels{"version": opts.Version, "goversion": runtime.Version()}})
	buildInfo.Set(1)
	reg.MustRegister(buildInfo,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Registry is the registry the metrics live on, for extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Started implements Sink.
func (m *Metrics) Started(*Record) {
	if m != nil {
		m.inFlight.Inc()
	}
}

// Finished implements Sink.
func (m *Metrics) Finished(rec *Record) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	m.requests.WithLabelValues(rec.S3.Op.String(), rec.Outcome, statusClass(rec.Status)).Inc()
	m.sent.WithLabelValues(rec.Source).Add(float64(rec.BytesSent))
	m.duration.WithLabelValues(rec.Outcome).Observe(rec.Duration.Seconds())
	if rec.Status != 0 {
		m.firstByte.WithLabelValues(rec.Outcome).Observe(rec.FirstByte.Seconds())
	}
	if m.buckets != nil && rec.S3.Bucket != "" {
		b := m.buckets.label(rec.S3.Bucket)
		m.bucketRequests.WithLabelValues(b, rec.Outcome).Inc()
		m.bucketSent.WithLabelValues(b, rec.Source).Add(float64(rec.BytesSent))
	}
}

// RejectConcurrency is the reason label of requests refused by Limit.
const RejectConcurrency = "concurrency"

// Rejected counts a request refused before it was served.
func (m *Metrics) Rejected(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}

// labelCap hands out at most max distinct label values; the rest are "other".
type labelCap struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func newLabelCap(max int) *labelCap {
	return &labelCap{max: max, seen: make(map[string]struct{})}
}

func (c *labelCap) label(v string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.seen[v]; ok {
		return v
	}
	if len(c.seen) >= c.max {
		return "other"
	}
	c.seen[v] = struct{}{}
	return v
}
