package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/s3cache/s3cache/internal/config"
	"github.com/s3cache/s3cache/internal/otlp"
	"github.com/s3cache/s3cache/internal/qos"
)

// startQoS runs the bandwidth sharing of cache misses
// (download_max_bytes_per_sec, qos_fairness). Wrap the origin bodies that
// feed fills with limiter.ReadCloser; with no ceiling it passes them
// through. stop waits for the limiter to end.
func startQoS(ctx context.Context, cfg config.Config, instanceID string, log *slog.Logger) (limiter *qos.Limiter, stop func()) {
	return qos.Start(ctx, qos.Config{
		MaxBytesPerSec: int64(cfg.DownloadMaxBytesPerSec),
		Fairness:       cfg.QoSFairness,
	}, cfg.CacheDir, instanceID, log)
}

// startOTLP pushes the metrics of reg to otlp_endpoint every
// otlp_interval; stop makes a last push. Off when otlp_endpoint is empty.
func startOTLP(ctx context.Context, cfg config.Config, reg prometheus.Gatherer, instanceID string, log *slog.Logger) (stop func()) {
	headers, err := cfg.OTLPHeaderMap()
	if err != nil {
		log.Error("otlp: export off", "err", err)
		return func() {}
	}
	return otlp.Start(ctx, otlp.Config{
		Endpoint:       cfg.OTLPEndpoint,
		Interval:       cfg.OTLPInterval.D(),
		Headers:        headers,
		ServiceVersion: version,
		InstanceID:     instanceID,
	}, reg, log)
}
