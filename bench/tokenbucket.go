package main

import (
	"context"
	"sync"
	"time"
)

// tokenBucket limits a byte rate. Take reserves n bytes at once and sleeps
// until the reservation is covered, so the bucket may go into debt: a large
// chunk simply makes the next callers wait longer, and the long-run rate is
// exact whatever the chunk sizes. A nil *tokenBucket is unlimited.
type tokenBucket struct {
	rate  float64 // bytes per second
	burst float64 // the most tokens that can pile up while idle

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// newTokenBucket returns a bucket for bytesPerSecond, or nil (unlimited)
// when bytesPerSecond <= 0. It starts full.
func newTokenBucket(bytesPerSecond, burst int64) *tokenBucket {
	if bytesPerSecond <= 0 {
		return nil
	}
	return &tokenBucket{rate: float64(bytesPerSecond), burst: float64(burst), tokens: float64(burst), last: time.Now()}
}

// reserve takes n tokens and returns how long the caller must wait before
// using them.
func (b *tokenBucket) reserve(n int, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens += now.Sub(b.last).Seconds() * b.rate
	if b.tokens > b.burst {
		b.tokens = b.burst
	}
	b.last = now
	b.tokens -= float64(n)
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// Take waits until n bytes may pass, or ctx ends.
func (b *tokenBucket) Take(ctx context.Context, n int) error {
	if b == nil || n <= 0 {
		return nil
	}
	return sleep(ctx, b.reserve(n, time.Now()))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
