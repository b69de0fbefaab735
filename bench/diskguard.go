package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// guardDisk cancels ctx (with a cause saying why) when the free space on
// the file system of dir drops more than budget below what it was at the
// start, or under floor. A cache that writes one copy per waiter instead of
// one per object could otherwise fill a shared machine's disk within
// seconds. It returns when ctx ends.
func guardDisk(ctx context.Context, cancel context.CancelCauseFunc, dir string, budget, floor int64, log *slog.Logger) {
	start, err := diskFree(dir)
	if err != nil {
		log.Warn("disk guard off", "err", err)
		return
	}
	limit := max(start-budget, floor)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		free, err := diskFree(dir)
		if err == nil && free < limit {
			cancel(fmt.Errorf("disk guard: only %s free on the work dir's disk (limit %s: the bench may use %s of the %s free at its start); stopped before the disk fills",
				sizeText(free/mib*mib), sizeText(limit/mib*mib), sizeText(budget), sizeText(start/mib*mib)))
			return
		}
	}
}
