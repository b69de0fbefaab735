package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartWidth  = 1100
	labelWidth  = 520
	plotLeft    = labelWidth + 10
	plotWidth   = chartWidth - plotLeft - 60
	rowHeight   = 16
	chartTop    = 40
	chartBottom = 40
	log2Span    = 5 // the axis runs from 2^-5 to 2^5
)

// svgChart draws every finite ratio as a bar from 1.0 on a log2 axis:
// right of the line is "more than the reference", left "less". Green met
// its target, red missed it, blue has no target; a black tick marks the
// target.
func svgChart(rep *report) string {
	var rows []ratioRow
	for _, r := range rep.Ratios {
		if r.Scenario != "RSS stress" && !math.IsNaN(r.Value) && !math.IsInf(r.Value, 0) && r.Value > 0 {
			rows = append(rows, r)
		}
	}
	height := chartTop + len(rows)*rowHeight + chartBottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">s3cache ratios, %s (%s mode), log scale</text>`+"\n",
		html.EscapeString(rep.Started.UTC().Format("2006-01-02")), html.EscapeString(rep.Plan.Mode))
	x := func(v float64) float64 {
		l := math.Max(-log2Span, math.Min(log2Span, math.Log2(v)))
		return plotLeft + (l+log2Span)/(2*log2Span)*plotWidth
	}
	axisY := chartTop + len(rows)*rowHeight
	for e := -log2Span; e <= log2Span; e++ {
		v := math.Pow(2, float64(e))
		stroke := "#ddd"
		if e == 0 {
			stroke = "#333"
		}
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x(v), chartTop-4, x(v), axisY, stroke)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x(v), axisY+14, axisLabel(e))
	}
	for i, r := range rows {
		y := chartTop + i*rowHeight
		color := "#1565c0"
		switch r.Met {
		case "yes":
			color = "#2e7d32"
		case "no":
			color = "#c62828"
		}
		x0, x1 := x(1), x(r.Value)
		if x1 < x0 {
			x0, x1 = x1, x0
		}
		label := fmt.Sprintf("%s · %s %s · %s", r.Setting, r.Scenario, r.Size, r.What)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelWidth, y+11, html.EscapeString(label))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y+2, math.Max(x1-x0, 1), rowHeight-4, color)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", math.Max(x(1), x(r.Value))+4, y+11, num(r.Value))
		if t := parseTarget(r.Target); t > 0 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="2"/>`+"\n", x(t), y, x(t), y+rowHeight)
		}
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555">green: target met · red: missed · blue: no target · black tick: target · bars start at 1.0</text>`+"\n", axisY+32)
	b.WriteString("</svg>\n")
	return b.String()
}

func axisLabel(e int) string {
	if e >= 0 {
		return fmt.Sprint(int(1) << e)
	}
	return fmt.Sprintf("1/%d", 1<<-e)
}

// parseTarget reads the limit back out of "≥ 0.90" (0 if none).
func parseTarget(s string) float64 {
	var v float64
	for _, prefix := range []string{"≥ ", "≤ "} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			if _, err := fmt.Sscanf(rest, "%g", &v); err == nil {
				return v
			}
		}
	}
	return 0
}
