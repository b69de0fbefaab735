package main

import (
	"fmt"
	"math"
	"strings"
)

// markdown renders the report: ratio table first (what we track), then the
// medians behind it, then resources and notes. chart is the SVG's file name.
func markdown(rep *report, chart string) string {
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "# s3cache benchmark — %s (%s mode)\n\n", rep.Started.UTC().Format("2006-01-02 15:04 UTC"), rep.Plan.Mode)
	fmt.Fprintf(&b, "Machine: %s, %d cores, %d GiB RAM, Linux %s, %s. s3cache %s; %s; origin %s. Took %.0f s.\n\n",
		m.CPU, m.Cores, m.MemoryGiB, m.Kernel, m.Go, m.Commit, m.Nginx, m.Origin, rep.Seconds)
	fmt.Fprintf(&b, "Medians of %d round(s) (%d for the 32-client and herd scenarios), contenders interleaved within each round. "+
		"Absolute figures on a shared 2-core box are noise; the ratios are what we track.\n\n", rep.Plan.Rounds, rep.Plan.ManyRounds)
	for _, s := range rep.Settings {
		fmt.Fprintf(&b, "- setting **%s**: %s — %s\n", s.Setting.Name, s.Setting.About, s.Setting.Shape)
	}
	fmt.Fprintf(&b, "\n## Ratios\n\n![ratios](%s)\n\n", chart)
	b.WriteString(ratioMarkdown(rep.Ratios))
	for _, s := range rep.Settings {
		fmt.Fprintf(&b, "\n## Setting %s: %s\n", s.Setting.Name, s.Setting.Shape)
		seriesTable(&b, "Single-stream GET, MiB/s", s.Single, []string{direct, s3cacheMiss, s3cacheDisk, s3cacheWarm, s3cacheRAM, nginxMiss, nginxDisk, nginxWarm})
		seriesTable(&b, fmt.Sprintf("%d clients GET, aggregate MiB/s", rep.Plan.ManyClients), s.Many, []string{direct, s3cacheHit, nginxHit})
		herdTable(&b, rep.Plan, s.Herd)
		seriesTable(&b, "Single-stream PUT, MiB/s", s.Put, []string{direct, s3cachePut})
		resourceTable(&b, s.Resources)
		if r := s.RSS; r != nil {
			fmt.Fprintf(&b, "\nRSS stress: %d concurrent GETs of one %s object through a fresh s3cache. Peak RSS (VmHWM) %s at start, %s after the cold (coalesced) pass, %s after the warm pass; "+
				"aggregate %.0f MiB/s cold, %.0f MiB/s warm; origin sent %s for the cold pass; %.2f CPU s/GiB.\n",
				r.Streams, sizeText(r.Size), mibText(r.StartRSS), mibText(r.ColdPeakRSS), mibText(r.WarmPeakRSS), r.ColdMiBps, r.WarmMiBps, mibText(r.ColdOrigin), r.CPUSecPerGiB)
		}
	}
	if len(rep.Notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range rep.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	return b.String()
}

// ratioMarkdown is the ratio table alone (also put into bench/README.md).
func ratioMarkdown(rows []ratioRow) string {
	var b strings.Builder
	b.WriteString("| setting | scenario | size | ratio | value | target | met |\n|---|---|---|---|---:|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Setting, r.Scenario, r.Size, r.What, num(r.Value), r.Target, r.Met)
	}
	return b.String()
}

func seriesTable(b *strings.Builder, title string, ss []series, contenders []string) {
	if len(ss) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### %s\n\n| size |", title)
	for _, c := range contenders {
		fmt.Fprintf(b, " %s |", c)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(contenders)) + "\n")
	var sizes []int64
	for _, s := range ss {
		if len(sizes) == 0 || sizes[len(sizes)-1] != s.Size {
			sizes = append(sizes, s.Size)
		}
	}
	for _, size := range sizes {
		fmt.Fprintf(b, "| %s |", sizeText(size))
		for _, c := range contenders {
			cell := "–"
			for _, s := range ss {
				if s.Size == size && s.Contender == c {
					if s.NA != "" {
						cell = "n/a"
					} else {
						cell = fmt.Sprintf("%s (%s op/s)", num(s.medianMiBps()), num(median(s.OpsPerSec)))
					}
				}
			}
			fmt.Fprintf(b, " %s |", cell)
		}
		b.WriteString("\n")
	}
}

func herdTable(b *strings.Builder, p plan, hs []herdStats) {
	if len(hs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Herd: %d clients × %d objects (%s … %s), each client all objects in its own order\n\n", p.HerdClients, len(p.HerdSizes), sizeText(p.HerdSizes[0]), sizeText(largest(p.HerdSizes)))
	b.WriteString("| contender | p50 ms | p95 ms | p99 ms | aggregate MiB/s | served | origin sent | unique |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, h := range hs {
		f := func(g func(herdRound) float64) string { return num(h.med(g)) }
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", h.Contender,
			f(func(r herdRound) float64 { return r.P50ms }), f(func(r herdRound) float64 { return r.P95ms }),
			f(func(r herdRound) float64 { return r.P99ms }), f(func(r herdRound) float64 { return r.MiBps }),
			mibText(int64(h.med(func(r herdRound) float64 { return float64(r.ServedBytes) }))),
			mibText(int64(h.med(func(r herdRound) float64 { return float64(r.OriginBytes) }))), mibText(h.UniqueBytes))
	}
}

func resourceTable(b *strings.Builder, rs []resources) {
	if len(rs) == 0 {
		return
	}
	b.WriteString("\n### Server CPU and memory\n\n| server | work | served (or received) | CPU s | CPU s/GiB | peak RSS |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range rs {
		if r.PeakRSSBytes > 0 {
			fmt.Fprintf(b, "| %s | %s | | | | %s |\n", r.Server, r.Work, mibText(r.PeakRSSBytes))
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %s | %.2f | %.2f | |\n", r.Server, r.Work, mibText(r.ServedBytes), r.CPUSeconds, r.CPUSecPerGiB)
	}
}

// num prints a figure with three significant digits, "n/a" when unknown.
func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func mibText(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/mib) }
