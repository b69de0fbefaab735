package main

import "time"

// Contender names, as they appear in the tables.
const (
	direct        = "direct"
	s3cacheMiss   = "s3cache miss"
	s3cacheDisk   = "s3cache hit (disk)"
	s3cacheWarm   = "s3cache hit (warm page cache)"
	s3cacheRAM    = "s3cache hit (RAM)"
	nginxMiss     = "nginx miss"
	nginxDisk     = "nginx hit (disk)"
	nginxWarm     = "nginx hit (warm page cache)"
	s3cacheCold   = "s3cache cold"
	s3cacheWarmed = "s3cache warm"
	nginxCold     = "nginx cold"
	nginxWarmed   = "nginx warm"
	s3cacheHit    = "s3cache hit"
	nginxHit      = "nginx hit"
	s3cachePut    = "s3cache"
)

// setting is one network between the contenders and the origin.
type setting struct {
	Name  string `json:"name"`
	About string `json:"about"`
	Shape shape  `json:"shape"`
}

// settingByName returns setting "a" (raw loopback) or "b" (shaped).
func settingByName(name string) (setting, bool) {
	switch name {
	case "a":
		return setting{Name: "a", About: "raw loopback: measures CPU efficiency"}, true
	case "b":
		return setting{Name: "b", About: "S3 as an on-premises site sees it", Shape: shape{
			FirstByteDelay: 30 * time.Millisecond, PerConnRate: 100 << 20, LinkRate: 400 << 20}}, true
	}
	return setting{}, false
}

// plan is how much of everything a run does.
type plan struct {
	Mode        string    `json:"mode"`
	Settings    []setting `json:"settings"`
	Rounds      int       `json:"rounds"`       // single-stream and PUT
	ManyRounds  int       `json:"many_rounds"`  // 32-client and herd scenarios
	SingleSizes []int64   `json:"single_sizes"` // bytes
	// A single-stream sample is reps sequential GETs, reps =
	// SampleBytes/size clamped to [1, MaxReps].
	SampleBytes int64   `json:"sample_bytes"`
	MaxReps     int     `json:"max_reps"`
	DiskHitReps int     `json:"disk_hit_reps"` // at most this many per disk-hit sample (each needs a page-cache drop)
	ManyClients int     `json:"many_clients"`
	ManySizes   []int64 `json:"many_sizes"`
	ClientBytes int64   `json:"client_bytes"` // per client per sample in the many-client scenario
	HerdClients int     `json:"herd_clients"`
	HerdSizes   []int64 `json:"herd_sizes"` // one object per size
	PutSizes    []int64 `json:"put_sizes"`
	RSSStreams  int     `json:"rss_streams"`
	RSSSize     int64   `json:"rss_size"`
	// DiskBudget is the most disk the run may take before the disk guard
	// stops it.
	DiskBudget int64 `json:"disk_budget"`
}

func quickPlan() plan {
	return plan{
		Mode: "quick", Rounds: 1, ManyRounds: 1,
		SingleSizes: []int64{4 * kib, 1 * mib, 16 * mib}, SampleBytes: 16 * mib, MaxReps: 30, DiskHitReps: 5,
		ManyClients: 32, ManySizes: []int64{4 * kib, 1 * mib}, ClientBytes: 2 * mib,
		HerdClients: 8, HerdSizes: []int64{100 * kib, 512 * kib, 2 * mib, 4 * mib},
		PutSizes:   []int64{1 * mib, 16 * mib},
		RSSStreams: 16, RSSSize: 16 * mib,
		DiskBudget: 4 * gib,
	}
}

func fullPlan() plan {
	return plan{
		Mode: "full", Rounds: 5, ManyRounds: 3,
		SingleSizes: []int64{4 * kib, 1 * mib, 256 * mib, 1 * gib}, SampleBytes: 64 * mib, MaxReps: 200, DiskHitReps: 20,
		ManyClients: 32, ManySizes: []int64{4 * kib, 1 * mib, 256 * mib}, ClientBytes: 64 * mib,
		HerdClients: 32, HerdSizes: []int64{100 * kib, 300 * kib, 1 * mib, 3 * mib, 10 * mib, 30 * mib, 60 * mib, 100 * mib},
		PutSizes:   []int64{1 * mib, 256 * mib},
		RSSStreams: 100, RSSSize: 1 * gib,
		DiskBudget: 20 * gib,
	}
}

// reps is how many sequential requests make one single-stream sample.
func (p plan) reps(size int64) int {
	return clampInt(int(p.SampleBytes/size), 1, p.MaxReps)
}

// clientReps is how many requests each client makes in a many-client sample.
func (p plan) clientReps(size int64) int {
	return clampInt(int(p.ClientBytes/size), 1, 100)
}

func clampInt(v, lo, hi int) int {
	return max(lo, min(v, hi))
}

// largest returns the biggest of sizes (0 if none).
func largest(sizes []int64) int64 {
	var m int64
	for _, s := range sizes {
		m = max(m, s)
	}
	return m
}
