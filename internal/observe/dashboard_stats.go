package observe

import (
	"time"
)

// DashboardStats is what the dashboard page shows, as served by its JSON
// API. Every counter is read from the metrics registry in one gather, so it
// equals what /metrics reports at the same moment.
type DashboardStats struct {
	Version       string    `json:"version"`
	Now           time.Time `json:"now"`
	UptimeSeconds float64   `json:"uptime_seconds"`

	Requests  float64            `json:"requests"`
	ByOutcome map[string]float64 `json:"requests_by_outcome"`
	InFlight  float64            `json:"in_flight"`
	Rejected  float64            `json:"rejected"`
	// HitRatio is (hit + revalidated) / (hit + revalidated + partial + miss):
	// the share of cacheable reads answered without fetching object bytes.
	// BYPASS and errors are not cache lookups and are left out.
	HitRatio float64 `json:"hit_ratio"`
	// ByteHitRatio is the share of all response bytes that came from the cache.
	ByteHitRatio float64 `json:"byte_hit_ratio"`

	BytesSent     float64            `json:"bytes_sent"`
	BytesBySource map[string]float64 `json:"bytes_by_source"`
	// BytesSaved is what S3 did not have to send: bytes served from cache.
	BytesSaved float64 `json:"bytes_saved"`

	OriginRequests float64 `json:"origin_requests"`
	OriginBytesIn  float64 `json:"origin_bytes_in"`
	OriginBytesOut float64 `json:"origin_bytes_out"`
	FetchesSaved   float64 `json:"fetches_saved"`
	Evictions      float64 `json:"evictions"`
	Revalidations  float64 `json:"revalidations"`
	NotModified    float64 `json:"not_modified"`

	Cache CacheInfo `json:"cache"`

	Throughput   []ThroughputSample `json:"throughput"`
	TopBuckets   []TrafficRow       `json:"top_buckets"`
	TopPrefixes  []TrafficRow       `json:"top_prefixes"`
	RecentErrors []LogEntry         `json:"recent_errors"`
}

// CacheInfo describes the cache directory; zero sizes mean not known.
type CacheInfo struct {
	Dir           string  `json:"dir"`
	Writable      bool    `json:"writable"`
	Error         string  `json:"error,omitempty"`
	SizeBytes     float64 `json:"size_bytes"`
	CapacityBytes float64 `json:"capacity_bytes"`
	// Instances sharing the directory, this one included; 0 when not known.
	Instances float64 `json:"instances"`
	DiskFree  uint64  `json:"disk_free_bytes"`
	DiskSize  uint64  `json:"disk_size_bytes"`
}

// ThroughputSample is the traffic of one sampling interval.
type ThroughputSample struct {
	Time              time.Time `json:"time"`
	BytesPerSecond    float64   `json:"bytes_per_second"`
	CachedPerSecond   float64   `json:"cached_bytes_per_second"`
	RequestsPerSecond float64   `json:"requests_per_second"`
}

// totals are the cumulative counters the throughput series is made from.
type totals struct {
	at                   time.Time
	bytes, cached, count float64
}

func statsFrom(g gathered) DashboardStats {
	s := DashboardStats{
		Requests:       g.sum("s3cache_requests_total"),
		ByOutcome:      map[string]float64{},
		InFlight:       g.sum("s3cache_requests_in_flight"),
		Rejected:       g.sum("s3cache_requests_rejected_total"),
		BytesBySource:  g.byLabel("s3cache_response_bytes_total", "source"),
		OriginRequests: g.sum("s3cache_origin_requests_total"),
		OriginBytesIn:  g.sum("s3cache_origin_response_bytes_total"),
		OriginBytesOut: g.sum("s3cache_origin_request_bytes_total"),
		FetchesSaved:   g.sum("s3cache_fill_fetches_saved_total"),
		Evictions:      g.sum("s3cache_evictions_total"),
		Revalidations:  g.sum("s3cache_revalidations_total"),
		NotModified:    g.sum("s3cache_revalidations_total", "result", "not_modified"),
	}
	for _, o := range Outcomes {
		s.ByOutcome[o] = g.sum("s3cache_requests_total", "outcome", o)
	}
	for _, v := range s.BytesBySource {
		s.BytesSent += v
	}
	for _, src := range cacheSources {
		s.BytesSaved += s.BytesBySource[src]
	}
	answered := s.ByOutcome[OutcomeHit] + s.ByOutcome[OutcomeRevalidated]
	if lookups := answered + s.ByOutcome[OutcomePartial] + s.ByOutcome[OutcomeMiss]; lookups > 0 {
		s.HitRatio = answered / lookups
	}
	if s.BytesSent > 0 {
		s.ByteHitRatio = s.BytesSaved / s.BytesSent
	}
	s.Cache.SizeBytes = g.sum("s3cache_cache_size_bytes", "scope", string(ScopeShared))
	s.Cache.CapacityBytes = g.sum("s3cache_cache_capacity_bytes", "scope", string(ScopeShared))
	s.Cache.Instances = g.sum("s3cache_instances")
	return s
}

func totalsFrom(g gathered, at time.Time) totals {
	t := totals{at: at, count: g.sum("s3cache_requests_total")}
	for src, v := range g.byLabel("s3cache_response_bytes_total", "source") {
		t.bytes += v
		if isCacheSource(src) {
			t.cached += v
		}
	}
	return t
}

// throughput turns consecutive totals into per-second rates.
func throughput(samples []totals) []ThroughputSample {
	out := make([]ThroughputSample, 0, len(samples))
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		dt := b.at.Sub(a.at).Seconds()
		if dt <= 0 {
			continue
		}
		out = append(out, ThroughputSample{Time: b.at, BytesPerSecond: (b.bytes - a.bytes) / dt,
			CachedPerSecond: (b.cached - a.cached) / dt, RequestsPerSecond: (b.count - a.count) / dt})
	}
	return out
}
