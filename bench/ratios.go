package main

import (
	"fmt"
	"math"
)

// target is a goal for a ratio: Value op Limit.
type target struct {
	op    string // ">=" or "<="
	limit float64
}

func (t *target) text() string {
	if t == nil {
		return ""
	}
	sym := map[string]string{">=": "≥", "<=": "≤"}[t.op]
	return fmt.Sprintf("%s %.2f", sym, t.limit)
}

func (t *target) met(v float64) string {
	switch {
	case t == nil:
		return ""
	case math.IsNaN(v):
		return "n/a"
	case t.op == ">=" && v >= t.limit, t.op == "<=" && v <= t.limit:
		return "yes"
	}
	return "no"
}

func atLeast(x float64) *target { return &target{">=", x} }
func atMost(x float64) *target  { return &target{"<=", x} }

// ratioTable derives the tracked ratios from a run's medians.
func ratioTable(settings []settingResult, p plan) []ratioRow {
	var rows []ratioRow
	add := func(set, scenario, size, what string, v float64, t *target) {
		rows = append(rows, ratioRow{Setting: set, Scenario: scenario, Size: size, What: what, Value: v, Target: t.text(), Met: t.met(v)})
	}
	for _, s := range settings {
		set := s.Setting.Name
		for _, size := range p.SingleSizes {
			m := mediansBySize(s.Single, size)
			if len(m) == 0 {
				continue
			}
			z := sizeText(size)
			add(set, "single GET", z, "s3cache miss / direct", ratio(m.of(s3cacheMiss), m.of(direct)), atLeast(0.90))
			add(set, "single GET", z, "s3cache miss / nginx miss", ratio(m.of(s3cacheMiss), m.of(nginxMiss)), nil)
			add(set, "single GET", z, "s3cache disk hit / nginx disk hit", ratio(m.of(s3cacheDisk), m.of(nginxDisk)), atLeast(1.0))
			add(set, "single GET", z, "s3cache RAM hit / nginx hit", math.NaN(), atLeast(1.0))
			add(set, "single GET", z, "s3cache warm-page-cache hit / nginx warm-page-cache hit", ratio(m.of(s3cacheWarm), m.of(nginxWarm)), atLeast(1.0))
			add(set, "single GET", z, "s3cache warm-page-cache hit / direct", ratio(m.of(s3cacheWarm), m.of(direct)), nil)
		}
		for _, size := range p.ManySizes {
			m := mediansBySize(s.Many, size)
			if len(m) == 0 {
				continue
			}
			scenario := fmt.Sprintf("%d clients", p.ManyClients)
			add(set, scenario, sizeText(size), "s3cache hit / direct", ratio(m.of(s3cacheHit), m.of(direct)), nil)
			add(set, scenario, sizeText(size), "s3cache hit / nginx hit", ratio(m.of(s3cacheHit), m.of(nginxHit)), nil)
		}
		if h := herdByName(s.Herd); len(h) > 0 {
			herdName := fmt.Sprintf("herd %d×%d", p.HerdClients, len(p.HerdSizes))
			p95 := func(name string) float64 { return medOf(h, name, func(r herdRound) float64 { return r.P95ms }) }
			tput := func(name string) float64 { return medOf(h, name, func(r herdRound) float64 { return r.MiBps }) }
			orig := func(name string) float64 {
				return medOf(h, name, func(r herdRound) float64 { return float64(r.OriginBytes) })
			}
			unique := float64(h[direct].UniqueBytes)
			add(set, herdName, "mixed", "s3cache cold p95 / direct p95", ratio(p95(s3cacheCold), p95(direct)), atMost(1.0))
			add(set, herdName, "mixed", "s3cache warm p95 / direct p95", ratio(p95(s3cacheWarmed), p95(direct)), atMost(0.3))
			add(set, herdName, "mixed", "s3cache cold p95 / nginx cold p95", ratio(p95(s3cacheCold), p95(nginxCold)), nil)
			add(set, herdName, "mixed", "s3cache warm p95 / nginx warm p95", ratio(p95(s3cacheWarmed), p95(nginxWarmed)), nil)
			add(set, herdName, "mixed", "s3cache cold throughput / direct", ratio(tput(s3cacheCold), tput(direct)), nil)
			add(set, herdName, "mixed", "s3cache warm throughput / nginx warm", ratio(tput(s3cacheWarmed), tput(nginxWarmed)), nil)
			// Headers make the origin bytes a little more than the bodies: allow 1%.
			add(set, herdName, "mixed", "s3cache cold origin bytes / unique bytes", ratio(orig(s3cacheCold), unique), atMost(1.01))
			add(set, herdName, "mixed", "nginx cold origin bytes / unique bytes", ratio(orig(nginxCold), unique), nil)
		}
		for _, size := range p.PutSizes {
			m := mediansBySize(s.Put, size)
			if len(m) == 0 {
				continue
			}
			add(set, "single PUT", sizeText(size), "s3cache / direct", ratio(m.of(s3cachePut), m.of(direct)), nil)
		}
		if r := s.RSS; r != nil {
			var t *target
			if r.Streams >= 100 && r.Size >= gib {
				t = atMost(256)
			}
			what := fmt.Sprintf("s3cache peak RSS MiB, %d streams (cold, then warm)", r.Streams)
			add(set, "RSS stress", sizeText(r.Size), what, float64(max(r.ColdPeakRSS, r.WarmPeakRSS))/mib, t)
		}
	}
	return rows
}

// medians maps contender to median MiB/s.
type medians map[string]float64

// of is the contender's median, NaN if it has none.
func (m medians) of(contender string) float64 {
	if v, ok := m[contender]; ok {
		return v
	}
	return math.NaN()
}

// mediansBySize gives each contender's median MiB/s for one size.
func mediansBySize(ss []series, size int64) medians {
	m := medians{}
	for _, s := range ss {
		if s.Size == size && s.NA == "" {
			m[s.Contender] = s.medianMiBps()
		}
	}
	return m
}

func herdByName(hs []herdStats) map[string]herdStats {
	m := map[string]herdStats{}
	for _, h := range hs {
		m[h.Contender] = h
	}
	return m
}

func medOf(h map[string]herdStats, name string, f func(herdRound) float64) float64 {
	s, ok := h[name]
	if !ok || len(s.Rounds) == 0 {
		return math.NaN()
	}
	return s.med(f)
}
