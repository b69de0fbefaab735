package evict

import "sync/atomic"

// Stats are counters since the Manager was created, for metrics.
type Stats struct {
	SizeBytes int64 `json:"size_bytes"`
	SizeKnown bool  `json:"size_known"`

	EvictionPasses      int64 `json:"eviction_passes"`
	EvictedSegments     int64 `json:"evicted_segments"`
	EvictedBytes        int64 `json:"evicted_bytes"`
	EvictionsSkipped    int64 `json:"evictions_skipped_lock_held"`
	EvictionsAborted    int64 `json:"evictions_aborted_fence_changed"`
	YoungSegmentsSpared int64 `json:"young_segments_spared"`

	ShardScans      int64 `json:"shard_scans"`
	StartupScanDone bool  `json:"startup_scan_done"`
	ScanDriftBytes  int64 `json:"scan_drift_bytes"` // sum of |measured - accounted|

	ExpiredObjects    int64 `json:"expired_objects"`
	TombstonesRemoved int64 `json:"tombstones_removed"`
	OrphansRemoved    int64 `json:"orphans_removed"`
	StaleLocksRemoved int64 `json:"stale_locks_removed"`

	DeltaFilesWritten int64 `json:"delta_files_written"`
	DeltaFilesMerged  int64 `json:"delta_files_merged"`
	AccessFilesFolded int64 `json:"access_files_folded"`
	TouchedBytes      int64 `json:"touched_bytes"`
	TouchesDropped    int64 `json:"touches_dropped"`
	LockSteals        int64 `json:"lock_steals"`
	// FillsRefused counts fills relayed without caching because they would
	// have taken the cache past 105% of max_cache_size.
	FillsRefused int64 `json:"fills_refused"`
}

type counters struct {
	evictionPasses, evictedSegments, evictedBytes, evictionsSkipped, evictionsAborted, youngSpared, fillsRefused atomic.Int64
	shardScans, scanDrift                                                                                        atomic.Int64
	startupScanDone                                                                                              atomic.Bool
	expired, tombstones, orphans, staleLocks                                                                     atomic.Int64
	deltaFilesWritten, deltaFilesMerged, accessFilesFolded, lockSteals                                           atomic.Int64
}

// Stats returns a snapshot of the counters.
func (m *Manager) Stats() Stats {
	c := &m.stats
	size, known := m.Size()
	return Stats{
		SizeBytes: size, SizeKnown: known,
		EvictionPasses: c.evictionPasses.Load(), EvictedSegments: c.evictedSegments.Load(),
		EvictedBytes: c.evictedBytes.Load(), EvictionsSkipped: c.evictionsSkipped.Load(),
		EvictionsAborted: c.evictionsAborted.Load(), YoungSegmentsSpared: c.youngSpared.Load(),
		ShardScans: c.shardScans.Load(), StartupScanDone: c.startupScanDone.Load(), ScanDriftBytes: c.scanDrift.Load(),
		ExpiredObjects: c.expired.Load(), TombstonesRemoved: c.tombstones.Load(), OrphansRemoved: c.orphans.Load(),
		StaleLocksRemoved: c.staleLocks.Load(),
		DeltaFilesWritten: c.deltaFilesWritten.Load(), DeltaFilesMerged: c.deltaFilesMerged.Load(),
		AccessFilesFolded: c.accessFilesFolded.Load(), TouchedBytes: m.tracker.touchedBytes.Load(), TouchesDropped: m.tracker.dropped.Load(),
		LockSteals: c.lockSteals.Load(), FillsRefused: c.fillsRefused.Load(),
	}
}
