package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// getContender is one way of fetching an object in the single-stream
// scenario.
type getContender struct {
	name      string
	ep        *endpoint
	srv       *server // nil for direct
	key       func(round, i int) string
	dropCache bool // evict srv's cache files from the page cache before each request
	prewarm   bool // one untimed GET first, to bring the files back into the page cache
	reps      int
}

// sequentialSample makes c.reps GETs one after the other and returns the
// sample: bytes over the summed request times (page-cache drops between
// requests are not timed).
func (r *settingRun) sequentialSample(ctx context.Context, c getContender, round int, size int64, xc map[string]int) (mibps, opsps float64, err error) {
	buf := make([]byte, 256<<10)
	var busy time.Duration
	var bytes int64
	var cpu0 time.Duration
	if c.srv != nil {
		cpu0 = c.srv.cpu()
	}
	if c.prewarm {
		if err := r.warmVia(ctx, c.ep, c.key(round, 0), size); err != nil {
			return 0, 0, err
		}
	}
	for i := range c.reps {
		if c.dropCache {
			if _, err := dropPageCache(c.srv.cacheDir); err != nil {
				return 0, 0, err
			}
		}
		url, err := c.ep.presignedURL(ctx, http.MethodGet, c.key(round, i))
		if err != nil {
			return 0, 0, err
		}
		res, err := c.ep.get(ctx, url, size, buf)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", c.name, err)
		}
		busy += res.total
		bytes += res.bytes
		xc[res.xcache]++
	}
	if c.srv != nil {
		r.account(c.srv, c.name, c.srv.cpu()-cpu0, bytes)
	}
	secs := busy.Seconds()
	return float64(bytes) / mib / secs, float64(c.reps) / secs, nil
}

func missKey(set string, round int, size int64, i int) string {
	return fmt.Sprintf("miss/%s/r%d/%s/%d", set, round, sizeText(size), i)
}

// singleStream measures one client fetching one object at a time, for
// every size, every contender interleaved within each round.
func (r *settingRun) singleStream(ctx context.Context) error {
	for _, size := range r.plan.SingleSizes {
		if err := r.singleSize(ctx, size); err != nil {
			return fmt.Errorf("%s: %w", sizeText(size), err)
		}
	}
	return nil
}

func (r *settingRun) singleSize(ctx context.Context, size int64) error {
	reps := r.plan.reps(size)
	diskReps := min(reps, r.plan.DiskHitReps)
	base := func(int, int) string { return baseKey(size) }
	miss := func(round, i int) string { return missKey(r.set.Name, round, size, i) }
	contenders := []getContender{
		{name: direct, ep: r.direct, key: base, reps: reps},
		{name: s3cacheMiss, ep: r.s3c.ep, srv: r.s3c, key: miss, reps: reps},
		{name: s3cacheDisk, ep: r.s3c.ep, srv: r.s3c, key: base, reps: diskReps, dropCache: true},
		{name: s3cacheWarm, ep: r.s3c.ep, srv: r.s3c, key: base, reps: reps, prewarm: true},
		{name: nginxMiss, ep: r.ngx.ep, srv: r.ngx, key: miss, reps: reps},
		{name: nginxDisk, ep: r.ngx.ep, srv: r.ngx, key: base, reps: diskReps, dropCache: true},
		{name: nginxWarm, ep: r.ngx.ep, srv: r.ngx, key: base, reps: reps, prewarm: true},
	}
	if err := r.warm(ctx, baseKey(size), size); err != nil {
		return err
	}
	results := make([]series, len(contenders))
	for i, c := range contenders {
		results[i] = series{Size: size, Contender: c.name, XCache: map[string]int{}}
	}
	for round := range r.plan.Rounds {
		for i := range reps {
			if err := r.origin.copyObject(ctx, baseKey(size), miss(round, i)); err != nil {
				return err
			}
		}
		for k := range contenders {
			idx := (k + round) % len(contenders)
			c := contenders[idx]
			mibps, opsps, err := r.sequentialSample(ctx, c, round, size, results[idx].XCache)
			if err != nil {
				return err
			}
			results[idx].MiBps = append(results[idx].MiBps, mibps)
			results[idx].OpsPerSec = append(results[idx].OpsPerSec, opsps)
		}
		for i := range reps {
			if err := r.forget(ctx, miss(round, i), size); err != nil {
				return err
			}
		}
		r.log.Info("single-stream round", "setting", r.set.Name, "size", sizeText(size), "round", round+1)
	}
	r.checkXCache(results)
	r.res.Single = append(r.res.Single, results...)
	r.res.Single = append(r.res.Single, series{Size: size, Contender: s3cacheRAM,
		NA: "this s3cache build has no RAM tier; see the warm-page-cache hit"})
	return nil
}

// warm fetches key once through s3cache and twice through nginx, so that
// both hold it before hits are measured.
func (r *settingRun) warm(ctx context.Context, key string, size int64) error {
	for _, ep := range []*endpoint{r.s3c.ep, r.ngx.ep, r.ngx.ep} {
		if err := r.warmVia(ctx, ep, key, size); err != nil {
			return err
		}
	}
	return nil
}

// warmVia fetches key through ep once, untimed.
func (r *settingRun) warmVia(ctx context.Context, ep *endpoint, key string, size int64) error {
	url, err := ep.presignedURL(ctx, http.MethodGet, key)
	if err != nil {
		return err
	}
	if _, err := ep.get(ctx, url, size, make([]byte, 256<<10)); err != nil {
		return fmt.Errorf("warm %s via %s: %w", key, ep.name, err)
	}
	return nil
}

// checkXCache notes contenders whose responses did not say what they were
// meant to be (a "hit" that was not a HIT is not measuring a hit).
func (r *settingRun) checkXCache(results []series) {
	want := map[string]string{s3cacheMiss: "MISS", s3cacheDisk: "HIT", s3cacheWarm: "HIT", nginxMiss: "MISS", nginxDisk: "HIT", nginxWarm: "HIT",
		s3cacheHit: "HIT", nginxHit: "HIT"}
	for _, s := range results {
		w, ok := want[s.Contender]
		if !ok {
			continue
		}
		for got, n := range s.XCache {
			if got != w {
				r.note("setting %s, %s %s: %d responses said %q, expected %q", r.set.Name, s.Contender, sizeText(s.Size), n, got, w)
			}
		}
	}
}

// forget deletes key at the origin through s3cache (which drops its copy)
// and removes nginx's cached slices of it.
func (r *settingRun) forget(ctx context.Context, key string, size int64) error {
	if err := r.s3c.ep.remove(ctx, key); err != nil {
		return err
	}
	for _, f := range nginxCacheFiles(r.ngx.cacheDir, "/"+bucket+"/"+key, size) {
		err := os.Remove(f)
		if err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("forget %s in nginx: %w", key, err)
		}
		if err == nil {
			r.nginxForgotten++
		}
	}
	return nil
}

// nginxCacheFiles lists where nginx keeps the slices of uri, per
// scripts/nginx-peer.conf: key $uri$slice_range, 1 MiB slices, levels=1:2.
func nginxCacheFiles(cacheDir, uri string, size int64) []string {
	const slice = 1 << 20
	var out []string
	for off := int64(0); off < max(size, 1); off += slice {
		sum := md5.Sum(fmt.Appendf(nil, "%sbytes=%d-%d", uri, off, off+slice-1))
		h := hex.EncodeToString(sum[:])
		out = append(out, filepath.Join(cacheDir, h[31:], h[29:31], h))
	}
	return out
}
