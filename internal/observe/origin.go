package observe

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// originMetrics describe the requests s3cache itself sends to S3.
type originMetrics struct {
	requests  *prometheus.CounterVec // method, status_class ("error" when no response)
	received  prometheus.Counter
	sent      prometheus.Counter
	firstByte prometheus.Histogram
	inFlight  prometheus.Gauge
}

func newOriginMetrics(reg *prometheus.Registry) originMetrics {
	o := originMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Subsystem: "origin",
			Name: "requests_total", Help: "Requests sent to the origin, by method and status class (error: no response)."},
			[]string{"method", "status_class"}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "origin",
			Name: "response_bytes_total", Help: "Response body bytes read from the origin (what S3 bills as data transfer out)."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Subsystem: "origin",
			Name: "request_bytes_total", Help: "Request body bytes sent to the origin (uploads)."}),
		firstByte: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Subsystem: "origin",
			Name: "time_to_first_byte_seconds", Help: "Time from sending a request to the origin until its response head arrived.",
			Buckets: latencyBuckets}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "origin",
			Name: "requests_in_flight", Help: "Origin round trips waiting for their response head."}),
	}
	reg.MustRegister(o.requests, o.received, o.sent, o.firstByte, o.inFlight)
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		o.requests.WithLabelValues(m, "2xx")
	}
	return o
}

// InstrumentRoundTripper returns rt counting origin requests, their status,
// time to first byte and the body bytes in both directions. The request
// given to rt is the caller's, or a shallow copy of it whose Body counts
// what is read; a nil *Metrics returns rt unchanged.
func (m *Metrics) InstrumentRoundTripper(rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return &instrumentedTransport{next: rt, m: &m.origin}
}

type instrumentedTransport struct {
	next http.RoundTripper
	m    *originMetrics
}

func (t *instrumentedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		counted := *req
		counted.Body = &countingBody{ReadCloser: req.Body, counter: t.m.sent}
		req = &counted
	}
	start := time.Now()
	t.m.inFlight.Inc()
	resp, err := t.next.RoundTrip(req)
	t.m.inFlight.Dec()
	method := knownMethod(req.Method)
	if err != nil {
		t.m.requests.WithLabelValues(method, "error").Inc()
		return resp, err
	}
	t.m.firstByte.Observe(time.Since(start).Seconds())
	t.m.requests.WithLabelValues(method, statusClass(resp.StatusCode)).Inc()
	if resp.Body != nil && resp.Body != http.NoBody {
		resp.Body = &countingBody{ReadCloser: resp.Body, counter: t.m.received}
	}
	return resp, nil
}

// knownMethod keeps the method label bounded.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// countingBody adds the bytes read through it to a counter, in batches so
// a stream of small reads does not contend on the counter.
type countingBody struct {
	io.ReadCloser
	counter prometheus.Counter
	pending atomic.Int64
}

const countBatch = 1 << 20

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && b.pending.Add(int64(n)) >= countBatch {
		b.counter.Add(float64(b.pending.Swap(0)))
	}
	if err != nil {
		b.counter.Add(float64(b.pending.Swap(0)))
	}
	return n, err
}

func (b *countingBody) Close() error {
	b.counter.Add(float64(b.pending.Swap(0)))
	return b.ReadCloser.Close()
}
