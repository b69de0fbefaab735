package evict

import (
	"context"
	"time"
)

// sweepLoop removes, at start and every SweepEvery, what crashed writers
// leave outside the object directories: temp files, fill locks whose owner
// stopped, and half-written capacity files. (Tombstones and orphaned
// segments inside object directories go with the scans.)
func (m *Manager) sweepLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.SweepEvery)
	defer t.Stop()
	for {
		m.sweep()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (m *Manager) sweep() {
	m.st.SweepTemps()
	if n := m.st.SweepLocks(m.cfg.LeftoverAge); n > 0 {
		m.stats.staleLocks.Add(int64(n))
		m.log.Info("removed abandoned fill locks", "count", n)
	}
	for _, area := range []string{sizeArea, accessArea} {
		if dir, err := m.st.AreaDir(area); err == nil {
			removeOldTemps(dir, m.cfg.LeftoverAge)
		}
	}
}
