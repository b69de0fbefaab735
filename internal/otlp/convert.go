package otlp

import (
	"math"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// converter turns gathered metric families into OTLP metrics.
type converter struct {
	now     uint64str // export time
	started uint64str // start of cumulative series without a created time
}

func newConverter(now, started time.Time) converter {
	return converter{now: unixNano(now), started: unixNano(started)}
}

func unixNano(t time.Time) uint64str { return uint64str(max(0, t.UnixNano())) }

// metrics converts every family; families of an unknown type are skipped.
func (c converter) metrics(families []*dto.MetricFamily) []metric {
	out := make([]metric, 0, len(families))
	for _, f := range families {
		if m, ok := c.metric(f); ok {
			out = append(out, m)
		}
	}
	return out
}

func (c converter) metric(f *dto.MetricFamily) (metric, bool) {
	m := metric{Name: f.GetName(), Description: f.GetHelp(), Unit: f.GetUnit()}
	switch f.GetType() {
	case dto.MetricType_COUNTER:
		s := &sum{AggregationTemporality: temporalityCumulative, IsMonotonic: true}
		for _, p := range f.GetMetric() {
			s.DataPoints = append(s.DataPoints, numberPoint{c.times(p, p.GetCounter().GetCreatedTimestamp()), double(p.GetCounter().GetValue())})
		}
		m.Sum = s
	case dto.MetricType_GAUGE, dto.MetricType_UNTYPED:
		g := &gauge{}
		for _, p := range f.GetMetric() {
			v := p.GetGauge().GetValue()
			if f.GetType() == dto.MetricType_UNTYPED {
				v = p.GetUntyped().GetValue()
			}
			g.DataPoints = append(g.DataPoints, numberPoint{c.gaugeTimes(p), double(v)})
		}
		m.Gauge = g
	case dto.MetricType_HISTOGRAM:
		h := &histogram{AggregationTemporality: temporalityCumulative}
		for _, p := range f.GetMetric() {
			h.DataPoints = append(h.DataPoints, c.histogramPoint(p))
		}
		m.Histogram = h
	case dto.MetricType_SUMMARY:
		s := &summary{}
		for _, p := range f.GetMetric() {
			s.DataPoints = append(s.DataPoints, c.summaryPoint(p))
		}
		m.Summary = s
	default:
		return metric{}, false
	}
	return m, true
}

// times stamps a cumulative point: its start is the series' created time
// when the client library knows it, else the exporter's start.
func (c converter) times(p *dto.Metric, created *timestamppb.Timestamp) pointTimes {
	t := c.gaugeTimes(p)
	t.StartTimeUnixNano = c.started
	if created != nil && created.IsValid() {
		t.StartTimeUnixNano = unixNano(created.AsTime())
	}
	return t
}

func (c converter) gaugeTimes(p *dto.Metric) pointTimes {
	t := pointTimes{Attributes: attributes(p.GetLabel()), TimeUnixNano: c.now}
	if p.TimestampMs != nil {
		t.TimeUnixNano = unixNano(time.UnixMilli(p.GetTimestampMs()))
	}
	return t
}

func attributes(labels []*dto.LabelPair) []keyValue {
	if len(labels) == 0 {
		return nil
	}
	out := make([]keyValue, len(labels))
	for i, l := range labels {
		out[i] = keyValue{Key: l.GetName(), Value: anyValue{StringValue: l.GetValue()}}
	}
	return out
}

// histogramPoint turns Prometheus's cumulative buckets (upper bound,
// count of observations ≤ bound) into OTLP's bounds and per-bucket counts,
// the last bucket being (last bound, +Inf).
func (c converter) histogramPoint(p *dto.Metric) histogramPoint {
	h := p.GetHistogram()
	out := histogramPoint{
		pointTimes: c.times(p, h.GetCreatedTimestamp()),
		Count:      uint64str(h.GetSampleCount()),
		Sum:        double(h.GetSampleSum()),
	}
	var below uint64
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			continue // the implicit last bucket, from the total
		}
		cum := b.GetCumulativeCount()
		out.ExplicitBounds = append(out.ExplicitBounds, double(b.GetUpperBound()))
		out.BucketCounts = append(out.BucketCounts, uint64str(cum-min(below, cum)))
		below = max(below, cum)
	}
	out.BucketCounts = append(out.BucketCounts, uint64str(h.GetSampleCount()-min(below, h.GetSampleCount())))
	if out.ExplicitBounds == nil {
		out.ExplicitBounds = []double{}
	}
	return out
}

func (c converter) summaryPoint(p *dto.Metric) summaryPoint {
	s := p.GetSummary()
	out := summaryPoint{
		pointTimes: c.times(p, s.GetCreatedTimestamp()),
		Count:      uint64str(s.GetSampleCount()),
		Sum:        double(s.GetSampleSum()),
	}
	for _, q := range s.GetQuantile() {
		out.QuantileValues = append(out.QuantileValues, quantileValue{double(q.GetQuantile()), double(q.GetValue())})
	}
	return out
}
