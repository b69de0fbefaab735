package qos

import "time"

// Fairness values: what a class is made of.
const (
	FairByBucket    = "bucket"
	FairByUserAgent = "user-agent"
)

// Config sets the ceiling and the scheduler. Fields left zero take the
// defaults below.
type Config struct {
	// MaxBytesPerSec is the fleet-wide ceiling on origin download bytes/s;
	// 0 turns the limiter off.
	MaxBytesPerSec int64
	// Fairness is FairByBucket (default) or FairByUserAgent.
	Fairness string

	Quantum           int64         // bytes a class gets per DRR turn; also the largest single read (256 KiB)
	Refill            time.Duration // how often the budget is dealt out (100 ms)
	HeartbeatEvery    time.Duration // how often this instance's heartbeat is touched (10 s)
	LiveWithin        time.Duration // a heartbeat younger than this counts as a live instance (30 s)
	ReapAfter         time.Duration // heartbeats older than this are removed (10 min)
	FallbackInstances int           // live count used when the directory is unusable (1)
	MaxWait           time.Duration // a read waiting longer goes ahead unthrottled (30 s)
	MaxClasses        int           // classes tracked at once; the rest share one (1024)
}

func (c Config) withDefaults() Config {
	if c.Fairness == "" {
		c.Fairness = FairByBucket
	}
	setDefault(&c.Quantum, 256<<10)
	setDefault(&c.Refill, 100*time.Millisecond)
	setDefault(&c.HeartbeatEvery, 10*time.Second)
	setDefault(&c.LiveWithin, 30*time.Second)
	setDefault(&c.ReapAfter, 10*time.Minute)
	setDefault(&c.FallbackInstances, 1)
	setDefault(&c.MaxWait, 30*time.Second)
	setDefault(&c.MaxClasses, 1024)
	return c
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
