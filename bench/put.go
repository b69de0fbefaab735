package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

func putKey(set, contender string, round int, size int64, i int) string {
	return fmt.Sprintf("put/%s/%s/r%d/%s/%d", set, contender, round, sizeText(size), i)
}

// puts measures single-stream PUT throughput, direct and through s3cache.
func (r *settingRun) puts(ctx context.Context) error {
	type contender struct {
		name string
		ep   *endpoint
		srv  *server
	}
	contenders := []contender{{direct, r.direct, nil}, {s3cachePut, r.s3c.ep, r.s3c}}
	for _, size := range r.plan.PutSizes {
		reps := r.plan.reps(size)
		results := make([]series, len(contenders))
		for i, c := range contenders {
			results[i] = series{Size: size, Contender: c.name}
		}
		for round := range r.plan.Rounds {
			for k := range contenders {
				idx := (k + round) % len(contenders)
				c := contenders[idx]
				var busy time.Duration
				var cpu0 time.Duration
				if c.srv != nil {
					cpu0 = c.srv.cpu()
				}
				for i := range reps {
					url, err := c.ep.presignedURL(ctx, http.MethodPut, putKey(r.set.Name, c.name, round, size, i))
					if err != nil {
						return err
					}
					d, err := c.ep.put(ctx, url, r.material.reader(int64(i)*4099, size), size)
					if err != nil {
						return fmt.Errorf("PUT %s: %w", sizeText(size), err)
					}
					busy += d
				}
				if c.srv != nil {
					r.account(c.srv, "s3cache PUT", c.srv.cpu()-cpu0, int64(reps)*size)
				}
				results[idx].MiBps = append(results[idx].MiBps, float64(int64(reps)*size)/mib/busy.Seconds())
				results[idx].OpsPerSec = append(results[idx].OpsPerSec, float64(reps)/busy.Seconds())
			}
			for _, c := range contenders {
				for i := range reps {
					if err := r.forget(ctx, putKey(r.set.Name, c.name, round, size, i), size); err != nil {
						return err
					}
				}
			}
		}
		r.log.Info("PUT done", "setting", r.set.Name, "size", sizeText(size))
		r.res.Put = append(r.res.Put, results...)
	}
	return nil
}
