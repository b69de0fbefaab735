package qos

import (
	"context"
	"log/slog"
)

// Start builds a Limiter and runs it until ctx ends or stop is called;
// stop waits for Run to return (waiting reads released, heartbeat
// removed). With no ceiling the Limiter passes bodies through and nothing
// runs.
func Start(ctx context.Context, cfg Config, cacheDir, instanceID string, log *slog.Logger) (l *Limiter, stop func()) {
	l = New(cfg, cacheDir, instanceID, log)
	if !l.Enabled() {
		return l, func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Run(ctx)
	}()
	return l, func() {
		cancel()
		<-done
	}
}
