package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// cmdPurge runs `s3cache purge bucket[/prefix] --cache-dir DIR`. It
// invalidates each matching object exactly as a write through the proxy
// does: a tombstone newer than any fill in flight, then the bytes are
// removed. Running instances stop serving the object once their RAM tier
// re-checks the directory (at most a second later).
func cmdPurge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var dirFlags cacheDirFlags
	fs := newFlagSet("s3cache purge", stderr, "s3cache purge bucket[/prefix] [--cache-dir DIR] [--dry-run]")
	dirFlags.register(fs)
	dryRun := fs.Bool("dry-run", false, "only list what would be purged")
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return exitCodeForFlags(err)
	}
	if len(positional) != 1 {
		fs.Usage()
		return 2
	}
	filter := parseObjectFilter(positional[0], dirFlags.endpoint)
	if filter.bucket == "" {
		fmt.Fprintln(stderr, "s3cache purge: name a bucket")
		return 2
	}
	st, err := dirFlags.open()
	if err != nil {
		fmt.Fprintln(stderr, "s3cache purge:", err)
		return 1
	}
	entries, err := matching(ctx, st, filter)
	if err != nil {
		fmt.Fprintln(stderr, "s3cache purge:", err)
		return 1
	}
	var purged, failed int
	var bytes int64
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			fmt.Fprintln(stderr, "s3cache purge: interrupted")
			break
		}
		id := e.Meta.ID()
		if *dryRun {
			fmt.Fprintln(stdout, "would purge", id)
			continue
		}
		if err := st.Invalidate(id, time.Now()); err != nil {
			fmt.Fprintln(stderr, "s3cache purge:", err)
			failed++
			continue
		}
		purged++
		for _, s := range e.Segments {
			bytes += s.End - s.Start
		}
		fmt.Fprintln(stdout, "purged", id)
	}
	if *dryRun {
		fmt.Fprintf(stdout, "%d objects would be purged\n", len(entries))
		return 0
	}
	fmt.Fprintf(stdout, "%d objects purged, %s freed (running instances stop serving them within about a second)\n", purged, humanBytes(bytes))
	if failed > 0 {
		fmt.Fprintf(stderr, "s3cache purge: %d objects could not be purged\n", failed)
		return 1
	}
	return 0
}
