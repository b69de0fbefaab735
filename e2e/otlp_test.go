package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/s3cache/s3cache/e2e/harness"
)

// otlpPush is the part of an OTLP/JSON metrics export the test reads.
type otlpPush struct {
	ResourceMetrics []struct {
		ScopeMetrics []struct {
			Metrics []struct {
				Name string `json:"name"`
				Sum  *struct {
					DataPoints []struct {
						Attributes []struct {
							Key   string `json:"key"`
							Value struct {
								StringValue string `json:"stringValue"`
							} `json:"value"`
						} `json:"attributes"`
						AsDouble float64 `json:"asDouble"`
					} `json:"dataPoints"`
				} `json:"sum"`
			} `json:"metrics"`
		} `json:"scopeMetrics"`
	} `json:"resourceMetrics"`
}

// requests sums s3cache_requests_total by outcome.
func (p otlpPush) requests() map[string]float64 {
	out := map[string]float64{}
	for _, rm := range p.ResourceMetrics {
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				if m.Name != "s3cache_requests_total" || m.Sum == nil {
					continue
				}
				for _, dp := range m.Sum.DataPoints {
					for _, a := range dp.Attributes {
						if a.Key == "outcome" {
							out[a.Value.StringValue] += dp.AsDouble
						}
					}
				}
			}
		}
	}
	return out
}

// TestOTLPCollectorReceivesRequestAndHitCounters: with --otlp-endpoint,
// an in-process collector receives the request counters, hits included,
// under the same names as /metrics.
func TestOTLPCollectorReceivesRequestAndHitCounters(t *testing.T) {
	pushes := make(chan otlpPush, 100)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p otlpPush
		if r.URL.Path != "/v1/metrics" || json.NewDecoder(r.Body).Decode(&p) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		w.Write([]byte("{}"))
		select {
		case pushes <- p:
		default:
		}
	}))
	defer collector.Close()

	e := harness.NewEnv(t, harness.Options{CacheArgs: []string{"--otlp-endpoint", collector.URL, "--otlp-interval", "200ms"}})
	putPattern(t, e, e.Direct, "otlp/obj", 70, 1000)
	wantXCache(t, "first GET", get(t, e, e.Client, "otlp/obj"), "MISS")
	wantXCache(t, "second GET", get(t, e, e.Client, "otlp/obj"), "HIT")

	deadline := time.After(15 * time.Second)
	for {
		select {
		case p := <-pushes:
			if got := p.requests(); got["hit"] >= 1 && got["miss"] >= 1 {
				return
			}
		case <-deadline:
			t.Fatal("no OTLP push with the hit and miss counted arrived")
		}
	}
}
