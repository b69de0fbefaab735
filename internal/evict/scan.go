package evict

import (
	"context"
	"errors"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// recentScan is how recently another instance must have measured a shard
// for this instance's startup scan to skip it.
const recentScan = 10 * time.Minute

// startupScan measures, one shard at a time and in the background, every
// shard not measured in the last recentScan, so several instances starting
// together share the work and a restart on a huge tree costs no full walk.
// It logs its progress every progressEvery.
func (m *Manager) startupScan(ctx context.Context) {
	const progressEvery = 10 * time.Second
	defer m.stats.startupScanDone.Store(true)
	began := time.Now()
	lastLog := began
	var bytes int64
	scanned := 0
	for shard := 0; shard < store.ShardCount; {
		if ctx.Err() != nil {
			return
		}
		lock, err := m.lock(accountingLock)
		if err != nil {
			m.log.Warn("startup scan: cannot take the accounting lock", "err", err)
		}
		if lock == nil {
			if !sleep(ctx, 200*time.Millisecond) {
				return
			}
			continue
		}
		st, _, err := m.readState()
		if err == nil && time.Since(time.Unix(st.ScannedAt[shard], 0)) < recentScan {
			lock.Release()
			shard++
			continue
		}
		measured, err := m.scanShard(ctx, lock, shard)
		lock.Release()
		if err != nil {
			if ctx.Err() == nil {
				m.log.Warn("startup scan: shard failed", "shard", shardKey(shard), "err", err)
			}
			if !sleep(ctx, time.Second) {
				return
			}
		}
		bytes += measured
		scanned++
		shard++
		if time.Since(lastLog) >= progressEvery {
			lastLog = time.Now()
			m.log.Info("capacity startup scan in progress", "shards_done", shard, "shards_total", store.ShardCount,
				"bytes_measured", bytes, "elapsed", time.Since(began).Round(time.Second))
		}
	}
	m.refreshView()
	size, _ := m.Size()
	m.log.Info("capacity startup scan done", "shards_scanned", scanned, "size_bytes", size,
		"elapsed", time.Since(began).Round(time.Millisecond))
}

// rollingScan measures the next ShardsPerScan shards after the shared
// cursor.
func (m *Manager) rollingScan(ctx context.Context, lock *store.CapacityLock) error {
	st, dir, err := m.readState()
	if err != nil {
		return err
	}
	cursor := st.ScanCursor
	for range m.cfg.ShardsPerScan {
		shard := cursor % store.ShardCount
		if _, err := m.scanShard(ctx, lock, shard); err != nil {
			return err
		}
		cursor = shard + 1
	}
	if st, _, err = m.readState(); err != nil {
		return err
	}
	st.ScanCursor = cursor % store.ShardCount
	return m.writeState(dir, st, lock)
}

// scanShard measures one shard, tidying it on the way, and records the
// measurement in state.json. Deltas already merged for the shard are
// replaced by the measurement; deltas written meanwhile add to it.
func (m *Manager) scanShard(ctx context.Context, lock *store.CapacityLock, shard int) (int64, error) {
	// Merge first, so the deltas the measurement replaces are the ones
	// that happened before it.
	if err := m.flushDeltas(); err != nil {
		return 0, err
	}
	if err := m.mergeDeltas(lock); err != nil {
		return 0, err
	}
	now := m.now()
	var measured int64
	err := m.st.WalkShard(ctx, shard, func(d *store.ObjectDir) error {
		measured += m.tidy(d, now)
		return nil
	})
	if err != nil {
		return 0, err
	}
	st, dir, err := m.readState()
	if err != nil {
		return 0, err
	}
	if !lock.Held() {
		return 0, errors.New("accounting lock lost during a scan")
	}
	drift := measured - st.Shards[shard]
	m.stats.scanDrift.Add(abs(drift))
	if st.ScannedAt[shard] != 0 && abs(drift) > 1<<20 && abs(drift) > st.Shards[shard]/20 {
		m.log.Info("size scan corrected a shard", "shard", shardKey(shard), "accounted", st.Shards[shard], "measured", measured)
	}
	st.Shards[shard] = measured
	st.ScannedAt[shard] = now.Unix()
	m.stats.shardScans.Add(1)
	return measured, m.writeState(dir, st, lock)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
