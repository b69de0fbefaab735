package evict

import (
	"fmt"
	"time"

	"github.com/s3cache/s3cache/internal/config"
)

// Policy orders segments for eviction.
type Policy string

const (
	// PolicyTinyLFU evicts the lowest access count halved per idle hour
	// first, the oldest access breaking ties.
	PolicyTinyLFU Policy = "tinylfu"
	// PolicyLRU evicts the oldest access first.
	PolicyLRU Policy = "lru"
)

// Config tunes capacity management. Zero values take the defaults.
type Config struct {
	// MaxBytes is max_cache_size for the whole shared directory; 0 means
	// unlimited (sizes are still tracked, nothing is evicted).
	MaxBytes int64
	// TriggerPercent (95) of MaxBytes starts an eviction, which runs down to
	// TargetPercent (80). Above CriticalPercent (100) even segments
	// accessed within MinAge are evicted.
	TriggerPercent  int
	TargetPercent   int
	CriticalPercent int
	Policy          Policy
	// ActiveExpiry deletes objects whose data was last validated more than
	// GetTTL ago; otherwise expired entries stay until revalidated or
	// evicted.
	ActiveExpiry bool
	GetTTL       time.Duration

	// MinAge (60s) protects recently accessed or written segments.
	MinAge time.Duration
	// FlushEvery (5s) is how often size deltas and accesses are written out
	// and merged.
	FlushEvery time.Duration
	// ScanEvery (30s) runs a rolling scan of ShardsPerScan (2) shards.
	ScanEvery     time.Duration
	ShardsPerScan int
	// FoldEvery (30s) folds access journals into the objects' sidecars.
	FoldEvery time.Duration
	// EvictCheckEvery (10s) compares the size with the trigger even when no
	// write woke the evictor.
	EvictCheckEvery time.Duration
	// SweepEvery (10m) removes abandoned temp and lock files.
	SweepEvery time.Duration
	// LeftoverAge (1h) is how old a tombstone, an orphaned segment or an
	// abandoned temp file must be before a scan or sweep removes it.
	LeftoverAge time.Duration
	// MaxPendingTouches (262144) bounds the distinct segments counted in
	// memory between two flushes; touches beyond it are dropped.
	MaxPendingTouches int
}

// ConfigFrom takes the capacity settings of the configuration.
func ConfigFrom(c config.Config) Config {
	return Config{
		MaxBytes:       int64(c.MaxCacheSize),
		TriggerPercent: c.EvictionTriggerPercent,
		TargetPercent:  c.EvictionTargetPercent,
		Policy:         Policy(c.EvictionPolicy),
		ActiveExpiry:   c.ActiveExpiry,
		GetTTL:         c.GetTTL.D(),
	}
}

const (
	defaultTrigger = 95
	defaultTarget  = 80
	// Over the configured size, even recently used segments may go: the
	// limit is a promise to the operator (a fixed-size disk).
	defaultCritical = 100
)

func (c Config) withDefaults() Config {
	setInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	setDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	setInt(&c.TriggerPercent, defaultTrigger)
	setInt(&c.TargetPercent, defaultTarget)
	setInt(&c.CriticalPercent, defaultCritical)
	setInt(&c.ShardsPerScan, 2)
	setInt(&c.MaxPendingTouches, 1<<18)
	setDur(&c.MinAge, time.Minute)
	setDur(&c.FlushEvery, 5*time.Second)
	setDur(&c.ScanEvery, 30*time.Second)
	setDur(&c.FoldEvery, 30*time.Second)
	setDur(&c.EvictCheckEvery, 10*time.Second)
	setDur(&c.SweepEvery, 10*time.Minute)
	setDur(&c.LeftoverAge, time.Hour)
	if c.Policy == "" {
		c.Policy = PolicyTinyLFU
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.MaxBytes < 0:
		return fmt.Errorf("evict: max size %d is negative", c.MaxBytes)
	case c.TriggerPercent < 1 || c.TriggerPercent > 100:
		return fmt.Errorf("evict: trigger %d%%: want 1 to 100", c.TriggerPercent)
	case c.TargetPercent < 1 || c.TargetPercent >= c.TriggerPercent:
		return fmt.Errorf("evict: target %d%%: want 1 to below the trigger (%d%%)", c.TargetPercent, c.TriggerPercent)
	case c.CriticalPercent <= c.TriggerPercent:
		return fmt.Errorf("evict: critical %d%% must be above the trigger (%d%%)", c.CriticalPercent, c.TriggerPercent)
	case c.Policy != PolicyTinyLFU && c.Policy != PolicyLRU:
		return fmt.Errorf("evict: policy %q: want %s or %s", c.Policy, PolicyTinyLFU, PolicyLRU)
	case c.ActiveExpiry && c.GetTTL <= 0:
		return fmt.Errorf("evict: active expiry needs a positive get_ttl")
	}
	return nil
}

// Capacity is the size and its thresholds, in bytes.
type Capacity struct {
	MaxBytes      int64 `json:"max_bytes"` // 0: unlimited
	TriggerBytes  int64 `json:"trigger_bytes"`
	TargetBytes   int64 `json:"target_bytes"`
	CriticalBytes int64 `json:"critical_bytes"`
	UsedBytes     int64 `json:"used_bytes"`
	// Known is false until every shard has been measured once.
	Known bool `json:"known"`
}

func percentOf(total int64, percent int) int64 { return total * int64(percent) / 100 }
