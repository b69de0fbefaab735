package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// rssStress starts a fresh s3cache (so its VmHWM is this scenario's alone)
// and sends RSSStreams concurrent GETs of one RSSSize object through it:
// first cold (one coalesced fill feeding every stream), then warm (hits).
func (r *settingRun) rssStress(ctx context.Context, dir string) (*rssResult, error) {
	sub := filepath.Join(dir, "rss")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return nil, fmt.Errorf("rss dir: %w", err)
	}
	defer os.RemoveAll(sub)
	srv, err := startS3cache(ctx, r.ps, r.s3cache, "s3cache-rss", sub, r.link.addr, r.extra)
	if err != nil {
		return nil, err
	}
	defer r.ps.stop(srv.proc)
	size, key := r.plan.RSSSize, baseKey(r.plan.RSSSize)
	res := &rssResult{Streams: r.plan.RSSStreams, Size: size}
	res.StartRSS, _ = procStatusKiB(srv.proc.pid(), "VmHWM")
	cpu0 := srv.cpu()
	xc := map[string]int{}

	origin0 := r.link.downBytes.Load()
	bytes, wall, err := r.concurrentGets(ctx, srv.ep, key, size, r.plan.RSSStreams, 1, xc)
	if err != nil {
		return nil, fmt.Errorf("cold streams: %w", err)
	}
	res.ColdOrigin = r.link.downBytes.Load() - origin0
	res.ColdMiBps = float64(bytes) / mib / wall.Seconds()
	res.ColdPeakRSS, _ = procStatusKiB(srv.proc.pid(), "VmHWM")
	total := bytes
	r.log.Info("RSS stress cold", "streams", r.plan.RSSStreams, "size", sizeText(size), "peak_rss_mib", res.ColdPeakRSS>>20, "took", wall.Round(time.Millisecond))

	bytes, wall, err = r.concurrentGets(ctx, srv.ep, key, size, r.plan.RSSStreams, 1, xc)
	if err != nil {
		return nil, fmt.Errorf("warm streams: %w", err)
	}
	res.WarmMiBps = float64(bytes) / mib / wall.Seconds()
	res.WarmPeakRSS, _ = procStatusKiB(srv.proc.pid(), "VmHWM")
	total += bytes
	res.CPUSecPerGiB = (srv.cpu() - cpu0).Seconds() / (float64(total) / gib)
	r.log.Info("RSS stress warm", "peak_rss_mib", res.WarmPeakRSS>>20, "took", wall.Round(time.Millisecond), "x_cache", xc)
	return res, nil
}
