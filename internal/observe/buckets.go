package observe

import (
	"sort"
	"strings"
	"sync"
)

// otherLabel collects the traffic of names past a cap.
const otherLabel = "(other)"

// TrafficRow is one bucket's or prefix's traffic.
type TrafficRow struct {
	Name        string  `json:"name"`
	Requests    int64   `json:"requests"`
	Hits        int64   `json:"hits"`
	BytesSent   int64   `json:"bytes_sent"`
	BytesCached int64   `json:"bytes_from_cache"`
	HitRatio    float64 `json:"hit_ratio"`
}

// BucketStats is a Sink that counts traffic per bucket and per top-level
// prefix (bucket/first-path-segment/) for the dashboard. It remembers at
// most max names of each kind; the rest add up under "(other)".
type BucketStats struct {
	mu       sync.Mutex
	max      int
	buckets  map[string]*TrafficRow
	prefixes map[string]*TrafficRow
}

// NewBucketStats tracks up to max buckets and max prefixes.
func NewBucketStats(max int) *BucketStats {
	return &BucketStats{max: max, buckets: map[string]*TrafficRow{}, prefixes: map[string]*TrafficRow{}}
}

// Started implements Sink.
func (b *BucketStats) Started(*Record) {}

// Finished implements Sink.
func (b *BucketStats) Finished(rec *Record) {
	if rec.S3.Bucket == "" {
		return
	}
	hit := rec.Outcome == OutcomeHit || rec.Outcome == OutcomeRevalidated
	var cached int64
	if isCacheSource(rec.Source) {
		cached = rec.BytesSent
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(b.buckets, rec.S3.Bucket, hit, rec.BytesSent, cached)
	if rec.S3.Key != "" {
		b.add(b.prefixes, rec.S3.Bucket+"/"+topPrefix(rec.S3.Key), hit, rec.BytesSent, cached)
	}
}

func (b *BucketStats) add(rows map[string]*TrafficRow, name string, hit bool, sent, cached int64) {
	row, ok := rows[name]
	if !ok {
		if len(rows) >= b.max {
			name = otherLabel
		}
		if row, ok = rows[name]; !ok {
			row = &TrafficRow{Name: name}
			rows[name] = row
		}
	}
	row.Requests++
	if hit {
		row.Hits++
	}
	row.BytesSent += sent
	row.BytesCached += cached
}

// topPrefix is the key's first path segment with its slash, or the whole
// key when it has none.
func topPrefix(key string) string {
	if i := strings.IndexByte(key, '/'); i >= 0 {
		return key[:i+1]
	}
	return key
}

// Top returns the n busiest buckets and prefixes by bytes sent.
func (b *BucketStats) Top(n int) (buckets, prefixes []TrafficRow) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return topRows(b.buckets, n), topRows(b.prefixes, n)
}

func topRows(rows map[string]*TrafficRow, n int) []TrafficRow {
	out := make([]TrafficRow, 0, len(rows))
	for _, r := range rows {
		row := *r
		if row.Requests > 0 {
			row.HitRatio = float64(row.Hits) / float64(row.Requests)
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].BytesSent != out[j].BytesSent {
			return out[i].BytesSent > out[j].BytesSent
		}
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return out[i].Name < out[j].Name
	})
	return out[:min(n, len(out))]
}

func isCacheSource(source string) bool {
	for _, s := range cacheSources {
		if s == source {
			return true
		}
	}
	return false
}
