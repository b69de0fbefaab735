package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// writeOutputs writes <date>[-quick].json, .md and .svg into dir, prints the
// markdown, and after a full run into bench/results refreshes the latest-run
// section of bench/README.md.
func writeOutputs(rep *report, root, dir string, log *slog.Logger) error {
	results := filepath.Join(root, "bench", "results")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("results dir: %w", err)
	}
	name := rep.Started.UTC().Format("2006-01-02")
	if rep.Plan.Mode != "full" {
		name += "-" + rep.Plan.Mode
	}
	base := filepath.Join(dir, name)
	if err := writeJSON(base+".json", rep); err != nil {
		return err
	}
	if err := os.WriteFile(base+".svg", []byte(svgChart(rep)), 0o644); err != nil {
		return fmt.Errorf("write chart: %w", err)
	}
	md := markdown(rep, name+".svg")
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	fmt.Println(md)
	log.Info("results written", "json", base+".json", "markdown", base+".md", "chart", base+".svg")
	if rep.Plan.Mode == "full" && filepath.Clean(dir) == results {
		rel, err := filepath.Rel(filepath.Join(root, "bench"), base)
		if err != nil {
			return fmt.Errorf("readme: %w", err)
		}
		return updateReadme(filepath.Join(root, "bench", "README.md"), rep, rel)
	}
	return nil
}

// Markers around the generated part of bench/README.md.
const (
	readmeBegin = "<!-- latest-full-run:begin (written by the harness) -->"
	readmeEnd   = "<!-- latest-full-run:end -->"
)

// updateReadme replaces the text between the markers with the run's
// machine, chart and ratio table. relBase is the results path without
// extension, relative to bench/.
func updateReadme(path string, rep *report, relBase string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("readme: %w", err)
	}
	text := string(b)
	i, j := strings.Index(text, readmeBegin), strings.Index(text, readmeEnd)
	if i < 0 || j < i {
		return fmt.Errorf("readme: markers missing in %s", path)
	}
	m := rep.Machine
	section := fmt.Sprintf("%s\nLatest full run: %s on %s (%d cores, %d GiB RAM, Linux %s), s3cache %s. Details: [%s.md](%s.md), raw figures: [%s.json](%s.json).\n\n![ratios](%s.svg)\n\n%s",
		readmeBegin, rep.Started.UTC().Format("2006-01-02 15:04 UTC"), m.CPU, m.Cores, m.MemoryGiB, m.Kernel, m.Commit,
		relBase, relBase, relBase, relBase, relBase, ratioMarkdown(rep.Ratios))
	text = text[:i] + section + text[j:]
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("readme: %w", err)
	}
	return nil
}
