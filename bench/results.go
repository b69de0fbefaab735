package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"
)

// report is everything one run measured; it is written as JSON as is.
type report struct {
	Started  time.Time       `json:"started"`
	Seconds  float64         `json:"seconds"`
	Machine  machine         `json:"machine"`
	Plan     plan            `json:"plan"`
	Settings []settingResult `json:"settings"`
	Ratios   []ratioRow      `json:"ratios"`
	Notes    []string        `json:"notes"`
}

// settingResult is one setting's measurements.
type settingResult struct {
	Setting   setting     `json:"setting"`
	Single    []series    `json:"single_stream"`
	Many      []series    `json:"many_clients"`
	Herd      []herdStats `json:"herd"`
	Put       []series    `json:"put"`
	Resources []resources `json:"resources"`
	RSS       *rssResult  `json:"rss_stress,omitempty"`
}

// series is one contender on one object size: a throughput sample per round.
type series struct {
	Size      int64          `json:"size"`
	Contender string         `json:"contender"`
	MiBps     []float64      `json:"mib_per_s"` // one per round
	OpsPerSec []float64      `json:"ops_per_s"`
	XCache    map[string]int `json:"x_cache,omitempty"` // what the server said it did, counted
	NA        string         `json:"na,omitempty"`      // why there is no figure
}

// medianMiBps is the series' median throughput (NaN if n/a).
func (s series) medianMiBps() float64 { return median(s.MiBps) }

// herdStats is one contender's herd runs (N clients × M objects at once).
type herdStats struct {
	Contender   string      `json:"contender"`
	Rounds      []herdRound `json:"rounds"`
	UniqueBytes int64       `json:"unique_bytes"`
}

// herdRound is one herd run.
type herdRound struct {
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
	MiBps       float64 `json:"aggregate_mib_per_s"`
	ServedBytes int64   `json:"served_bytes"`
	OriginBytes int64   `json:"origin_bytes"` // everything the origin sent through the link (headers included)
}

// med returns the median over rounds of one field.
func (h herdStats) med(field func(herdRound) float64) float64 {
	xs := make([]float64, len(h.Rounds))
	for i, r := range h.Rounds {
		xs[i] = field(r)
	}
	return median(xs)
}

// resources is what a server process used over a setting, per kind of work.
type resources struct {
	Server       string  `json:"server"`
	Work         string  `json:"work"` // e.g. "s3cache miss"
	ServedBytes  int64   `json:"served_bytes"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUSecPerGiB float64 `json:"cpu_seconds_per_gib"`
	PeakRSSBytes int64   `json:"peak_rss_bytes,omitempty"` // VmHWM at the end of the setting (per server)
}

// rssResult is the memory stress: many concurrent streams of one big object.
type rssResult struct {
	Streams      int     `json:"streams"`
	Size         int64   `json:"size"`
	StartRSS     int64   `json:"start_rss_bytes"`
	ColdPeakRSS  int64   `json:"cold_peak_rss_bytes"` // VmHWM after the coalesced miss
	WarmPeakRSS  int64   `json:"warm_peak_rss_bytes"` // VmHWM after the hits
	ColdMiBps    float64 `json:"cold_aggregate_mib_per_s"`
	WarmMiBps    float64 `json:"warm_aggregate_mib_per_s"`
	ColdOrigin   int64   `json:"cold_origin_bytes"`
	CPUSecPerGiB float64 `json:"cpu_seconds_per_gib"`
}

// ratioRow is one line of the ratio table.
type ratioRow struct {
	Setting  string  `json:"setting"`
	Scenario string  `json:"scenario"`
	Size     string  `json:"size"`
	What     string  `json:"what"` // "s3cache miss / direct"
	Value    float64 `json:"value"`
	Target   string  `json:"target,omitempty"` // "≥ 0.90"
	Met      string  `json:"met,omitempty"`    // "yes", "no", "n/a"
}

// MarshalJSON writes NaN (no figure) as null.
func (r ratioRow) MarshalJSON() ([]byte, error) {
	type plain ratioRow
	v := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(r)}
	if !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) {
		v.Value = &r.Value
	}
	return json.Marshal(v)
}

// writeJSON writes rep to path.
func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}
