package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

func herdKey(set string, round, j int) string { return fmt.Sprintf("herd/%s/r%d/%d", set, round, j) }

// herd measures HerdClients clients that each fetch all the herd objects
// (in an order of their own) at the same time: cold (nobody has them) and
// warm (fetched once already), with latency percentiles, aggregate
// throughput and what the origin had to send.
func (r *settingRun) herd(ctx context.Context) error {
	var unique int64
	for _, s := range r.plan.HerdSizes {
		unique += s
	}
	type contender struct {
		name string
		ep   *endpoint
		srv  *server
	}
	d := contender{direct, r.direct, nil}
	sc := contender{s3cacheCold, r.s3c.ep, r.s3c}
	nc := contender{nginxCold, r.ngx.ep, r.ngx}
	sw := contender{s3cacheWarmed, r.s3c.ep, r.s3c}
	nw := contender{nginxWarmed, r.ngx.ep, r.ngx}
	// Cold must come before warm for each cache; swap who goes first each round.
	orders := [][]contender{{d, sc, nc, sw, nw}, {nc, sc, nw, sw, d}}
	stats := map[string]*herdStats{}
	for _, c := range orders[0] {
		stats[c.name] = &herdStats{Contender: c.name, UniqueBytes: unique}
	}
	for round := range r.plan.ManyRounds {
		for j := range r.plan.HerdSizes {
			if err := r.origin.copyObject(ctx, herdBaseKey(j), herdKey(r.set.Name, round, j)); err != nil {
				return err
			}
		}
		for _, c := range orders[round%2] {
			var cpu0 time.Duration
			if c.srv != nil {
				cpu0 = c.srv.cpu()
			}
			hr, err := r.herdRun(ctx, c.ep, round)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if c.srv != nil {
				r.account(c.srv, "herd "+c.name, c.srv.cpu()-cpu0, hr.ServedBytes)
			}
			stats[c.name].Rounds = append(stats[c.name].Rounds, hr)
		}
		for j, s := range r.plan.HerdSizes {
			if err := r.forget(ctx, herdKey(r.set.Name, round, j), s); err != nil {
				return err
			}
		}
		r.log.Info("herd round", "setting", r.set.Name, "round", round+1)
	}
	for _, c := range orders[0] {
		r.res.Herd = append(r.res.Herd, *stats[c.name])
	}
	return nil
}

// herdRun is one herd: every client fetches every object once.
func (r *settingRun) herdRun(ctx context.Context, ep *endpoint, round int) (herdRound, error) {
	sizes := r.plan.HerdSizes
	urls := make([]string, len(sizes))
	for j := range sizes {
		u, err := ep.presignedURL(ctx, http.MethodGet, herdKey(r.set.Name, round, j))
		if err != nil {
			return herdRound{}, err
		}
		urls[j] = u
	}
	var mu sync.Mutex
	var latencies []float64
	var served int64
	origin0 := r.link.downBytes.Load()
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for c := range r.plan.HerdClients {
		order := rand.New(rand.NewPCG(uint64(c), uint64(round))).Perm(len(sizes))
		g.Go(func() error {
			buf := make([]byte, 256<<10)
			for _, j := range order {
				res, err := ep.get(gctx, urls[j], sizes[j], buf)
				if err != nil {
					return err
				}
				mu.Lock()
				latencies = append(latencies, float64(res.total)/float64(time.Millisecond))
				served += res.bytes
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return herdRound{}, err
	}
	wall := time.Since(start)
	return herdRound{
		P50ms: percentile(latencies, 50), P95ms: percentile(latencies, 95), P99ms: percentile(latencies, 99),
		MiBps: float64(served) / mib / wall.Seconds(), ServedBytes: served, OriginBytes: r.link.downBytes.Load() - origin0,
	}, nil
}
