// Command s3cache is a transparent caching proxy for Amazon S3 and
// S3-compatible storage. See the README for how to run it.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/s3cache/s3cache/internal/cache"
	"github.com/s3cache/s3cache/internal/config"
	"github.com/s3cache/s3cache/internal/evict"
	"github.com/s3cache/s3cache/internal/mpu"
	"github.com/s3cache/s3cache/internal/observe"
	"github.com/s3cache/s3cache/internal/origin"
	"github.com/s3cache/s3cache/internal/proxy"
	"github.com/s3cache/s3cache/internal/ram"
	"github.com/s3cache/s3cache/internal/rules"
	"github.com/s3cache/s3cache/internal/s3req"
	"github.com/s3cache/s3cache/internal/store"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// drainTimeout bounds how long SIGTERM waits for in-flight requests.
const drainTimeout = 30 * time.Second

// tunnelGrace is how long SIGTERM lets TLS tunnels run before closing them.
const tunnelGrace = 3 * time.Second

func main() {
	if code, ok := runSubcommand(os.Args[1:]); ok {
		os.Exit(code)
	}
	cfg, err := config.Load("s3cache", os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3cache:", err)
		os.Exit(2)
	}
	ops, err := newOperations(cfg, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "s3cache:", err)
		os.Exit(2)
	}
	log := ops.log
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log, ops); err != nil {
		log.Error("s3cache stopped", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is cancelled, then drains.
func run(ctx context.Context, cfg config.Config, log *slog.Logger, ops *operations) error {
	started := time.Now()
	startPprof(cfg.Pprof, log)
	st, err := store.Open(cfg.CacheDir, log)
	if err != nil {
		return err
	}
	st.EnableCompression(cfg.Compression)
	go st.AnnounceInstance(ctx)
	capacity, err := evict.New(evict.ConfigFrom(cfg), st, log)
	if err != nil {
		return fmt.Errorf("capacity: %w", err)
	}
	st.ObserveSizes(capacity)
	capacityDone := make(chan struct{})
	go func() { defer close(capacityDone); capacity.Run(ctx) }()
	defer func() { <-capacityDone }()
	edge, err := newEdge(cfg, log)
	if err != nil {
		return err
	}
	oc, err := origin.New(origin.Config{
		URL:                 cfg.Origin,
		CAFile:              cfg.OriginCA,
		ConnectTimeout:      cfg.ConnectTimeout.D(),
		FirstByteTimeout:    cfg.FirstByteTimeout.D(),
		MaxIdleConnsPerHost: cfg.MaxIdleConns,
		DialContext:         edge.dial,
		AllowHost:           edge.policy.AllowHost,
		WrapTransport:       ops.metrics.InstrumentRoundTripper,
		Resilience: origin.Resilience{
			HedgeAfter:    cfg.HedgeAfter.D(),
			HedgeFraction: cfg.HedgeFraction,
			IdleTimeout:   cfg.IdleTimeout.D(),
			Retries:       cfg.UpstreamRetries,
		},
	})
	if err != nil {
		return err
	}
	defer oc.Close()
	tier, err := ram.New(st, ram.Config{MaxBytes: int64(cfg.MaxRAMCacheSize), MaxSegment: int64(cfg.RAMMaxSegment)})
	if err != nil {
		return fmt.Errorf("ram tier: %w", err)
	}
	rulesPath := cfg.RulesFile
	if rulesPath == "" {
		rulesPath = rules.DefaultPath(cfg.CacheDir)
	}
	ruleSet, err := rules.Watch(ctx, rulesPath, log)
	if err != nil {
		// A rule may be what enforces TTL 0 (S3 authorizing every read):
		// better not to start than to serve without it.
		return fmt.Errorf("rules file: %w", err)
	}
	limiter, stopQoS := startQoS(ctx, cfg, st.Instance(), log)
	defer stopQoS()
	rc := cache.New(st, oc, cache.Config{
		QoS:           limiter,
		ReadAheadPage: int64(cfg.ReadAheadPage),
		RAM:           tier,
		Rules:         ruleSet,
		Access:        capacity,
		Events:        ops.metrics,
		Settings:      defaultSettings(cfg),
		WaitTimeout:   cfg.FirstByteTimeout.D(),
	}, log)
	ops.onReload([]string{"get_ttl", "head_ttl", "put_ttl", "compression", "write_cache", "hedge_after"}, func(c config.Config) {
		rc.SetDefaults(defaultSettings(c))
	})
	stager, err := mpu.Open(cfg.CacheDir, log)
	if err != nil {
		return fmt.Errorf("multipart staging: %w", err)
	}
	go sweepUploads(ctx, stager, cfg.IncompleteUploadTTL.D(), log)
	handler := proxy.New(proxy.Config{
		Writes: proxy.WriteCache{
			MaxObjectSize: int64(cfg.WriteCacheMaxObjectSize),
			Stager:        stager,
		},
		Parse:   s3req.Options{Origin: cfg.Origin, VirtualHostDomains: cfg.VirtualHostDomains},
		Cache:   rc,
		Store:   st,
		Origin:  oc,
		Connect: edge.connect,
		Log:     log,
	})
	ops.start(ctx, st, capacity, started)
	defer ops.stop()
	stopOTLP := startOTLP(ctx, cfg, ops.metrics.Registry(), st.Instance(), log)
	defer stopOTLP()
	served := ops.wrap(handler)

	var servers []*http.Server
	start := func(name, addr string, h http.Handler) error {
		if addr == "" {
			return nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", name, err)
		}
		srv := &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 30 * time.Second,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		}
		servers = append(servers, srv)
		log.Info("listening", "listener", name, "addr", ln.Addr().String())
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("listener failed", "listener", name, "err", err)
			}
		}()
		return nil
	}
	listeners := []struct {
		name, addr string
		h          http.Handler
	}{
		{"s3", cfg.Listen, served},
		{"forward proxy", cfg.ListenProxy, served},
		{"health", cfg.Health, observe.HealthHandler(st, started, version)},
		{"metrics", cfg.Metrics, ops.metricsHandler()},
		{"dashboard", cfg.Dashboard, ops.dashboardHandler()},
	}
	for _, l := range listeners {
		if err := start(l.name, l.addr, l.h); err != nil {
			shutdown(servers, log)
			return err
		}
	}
	if err := edge.serveTLS(ctx, cfg.ListenTLS, log); err != nil {
		shutdown(servers, log)
		return err
	}
	stopTLSProxy := startTLSProxy(ctx, cfg, served, log)
	log.Info("s3cache started", "version", version, "origin", originName(cfg.Origin), "cache_dir", cfg.CacheDir,
		"get_ttl", cfg.GetTTL, "head_ttl", cfg.HeadTTL)
	<-ctx.Done()
	log.Info("shutting down; draining in-flight requests", "timeout", drainTimeout)
	shutdown(servers, log)
	// Tunnels are opaque: nothing tells an idle keep-alive connection from
	// a transfer, so they get a short grace and are then closed.
	drainCtx, cancel := context.WithTimeout(context.Background(), tunnelGrace)
	defer cancel()
	edge.shutdown(drainCtx)
	stopTLSProxy(drainCtx)
	return nil
}

func shutdown(servers []*http.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			log.Warn("drain incomplete", "err", err)
		}
	}
}

func originName(u string) string {
	if u == "" {
		return "request Host over HTTPS"
	}
	return u
}

// sweepUploads removes the staging of multipart uploads nobody finished,
// at start and then hourly.
func sweepUploads(ctx context.Context, stager *mpu.Stager, olderThan time.Duration, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := stager.Sweep(olderThan); err != nil {
			log.Warn("cannot sweep multipart staging", "err", err)
		} else if n > 0 {
			log.Info("removed staging of abandoned multipart uploads", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// defaultSettings are the per-object settings no rule overrides.
func defaultSettings(cfg config.Config) cache.Settings {
	return cache.Settings{
		GetTTL:      cfg.GetTTL.D(),
		HeadTTL:     cfg.HeadTTL.D(),
		PutTTL:      cfg.PutTTL.D(),
		Compression: cfg.Compression,
		WriteCache:  cfg.WriteCache,
		HedgeAfter:  cfg.HedgeAfter.D(),
	}
}
