package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// manyClients measures aggregate throughput of ManyClients clients fetching
// the same (cached) object over and over: direct, s3cache hit, nginx hit.
func (r *settingRun) manyClients(ctx context.Context) error {
	for _, size := range r.plan.ManySizes {
		if err := r.manySize(ctx, size); err != nil {
			return fmt.Errorf("%s: %w", sizeText(size), err)
		}
	}
	return nil
}

func (r *settingRun) manySize(ctx context.Context, size int64) error {
	type contender struct {
		name string
		ep   *endpoint
		srv  *server
	}
	contenders := []contender{{direct, r.direct, nil}, {s3cacheHit, r.s3c.ep, r.s3c}, {nginxHit, r.ngx.ep, r.ngx}}
	if err := r.warm(ctx, baseKey(size), size); err != nil {
		return err
	}
	results := make([]series, len(contenders))
	for i, c := range contenders {
		results[i] = series{Size: size, Contender: c.name, XCache: map[string]int{}}
	}
	reps := r.plan.clientReps(size)
	for round := range r.plan.ManyRounds {
		for k := range contenders {
			idx := (k + round) % len(contenders)
			c := contenders[idx]
			if c.srv != nil { // bring the files back into the page cache, untimed
				if err := r.warmVia(ctx, c.ep, baseKey(size), size); err != nil {
					return err
				}
			}
			var cpu0 time.Duration
			if c.srv != nil {
				cpu0 = c.srv.cpu()
			}
			bytes, wall, err := r.concurrentGets(ctx, c.ep, baseKey(size), size, r.plan.ManyClients, reps, results[idx].XCache)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if c.srv != nil {
				r.account(c.srv, c.name+" (32 clients)", c.srv.cpu()-cpu0, bytes)
			}
			secs := wall.Seconds()
			results[idx].MiBps = append(results[idx].MiBps, float64(bytes)/mib/secs)
			results[idx].OpsPerSec = append(results[idx].OpsPerSec, float64(r.plan.ManyClients*reps)/secs)
		}
		r.log.Info("many-client round", "setting", r.set.Name, "size", sizeText(size), "round", round+1)
	}
	r.checkXCache(results)
	r.res.Many = append(r.res.Many, results...)
	return nil
}

// concurrentGets runs clients goroutines, each fetching key reps times, and
// returns the bytes received and the wall time.
func (r *settingRun) concurrentGets(ctx context.Context, ep *endpoint, key string, size int64, clients, reps int, xc map[string]int) (int64, time.Duration, error) {
	url, err := ep.presignedURL(ctx, http.MethodGet, key)
	if err != nil {
		return 0, 0, err
	}
	var mu sync.Mutex
	var total int64
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for range clients {
		g.Go(func() error {
			buf := make([]byte, 256<<10)
			for range reps {
				res, err := ep.get(gctx, url, size, buf)
				if err != nil {
					return err
				}
				mu.Lock()
				total += res.bytes
				xc[res.xcache]++
				mu.Unlock()
			}
			return nil
		})
	}
	err = g.Wait()
	return total, time.Since(start), err
}
