package cache

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/s3cache/s3cache/internal/fill"
	"github.com/s3cache/s3cache/internal/ram"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// testCache returns a Cache over a fresh store holding one object of the
// given size with the given cached extents.
func testCache(t *testing.T, size int64, extents ...[2]int64) (*Cache, *store.Entry) {
	t.Helper()
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	id := store.ObjectID{Bucket: "b", Key: "k"}
	now := time.Now()
	m := &store.Meta{Bucket: "b", Key: "k", ETag: `"e"`, Size: size, StoredAt: now, ValidatedAt: now}
	if err := st.PutMeta(m, now); err != nil {
		t.Fatal(err)
	}
	for _, x := range extents {
		w, err := st.NewSegmentWriter(id, x[0], now)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(make([]byte, x[1]-x[0]))
		if err := w.Commit(m); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	e, err := st.Lookup(id)
	if err != nil {
		t.Fatal(err)
	}
	return &Cache{store: st, log: slog.New(slog.DiscardHandler), fills: fill.NewRegistry(), now: time.Now}, e
}

// describe renders a plan as "c0-10 m10-20" (cached / missing).
func describe(pieces []piece) string {
	var parts []string
	for _, p := range pieces {
		kind := "c"
		if p.missing() {
			kind = "m"
		}
		parts = append(parts, fmt.Sprintf("%s%d-%d", kind, p.start, p.end))
	}
	return strings.Join(parts, " ")
}

const mib = 1 << 20

func TestPlan(t *testing.T) {
	tests := []struct {
		name       string
		size       int64
		extents    [][2]int64
		start, end int64
		want       string
	}{
		{"nothing cached", 100, nil, 0, 100, "m0-100"},
		{"all cached", 100, [][2]int64{{0, 100}}, 10, 20, "c10-20"},
		{"empty request", 0, nil, 0, 0, ""},
		{"head and tail", 100, [][2]int64{{0, 10}}, 0, 100, "c0-10 m10-100"},
		{"hole in the middle", 10 * mib, [][2]int64{{0, 2 * mib}, {5 * mib, 10 * mib}}, 0, 10 * mib, fmt.Sprintf("c0-%d m%d-%d c%d-%d", 2*mib, 2*mib, 5*mib, 5*mib, 10*mib)},
		{"overlapping segments take the furthest", 100, [][2]int64{{0, 50}, {20, 90}, {40, 60}}, 0, 100, "c0-50 c50-90 m90-100"},
		{"small island joined into one gap", 10 * mib, [][2]int64{{2 * mib, 2*mib + 10}}, 0, 10 * mib, fmt.Sprintf("m0-%d", 10*mib)},
		{"large island kept", 10 * mib, [][2]int64{{2 * mib, 4 * mib}}, 0, 10 * mib, fmt.Sprintf("m0-%d c%d-%d m%d-%d", 2*mib, 2*mib, 4*mib, 4*mib, 10*mib)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, e := testCache(t, tc.size, tc.extents...)
			pieces := c.plan(e, tc.start, tc.end)
			defer releaseAll(pieces)
			if got := describe(pieces); got != tc.want {
				t.Errorf("plan = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanBoundsGapCount(t *testing.T) {
	var extents [][2]int64
	for i := int64(0); i < 20; i++ { // 20 cached islands of 2 MiB, 2 MiB apart
		extents = append(extents, [2]int64{(4*i + 2) * mib, (4*i + 4) * mib})
	}
	c, e := testCache(t, 80*mib, extents...)
	pieces := c.plan(e, 0, 80*mib)
	defer releaseAll(pieces)
	if n := countMissing(pieces); n > maxGaps {
		t.Fatalf("%d gaps, want at most %d: %s", n, maxGaps, describe(pieces))
	}
	var covered int64
	for _, p := range pieces {
		covered += p.end - p.start
	}
	if covered != 80*mib {
		t.Fatalf("plan covers %d bytes, want %d", covered, 80*mib)
	}
}

func TestResolveSpan(t *testing.T) {
	m := &store.Meta{Size: 100, Parts: map[int]store.Extent{2: {Start: 50, End: 100}}}
	tests := []struct {
		rng   string
		part  int
		want  span
		cache bool
	}{
		{"", 0, span{0, 100, true, 0}, true},
		{"bytes=0-", 0, span{0, 100, false, 0}, true},
		{"bytes=-1000", 0, span{0, 100, false, 0}, true},
		{"bytes=90-1000", 0, span{90, 100, false, 0}, true},
		{"bytes=100-", 0, span{}, false},
		{"bytes=0-1,4-5", 0, span{}, false},
		{"", 2, span{50, 100, false, 2}, true},
		{"", 3, span{}, false},
	}
	for _, tc := range tests {
		got, ok := resolveSpan(&s3req.Request{Range: tc.rng, PartNumber: tc.part}, m)
		if ok != tc.cache || (ok && got != tc.want) {
			t.Errorf("range %q part %d: got %+v %v, want %+v %v", tc.rng, tc.part, got, ok, tc.want, tc.cache)
		}
	}
	empty := &store.Meta{Size: 0}
	if _, ok := resolveSpan(&s3req.Request{Range: "bytes=0-"}, empty); ok {
		t.Error("a range of an empty object must go to S3 (416)")
	}
	if sp, ok := resolveSpan(&s3req.Request{}, empty); !ok || sp.end != 0 || !sp.whole {
		t.Errorf("whole empty object: %+v %v", sp, ok)
	}
}

func TestParseContentRange(t *testing.T) {
	for in, want := range map[string]store.Extent{"bytes 0-9/10": {Start: 0, End: 10}, "bytes 5-5/6": {Start: 5, End: 6}} {
		got, total, ok := parseContentRange(in)
		if !ok || got != want || total != want.End {
			t.Errorf("%q: %v %d %v", in, got, total, ok)
		}
	}
	for _, bad := range []string{"bytes */10", "bytes 0-9/*", "bytes 9-0/10", "bytes 0-10/10", "items 0-1/2", ""} {
		if _, _, ok := parseContentRange(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

// noRAM is a Rules that keeps every object out of the RAM tier.
type noRAM struct{}

func (noRAM) Settings(_, _ string, d Settings) Settings {
	d.NoRAMCache = true
	return d
}

// A small cached segment is served from the RAM tier, unless a rule says
// ram_cache: false for its object.
func TestRAMCacheRule(t *testing.T) {
	for _, c := range []struct {
		rules   Rules
		wantRAM bool
	}{{nil, true}, {noRAM{}, false}} {
		cache, e := testCache(t, 4096, [2]int64{0, 4096})
		tier, err := ram.New(cache.store, ram.Config{MaxBytes: 1 << 20, MaxSegment: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		cache.cfg.RAM, cache.cfg.Rules = tier, c.rules
		cache.defaults.Store(&Settings{GetTTL: time.Hour})
		for i := 0; i < 2; i++ { // the second plan finds what the first kept
			pieces := cache.plan(e, 0, 4096)
			inRAM := len(pieces) == 1 && pieces[0].mem != nil
			releaseAll(pieces)
			if i == 1 && inRAM != c.wantRAM {
				t.Errorf("rules %T: segment from RAM = %v, want %v", c.rules, inRAM, c.wantRAM)
			}
		}
	}
}
