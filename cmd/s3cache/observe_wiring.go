package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/s3cache/s3cache/internal/config"
	"github.com/s3cache/s3cache/internal/evict"
	"github.com/s3cache/s3cache/internal/observe"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// capacityReportEvery is how often the capacity manager's figures are
// copied into the metrics.
const capacityReportEvery = 5 * time.Second

// operations are the parts that make s3cache operable: the logger (whose
// level SIGHUP can change), metrics, access log, dashboard and config reload.
type operations struct {
	args    []string // command line, re-read on SIGHUP
	level   *slog.LevelVar
	errors  *observe.ErrorRing
	log     *slog.Logger
	metrics *observe.Metrics
	buckets *observe.BucketStats
	access  *observe.AccessLog // nil when off

	mu        sync.Mutex
	cfg       config.Config
	reloaders []reloader
	dashboard *observe.Dashboard
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	hup       chan os.Signal // SIGHUP, caught from the start so it never kills
}

// reloader applies new settings to a running subsystem.
type reloader struct {
	keys  []string // the yaml keys it applies
	apply func(config.Config)
}

// newOperations builds the logger, metrics and access log from cfg. args
// is the command line, read again on SIGHUP.
func newOperations(cfg config.Config, args []string) (*operations, error) {
	o := &operations{args: args, cfg: cfg, level: new(slog.LevelVar), errors: observe.NewErrorRing(50),
		hup: make(chan os.Signal, 1)}
	// SIGHUP's default action ends the process: catch it before anything
	// else, so a reload sent during start-up is not fatal.
	signal.Notify(o.hup, syscall.SIGHUP)
	if err := observe.SetLevel(o.level, cfg.LogLevel); err != nil {
		return nil, err
	}
	o.log = observe.NewLogger(os.Stderr, cfg.LogFormat, o.level, o.errors)
	o.metrics = observe.NewMetrics(observe.MetricsOptions{Version: version, BucketLabels: cfg.MetricsBucketLabels})
	o.buckets = observe.NewBucketStats(1000)
	access, err := observe.OpenAccessLog(observe.AccessLogConfig{
		RotateConfig: observe.RotateConfig{
			Dir: cfg.AccessLogDir, Name: "access", MaxSize: int64(cfg.AccessLogMaxSize),
			Every: cfg.AccessLogRotateEvery.D(), Retention: cfg.AccessLogRetention.D(), MaxFiles: cfg.AccessLogMaxFiles,
		},
		FlushEvery: cfg.AccessLogFlushEvery.D(),
	}, o.log)
	if err != nil {
		return nil, fmt.Errorf("access log: %w", err)
	}
	o.access = access
	o.onReload([]string{"log_level"}, func(c config.Config) {
		if err := observe.SetLevel(o.level, c.LogLevel); err != nil {
			o.log.Warn("log level not changed", "err", err)
		}
	})
	return o, nil
}

// onReload registers apply to run on SIGHUP with the new settings; keys
// are the settings it applies, so the reload can say which changes still
// need a restart.
func (o *operations) onReload(keys []string, apply func(config.Config)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reloaders = append(o.reloaders, reloader{keys: keys, apply: apply})
}

// wrap puts the concurrency limit and the request observers around the
// caching listener's handler.
func (o *operations) wrap(h http.Handler) http.Handler {
	parse := s3req.Options{Origin: o.cfg.Origin, VirtualHostDomains: o.cfg.VirtualHostDomains}
	sinks := []observe.Sink{o.metrics, o.buckets}
	if o.access != nil {
		sinks = append(sinks, o.access)
	}
	return observe.Wrap(observe.Limit(h, o.cfg.MaxConcurrentRequests, o.metrics), parse, sinks...)
}

// metricsHandler serves /metrics.
func (o *operations) metricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.metrics.Handler())
	return mux
}

// start runs the dashboard's sampler, the cache size scan and the SIGHUP
// watcher until ctx ends or stop is called.
func (o *operations) start(ctx context.Context, st *store.Store, capacity *evict.Manager, started time.Time) {
	ctx, o.cancel = context.WithCancel(ctx)
	o.dashboard = observe.NewDashboard(observe.DashboardConfig{
		Version: version, Started: started, Metrics: o.metrics, Buckets: o.buckets, Errors: o.errors, Log: o.log,
		CacheInfo: func() observe.CacheInfo {
			h := st.Check()
			return observe.CacheInfo{Dir: h.Dir, Writable: h.Writable, Error: h.Error, DiskFree: h.FreeBytes, DiskSize: h.SizeBytes}
		},
	})
	o.goRun(func() { o.dashboard.Run(ctx) })
	o.goRun(func() { o.reportCapacity(ctx, capacity) })
	o.goRun(func() { o.watchReload(ctx) })
}

// dashboardHandler serves the dashboard; call start first.
func (o *operations) dashboardHandler() http.Handler { return o.dashboard.Handler() }

func (o *operations) goRun(fn func()) {
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		fn()
	}()
}

// reportCapacity copies the capacity manager's figures into the metrics
// every few seconds.
func (o *operations) reportCapacity(ctx context.Context, capacity *evict.Manager) {
	t := time.NewTicker(capacityReportEvery)
	defer t.Stop()
	var reported evict.Stats
	for {
		c, st := capacity.Capacity(), capacity.Stats()
		if c.Known {
			o.metrics.SetCacheSize(observe.ScopeShared, c.UsedBytes)
		}
		o.metrics.SetCacheCapacity(observe.ScopeShared, c.MaxBytes)
		if n := st.EvictedSegments - reported.EvictedSegments; n > 0 {
			o.metrics.Evicted(int(n), st.EvictedBytes-reported.EvictedBytes)
		}
		reported = st
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// stop ends the background work and flushes the access log. Call it after
// the listeners have drained, so the last requests are logged.
func (o *operations) stop() {
	if o.cancel != nil {
		o.cancel()
	}
	o.wg.Wait()
	signal.Stop(o.hup)
	if err := o.access.Close(); err != nil {
		o.log.Warn("access log not flushed", "err", err)
	}
}
