package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// lsRow is one cached object version as `s3cache ls --json` prints it.
type lsRow struct {
	Endpoint    string     `json:"endpoint"`
	Bucket      string     `json:"bucket"`
	Key         string     `json:"key"`
	VersionID   string     `json:"version_id,omitempty"`
	ETag        string     `json:"etag"`
	Size        int64      `json:"size"`
	CachedBytes int64      `json:"cached_bytes"`
	Extents     [][2]int64 `json:"extents"` // [start, end) byte ranges held
	StoredAt    time.Time  `json:"stored_at"`
	ValidatedAt time.Time  `json:"validated_at,omitzero"`
}

// cmdLs runs `s3cache ls [bucket[/prefix]] --cache-dir DIR [--json]`.
func cmdLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var dirFlags cacheDirFlags
	fs := newFlagSet("s3cache ls", stderr, "s3cache ls [bucket[/prefix]] [--cache-dir DIR] [--json]")
	dirFlags.register(fs)
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCodeForFlags(err)
	}
	if len(positional) > 1 {
		fs.Usage()
		return 2
	}
	filter := parseObjectFilter(strings.Join(positional, ""), dirFlags.endpoint)
	st, err := dirFlags.open()
	if err != nil {
		fmt.Fprintln(stderr, "s3cache ls:", err)
		return 1
	}
	entries, err := matching(ctx, st, filter)
	if err != nil {
		fmt.Fprintln(stderr, "s3cache ls:", err)
		return 1
	}
	rows := make([]lsRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, rowOf(e))
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Bucket != b.Bucket {
			return a.Bucket < b.Bucket
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.VersionID < b.VersionID
	})
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			enc.Encode(r)
		}
		return 0
	}
	printLsTable(stdout, rows, time.Now())
	return 0
}

func rowOf(e *store.Entry) lsRow {
	m := e.Meta
	r := lsRow{Endpoint: m.Endpoint, Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID, ETag: m.ETag,
		Size: m.Size, StoredAt: m.StoredAt, ValidatedAt: m.ValidatedAt, Extents: [][2]int64{}}
	for _, s := range e.Segments {
		r.Extents = append(r.Extents, [2]int64{s.Start, s.End})
	}
	r.CachedBytes = coveredBytes(r.Extents)
	return r
}

// coveredBytes counts the bytes of sorted, possibly overlapping extents.
func coveredBytes(extents [][2]int64) int64 {
	var total, reach int64
	for _, x := range extents {
		start := max(x[0], reach)
		if x[1] > start {
			total += x[1] - start
		}
		reach = max(reach, x[1])
	}
	return total
}

func printLsTable(w io.Writer, rows []lsRow, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SIZE\tCACHED\tAGE\tVALIDATED\t EXTENTS\t OBJECT\t")
	var cached int64
	for _, r := range rows {
		cached += r.CachedBytes
		name := r.Bucket + "/" + r.Key
		if r.VersionID != "" {
			name += "?versionId=" + r.VersionID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t %s\t %s\t\n", humanBytes(r.Size), cachedText(r), ago(now, r.StoredAt),
			ago(now, r.ValidatedAt), extentsText(r), name)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d objects, %s cached\n", len(rows), humanBytes(cached))
}

func cachedText(r lsRow) string {
	if r.Size == 0 || r.CachedBytes == r.Size {
		return "100%"
	}
	return strconv.FormatFloat(100*float64(r.CachedBytes)/float64(r.Size), 'f', 1, 64) + "%"
}

func extentsText(r lsRow) string {
	if len(r.Extents) == 1 && r.Extents[0] == [2]int64{0, r.Size} {
		return "whole"
	}
	parts := make([]string, 0, len(r.Extents))
	for _, x := range r.Extents {
		parts = append(parts, strconv.FormatInt(x[0], 10)+"-"+strconv.FormatInt(x[1], 10))
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("…(%d more)", len(parts)-4))
	}
	return strings.Join(parts, ",")
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + "KMGTP"[exp:exp+1] + "iB"
}
