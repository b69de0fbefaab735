package otlp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// received is an export request as a collector decodes it: 64-bit
// integers are JSON strings, so they are read as strings here.
type received struct {
	ResourceMetrics []struct {
		Resource struct {
			Attributes []receivedAttr `json:"attributes"`
		} `json:"resource"`
		ScopeMetrics []struct {
			Scope struct {
				Name string `json:"name"`
			} `json:"scope"`
			Metrics []receivedMetric `json:"metrics"`
		} `json:"scopeMetrics"`
	} `json:"resourceMetrics"`
}

type receivedAttr struct {
	Key   string `json:"key"`
	Value struct {
		StringValue string `json:"stringValue"`
	} `json:"value"`
}

type receivedPoint struct {
	Attributes        []receivedAttr `json:"attributes"`
	StartTimeUnixNano string         `json:"startTimeUnixNano"`
	TimeUnixNano      string         `json:"timeUnixNano"`
	AsDouble          float64        `json:"asDouble"`
	Count             string         `json:"count"`
	Sum               float64        `json:"sum"`
	BucketCounts      []string       `json:"bucketCounts"`
	ExplicitBounds    []float64      `json:"explicitBounds"`
}

type receivedMetric struct {
	Name string `json:"name"`
	Sum  *struct {
		DataPoints             []receivedPoint `json:"dataPoints"`
		AggregationTemporality int             `json:"aggregationTemporality"`
		IsMonotonic            bool            `json:"isMonotonic"`
	} `json:"sum"`
	Gauge *struct {
		DataPoints []receivedPoint `json:"dataPoints"`
	} `json:"gauge"`
	Histogram *struct {
		DataPoints             []receivedPoint `json:"dataPoints"`
		AggregationTemporality int             `json:"aggregationTemporality"`
	} `json:"histogram"`
	Summary *struct {
		DataPoints []receivedPoint `json:"dataPoints"`
	} `json:"summary"`
}

// collector is an in-process OTLP/HTTP receiver on 127.0.0.1.
type collector struct {
	*httptest.Server
	mu       sync.Mutex
	requests []received
	paths    []string
	headers  []http.Header
	pushed   chan struct{}
}

func startCollector(t *testing.T) *collector {
	t.Helper()
	c := &collector{pushed: make(chan struct{}, 100)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req received
		if r.URL.Path != "/v1/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "want a JSON POST", http.StatusUnsupportedMediaType)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		c.requests = append(c.requests, req)
		c.paths = append(c.paths, r.URL.Path)
		c.headers = append(c.headers, r.Header.Clone())
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		c.pushed <- struct{}{}
	}))
	t.Cleanup(c.Close)
	return c
}

// last returns the newest request, its path and headers.
func (c *collector) last(t *testing.T) (received, string, http.Header) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.requests) == 0 {
		t.Fatal("the collector received nothing")
	}
	n := len(c.requests) - 1
	return c.requests[n], c.paths[n], c.headers[n]
}

// metric finds a metric by name in r.
func (r received) metric(name string) *receivedMetric {
	for _, rm := range r.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for i := range sm.Metrics {
				if sm.Metrics[i].Name == name {
					return &sm.Metrics[i]
				}
			}
		}
	}
	return nil
}

// attr returns the value of key among attrs.
func attr(attrs []receivedAttr, key string) string {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value.StringValue
		}
	}
	return ""
}
