package observe

import (
	"fmt"

	dto "github.com/prometheus/client_model/go"
)

// gathered is one read of every metric on the registry, so that figures
// derived from it (the dashboard's) are consistent with each other and with
// /metrics.
type gathered map[string]*dto.MetricFamily

func (m *Metrics) gather() (gathered, error) {
	families, err := m.registry.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather metrics: %w", err)
	}
	g := make(gathered, len(families))
	for _, f := range families {
		g[f.GetName()] = f
	}
	return g, nil
}

// sum adds up the samples of a counter or gauge family whose labels include
// every pair in match (name, value, name, value …).
func (g gathered) sum(name string, match ...string) float64 {
	f, ok := g[name]
	if !ok {
		return 0
	}
	total := 0.0
	for _, metric := range f.GetMetric() {
		if !labelsMatch(metric.GetLabel(), match) {
			continue
		}
		switch {
		case metric.Counter != nil:
			total += metric.Counter.GetValue()
		case metric.Gauge != nil:
			total += metric.Gauge.GetValue()
		case metric.Histogram != nil:
			total += float64(metric.Histogram.GetSampleCount())
		}
	}
	return total
}

// byLabel adds up a family's samples grouped by one label's value.
func (g gathered) byLabel(name, label string) map[string]float64 {
	out := map[string]float64{}
	f, ok := g[name]
	if !ok {
		return out
	}
	for _, metric := range f.GetMetric() {
		for _, l := range metric.GetLabel() {
			if l.GetName() == label {
				out[l.GetValue()] += metric.GetCounter().GetValue() + metric.GetGauge().GetValue()
			}
		}
	}
	return out
}

func labelsMatch(labels []*dto.LabelPair, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		found := false
		for _, l := range labels {
			if l.GetName() == match[i] && l.GetValue() == match[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
