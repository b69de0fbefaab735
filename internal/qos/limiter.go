package qos

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"time"
)

// Limiter throttles origin download bodies to this instance's share of
// the fleet ceiling. A nil *Limiter, or one whose ceiling is 0, does not
// throttle. All methods are safe for concurrent use.
type Limiter struct {
	cfg   Config
	log   *slog.Logger
	fleet *fleet
	sched *scheduler

	running     atomic.Bool
	instanceBPS atomic.Int64 // this instance's ceiling, bytes/s
	live        atomic.Int64 // live instances counted at the last heartbeat
	heartbeat   atomic.Int32 // heartbeatUnknown, heartbeatOK or heartbeatFailing
}

const (
	heartbeatUnknown int32 = iota
	heartbeatOK
	heartbeatFailing
)

// New builds a Limiter for the instance instanceID (unique per process,
// usable in a file name) whose heartbeats live under cacheDir; log may be
// nil. It does no I/O; Run does.
func New(cfg Config, cacheDir, instanceID string, log *slog.Logger) *Limiter {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Limiter{
		cfg:   cfg,
		log:   log,
		fleet: newFleet(cacheDir, instanceID, cfg),
		sched: newScheduler(cfg.Quantum, cfg.MaxClasses),
	}
	l.setLive(cfg.FallbackInstances)
	return l
}

// Enabled reports whether the limiter throttles at all.
func (l *Limiter) Enabled() bool { return l != nil && l.cfg.MaxBytesPerSec > 0 }

// Class names the fairness class of a request to bucket with userAgent,
// by the configured fairness.
func (l *Limiter) Class(bucket, userAgent string) string {
	if l == nil {
		return Class(FairByBucket, bucket, userAgent)
	}
	return Class(l.cfg.Fairness, bucket, userAgent)
}

// Run keeps the heartbeat and deals out the budget until ctx ends; Readers
// throttle only while it runs. On return it releases every waiting read
// and removes this instance's heartbeat.
func (l *Limiter) Run(ctx context.Context) {
	if !l.Enabled() {
		return
	}
	l.beat()
	l.running.Store(true)
	defer func() {
		l.running.Store(false)
		l.sched.releaseAll()
		l.fleet.leave()
	}()
	refill := time.NewTicker(l.cfg.Refill)
	defer refill.Stop()
	beat := time.NewTicker(l.cfg.HeartbeatEvery)
	defer beat.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-refill.C:
			// Budget for the time that really passed, but no more than two
			// refills' worth after a stall.
			elapsed := min(now.Sub(last), 2*l.cfg.Refill)
			last = now
			rate := l.instanceBPS.Load()
			l.sched.refill(bytesFor(rate, elapsed), bytesFor(rate, l.cfg.Refill))
		case <-beat.C:
			l.beat()
		}
	}
}

func bytesFor(rate int64, d time.Duration) int64 {
	return max(1, int64(float64(rate)*d.Seconds()))
}

// beat touches this instance's heartbeat and recounts the live ones.
func (l *Limiter) beat() {
	live, err := l.fleet.beat()
	if err != nil {
		if l.heartbeat.Swap(heartbeatFailing) != heartbeatFailing {
			l.log.Warn("qos: heartbeat directory unusable; using the fallback instance count",
				"dir", l.fleet.dir, "fallback_instances", l.cfg.FallbackInstances, "err", err)
		}
		l.setLive(l.cfg.FallbackInstances)
		return
	}
	if l.heartbeat.Swap(heartbeatOK) != heartbeatOK || int64(live) != l.live.Load() {
		l.log.Info("qos: download ceiling shared", "live_instances", live,
			"instance_bytes_per_sec", l.cfg.MaxBytesPerSec/int64(live), "fleet_bytes_per_sec", l.cfg.MaxBytesPerSec)
	}
	l.setLive(live)
}

func (l *Limiter) setLive(n int) {
	n = max(n, 1)
	l.live.Store(int64(n))
	l.instanceBPS.Store(max(1, l.cfg.MaxBytesPerSec/int64(n)))
}

// Reader returns r throttled to class's share. Reads take at most Quantum
// bytes and return once the class has paid for them; a read that waits
// longer than MaxWait goes ahead. When ctx ends a waiting read returns
// its bytes with ctx's error. With the limiter off or not running, r is
// read unthrottled.
func (l *Limiter) Reader(ctx context.Context, r io.Reader, class string) io.Reader {
	if !l.Enabled() {
		return r
	}
	return &throttledReader{ctx: ctx, r: r, class: class, l: l}
}

// ReadCloser is Reader for a body that must still be closed.
func (l *Limiter) ReadCloser(ctx context.Context, rc io.ReadCloser, class string) io.ReadCloser {
	if !l.Enabled() {
		return rc
	}
	return struct {
		io.Reader
		io.Closer
	}{l.Reader(ctx, rc, class), rc}
}

// throttledReader has Read only, so io.Copy cannot bypass it through
// WriterTo.
type throttledReader struct {
	ctx   context.Context
	r     io.Reader
	class string
	l     *Limiter
}

func (t *throttledReader) Read(p []byte) (int, error) {
	if int64(len(p)) > t.l.cfg.Quantum {
		p = p[:t.l.cfg.Quantum]
	}
	n, err := t.r.Read(p)
	if n > 0 && t.l.running.Load() {
		if werr := t.l.wait(t.ctx, t.class, int64(n)); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

// wait pays for n bytes of class, waiting for its turn when it must.
func (l *Limiter) wait(ctx context.Context, class string, n int64) error {
	w := l.sched.charge(class, n)
	if w == nil {
		return nil
	}
	timer := time.NewTimer(l.cfg.MaxWait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return nil
	case <-timer.C:
		l.sched.abandon(class, w, true)
		return nil
	case <-ctx.Done():
		if l.sched.abandon(class, w, false) {
			return ctx.Err()
		}
		return nil
	}
}

// Stats is a snapshot of the limiter.
type Stats struct {
	Enabled             bool
	FleetBytesPerSec    int64 // the configured ceiling for all instances
	InstanceBytesPerSec int64 // this instance's share of it
	LiveInstances       int   // as counted at the last heartbeat (or the fallback)
	HeartbeatOK         bool  // false: the heartbeat directory was unusable
	Classes             int   // classes being tracked
	Waiting             int   // reads waiting for their turn now
	BytesPassed         int64 // bytes read through throttled readers
	BytesDelayed        int64 // of those, bytes whose read had to wait
	FailOpen            int64 // reads let go after waiting MaxWait
}

// Stats returns the current figures.
func (l *Limiter) Stats() Stats {
	if !l.Enabled() {
		return Stats{}
	}
	st, classes, waiting := l.sched.snapshot()
	return Stats{
		Enabled:             true,
		FleetBytesPerSec:    l.cfg.MaxBytesPerSec,
		InstanceBytesPerSec: l.instanceBPS.Load(),
		LiveInstances:       int(l.live.Load()),
		HeartbeatOK:         l.heartbeat.Load() == heartbeatOK,
		Classes:             classes,
		Waiting:             waiting,
		BytesPassed:         st.passed,
		BytesDelayed:        st.delayed,
		FailOpen:            st.failOpen,
	}
}
