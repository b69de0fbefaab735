package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

func sampleReport() *report {
	p := quickPlan()
	a, _ := settingByName("a")
	p.Settings = []setting{a}
	res := settingResult{Setting: a,
		Single: []series{
			{Size: 4 * kib, Contender: direct, MiBps: []float64{10, 12}, OpsPerSec: []float64{1, 2}},
			{Size: 4 * kib, Contender: s3cacheMiss, MiBps: []float64{9, 9.5}, OpsPerSec: []float64{1, 2}},
			{Size: 4 * kib, Contender: s3cacheRAM, NA: "no RAM tier"},
		},
		Herd: []herdStats{{Contender: direct, UniqueBytes: 100, Rounds: []herdRound{{P95ms: 10, MiBps: 5, OriginBytes: 800}}},
			{Contender: s3cacheCold, UniqueBytes: 100, Rounds: []herdRound{{P95ms: 5, MiBps: 5, OriginBytes: 100}}}},
		RSS: &rssResult{Streams: 100, Size: gib, ColdPeakRSS: 300 * mib}}
	rep := &report{Started: time.Unix(0, 0), Plan: p, Settings: []settingResult{res}}
	rep.Ratios = ratioTable(rep.Settings, p)
	return rep
}

func TestRatiosAndTargets(t *testing.T) {
	rep := sampleReport()
	find := func(what string) ratioRow {
		for _, r := range rep.Ratios {
			if r.What == what {
				return r
			}
		}
		t.Fatalf("no ratio %q", what)
		return ratioRow{}
	}
	if r := find("s3cache miss / direct"); math.Abs(r.Value-9.25/11) > 1e-9 || r.Met != "no" {
		t.Errorf("miss/direct = %+v", r)
	}
	if r := find("s3cache disk hit / nginx disk hit"); !math.IsNaN(r.Value) || r.Met != "n/a" {
		t.Errorf("a ratio without data must be n/a, got %+v", r)
	}
	if r := find("s3cache cold p95 / direct p95"); r.Value != 0.5 || r.Met != "yes" {
		t.Errorf("cold p95 = %+v", r)
	}
	if r := find("s3cache cold origin bytes / unique bytes"); r.Value != 1 || r.Met != "yes" {
		t.Errorf("origin bytes = %+v", r)
	}
	if r := find("s3cache peak RSS MiB, 100 streams (cold, then warm)"); r.Value != 300 || r.Met != "no" {
		t.Errorf("RSS = %+v", r)
	}
}

func TestOutputsAreWellFormed(t *testing.T) {
	rep := sampleReport()
	if _, err := json.Marshal(rep); err != nil {
		t.Fatalf("JSON: %v", err)
	}
	d := xml.NewDecoder(strings.NewReader(svgChart(rep)))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
	md := markdown(rep, "chart.svg")
	for _, want := range []string{"| a | single GET | 4KiB | s3cache miss / direct | 0.84 | ≥ 0.90 | no |", "![ratios](chart.svg)", "n/a"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}
