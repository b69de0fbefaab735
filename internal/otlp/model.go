package otlp

import (
	"encoding/json"
	"math"
	"strconv"
)

// The OTLP/JSON shapes of ExportMetricsServiceRequest (protobuf JSON
// mapping: lowerCamelCase names, 64-bit integers as decimal strings, enums
// as numbers, non-finite doubles as "NaN", "Infinity", "-Infinity").

type exportRequest struct {
	ResourceMetrics []resourceMetrics `json:"resourceMetrics"`
}

type resourceMetrics struct {
	Resource     resource       `json:"resource"`
	ScopeMetrics []scopeMetrics `json:"scopeMetrics"`
}

type resource struct {
	Attributes []keyValue `json:"attributes"`
}

type scopeMetrics struct {
	Scope   scope    `json:"scope"`
	Metrics []metric `json:"metrics"`
}

type scope struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type metric struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Unit        string     `json:"unit,omitempty"`
	Gauge       *gauge     `json:"gauge,omitempty"`
	Sum         *sum       `json:"sum,omitempty"`
	Histogram   *histogram `json:"histogram,omitempty"`
	Summary     *summary   `json:"summary,omitempty"`
}

// temporalityCumulative is AGGREGATION_TEMPORALITY_CUMULATIVE: Prometheus
// counters and histograms count from the process start.
const temporalityCumulative = 2

type gauge struct {
	DataPoints []numberPoint `json:"dataPoints"`
}

type sum struct {
	DataPoints             []numberPoint `json:"dataPoints"`
	AggregationTemporality int           `json:"aggregationTemporality"`
	IsMonotonic            bool          `json:"isMonotonic"`
}

type histogram struct {
	DataPoints             []histogramPoint `json:"dataPoints"`
	AggregationTemporality int              `json:"aggregationTemporality"`
}

type summary struct {
	DataPoints []summaryPoint `json:"dataPoints"`
}

// pointTimes are the fields every data point has.
type pointTimes struct {
	Attributes        []keyValue `json:"attributes,omitempty"`
	StartTimeUnixNano uint64str  `json:"startTimeUnixNano,omitempty"`
	TimeUnixNano      uint64str  `json:"timeUnixNano"`
}

type numberPoint struct {
	pointTimes
	AsDouble double `json:"asDouble"`
}

type histogramPoint struct {
	pointTimes
	Count          uint64str   `json:"count"`
	Sum            double      `json:"sum"`
	BucketCounts   []uint64str `json:"bucketCounts"`
	ExplicitBounds []double    `json:"explicitBounds"`
}

type summaryPoint struct {
	pointTimes
	Count          uint64str       `json:"count"`
	Sum            double          `json:"sum"`
	QuantileValues []quantileValue `json:"quantileValues,omitempty"`
}

type quantileValue struct {
	Quantile double `json:"quantile"`
	Value    double `json:"value"`
}

type keyValue struct {
	Key   string   `json:"key"`
	Value anyValue `json:"value"`
}

type anyValue struct {
	StringValue string `json:"stringValue"`
}

// uint64str is a 64-bit integer, written as a JSON string.
type uint64str uint64

func (u uint64str) MarshalJSON() ([]byte, error) {
	return json.Marshal(strconv.FormatUint(uint64(u), 10))
}

// double is a float64 that may be NaN or infinite.
type double float64

func (d double) MarshalJSON() ([]byte, error) {
	f := float64(d)
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`), nil
	case math.IsInf(f, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}
