package qos

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// zeros is an endless origin body that is never the bottleneck.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// fastConfig keeps the scheduler's windows short for tests.
func fastConfig(bytesPerSec int64) Config {
	return Config{MaxBytesPerSec: bytesPerSec, Quantum: 32 << 10, Refill: 10 * time.Millisecond}
}

// runLimiter builds a Limiter over dir and runs it until the test ends.
func runLimiter(t *testing.T, cfg Config, dir, id string) *Limiter {
	t.Helper()
	l := New(cfg, dir, id, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	deadline := time.Now().Add(5 * time.Second)
	for !l.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("limiter did not start")
		}
		time.Sleep(time.Millisecond)
	}
	return l
}

// load runs readers per class against l, each counting the bytes it got,
// until stop is called.
type load struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	got    map[string]*atomic.Int64
}

func startLoad(l *Limiter, readers map[string]int) *load {
	ctx, cancel := context.WithCancel(context.Background())
	ld := &load{cancel: cancel, got: map[string]*atomic.Int64{}}
	for class, n := range readers {
		counter := new(atomic.Int64)
		ld.got[class] = counter
		for range n {
			ld.wg.Add(1)
			go func() {
				defer ld.wg.Done()
				r := l.Reader(ctx, zeros{}, class)
				buf := make([]byte, 32<<10)
				for ctx.Err() == nil {
					n, err := r.Read(buf)
					counter.Add(int64(n))
					if err != nil {
						return
					}
				}
			}()
		}
	}
	return ld
}

func (ld *load) stop() {
	ld.cancel()
	ld.wg.Wait()
}

// measure returns the bytes each class read during window, after warmUp.
func (ld *load) measure(warmUp, window time.Duration) map[string]int64 {
	time.Sleep(warmUp)
	start := map[string]int64{}
	for c, n := range ld.got {
		start[c] = n.Load()
	}
	time.Sleep(window)
	out := map[string]int64{}
	for c, n := range ld.got {
		out[c] = n.Load() - start[c]
	}
	return out
}

func within(got, want int64, lo, hi float64) bool {
	return float64(got) >= lo*float64(want) && float64(got) <= hi*float64(want)
}

var _ io.Reader = zeros{}
