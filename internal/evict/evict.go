package evict

import (
	"context"
	"sort"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

const (
	// evictBatch is how many removals run between two fence checks.
	evictBatch = 32
	// groupCandidates bounds the candidates held in memory at once: shards
	// are visited in groups of about this many, each evicting its share.
	groupCandidates = 50000
)

// evictionLoop evicts whenever the size passes the trigger: on a wake-up
// from Added or every EvictCheckEvery. After a pass that could not reach
// the target (everything left is recent), wake-ups wait for the next tick.
func (m *Manager) evictionLoop(ctx context.Context) {
	t := time.NewTicker(m.cfg.EvictCheckEvery)
	defer t.Stop()
	var quietUntil time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-m.wake:
			if c := m.Capacity(); time.Now().Before(quietUntil) && c.UsedBytes <= c.CriticalBytes {
				continue
			}
		}
		if m.evictIfNeeded(ctx) == passFellShort {
			quietUntil = time.Now().Add(m.cfg.EvictCheckEvery)
		}
	}
}

// passResult is what evictIfNeeded did.
type passResult int

const (
	noPass passResult = iota
	passReachedTarget
	passFellShort
)

// evictIfNeeded runs one eviction pass if the size is over the trigger and
// no other instance is evicting.
func (m *Manager) evictIfNeeded(ctx context.Context) passResult {
	if c := m.Capacity(); c.MaxBytes == 0 || !c.Known || c.UsedBytes < c.TriggerBytes {
		return noPass
	}
	lock, err := m.lock(evictionLock)
	if err != nil {
		m.log.Warn("cannot take the eviction lock", "err", err)
		return noPass
	}
	if lock == nil {
		m.stats.evictionsSkipped.Add(1)
		return noPass
	}
	defer lock.Release()
	// What another evictor removed may still sit in its delta files.
	m.refreshView()
	c := m.Capacity()
	if c.UsedBytes < c.TriggerBytes {
		return noPass
	}
	result := m.evictPass(ctx, lock, c)
	// Publish what was removed before another instance looks at the size.
	if err := m.flushDeltas(); err != nil {
		m.log.Warn("cannot write size deltas after eviction", "err", err)
	}
	return result
}

// candidate is a segment, or an object's metadata without segments, that
// may be evicted.
type candidate struct {
	dir   *store.ObjectDir
	seg   *store.DiskSegment // nil: the object directory without segments
	bytes int64
	score int64
	last  int64 // Unix seconds of the latest access or write
}

// evictPass removes the lowest-scored candidates until the size is under
// the target. Shards are visited in groups from a rotating cursor, each
// group giving up its share of the excess, so memory stays bounded on a
// huge tree. The pass aborts if the lock's token changes.
func (m *Manager) evictPass(ctx context.Context, lock *store.CapacityLock, c Capacity) passResult {
	m.stats.evictionPasses.Add(1)
	need := c.UsedBytes - c.TargetBytes
	critical := c.UsedBytes > c.CriticalBytes
	recent := m.recentAccesses()
	began := time.Now()
	var freed, evicted int64
	for visited := 0; visited < store.ShardCount && freed < need; {
		cands, groupBytes := m.collectGroup(ctx, recent, &visited)
		if ctx.Err() != nil {
			return passFellShort
		}
		if visited == store.ShardCount && freed == 0 {
			// One group saw the whole tree: its walk is the freshest size.
			need = max(need, groupBytes-c.TargetBytes)
		}
		quota := need - freed
		if visited < store.ShardCount && c.UsedBytes > 0 {
			share := float64(groupBytes) / float64(c.UsedBytes)
			quota = min(quota, int64(float64(need)*share)+1)
		}
		n, bytes, ok := m.evictCandidates(lock, cands, quota, critical)
		freed += bytes
		evicted += n
		if !ok {
			m.stats.evictionsAborted.Add(1)
			m.log.Warn("eviction aborted: another instance took the eviction lock", "evicted_bytes", freed)
			return passFellShort
		}
	}
	level, result := m.log.Info, passReachedTarget
	if freed < need {
		level, result = m.log.Warn, passFellShort
	}
	level("eviction pass done", "evicted_segments", evicted, "evicted_bytes", freed, "wanted_bytes", need,
		"critical", critical, "elapsed", time.Since(began).Round(time.Millisecond))
	return result
}

// recentAccesses is every access not yet folded into sidecars: the
// journals on disk and this instance's counts in memory.
func (m *Manager) recentAccesses() map[string]objectAccess {
	recent := map[string]objectAccess{}
	if _, err := m.readJournals(recent, 0); err != nil {
		m.log.Warn("cannot read access journals; scoring without them", "err", err)
	}
	addRecords(recent, m.tracker.snapshot())
	return recent
}

// collectGroup lists the candidates of the shards from the eviction cursor
// on, until about groupCandidates are found or every shard was visited.
func (m *Manager) collectGroup(ctx context.Context, recent map[string]objectAccess, visited *int) (cands []candidate, groupBytes int64) {
	now := m.now().Unix()
	for *visited < store.ShardCount && len(cands) < groupCandidates {
		shard := m.evictCursor
		m.evictCursor = (m.evictCursor + 1) % store.ShardCount
		*visited++
		err := m.st.WalkShard(ctx, shard, func(d *store.ObjectDir) error {
			groupBytes += d.Bytes()
			cands = m.appendCandidates(cands, d, recent[d.Hash], now)
			return nil
		})
		if err != nil {
			return cands, groupBytes
		}
	}
	return cands, groupBytes
}

// appendCandidates scores the directory's segments, or the directory itself
// when it holds metadata only.
func (m *Manager) appendCandidates(cands []candidate, d *store.ObjectDir, recent objectAccess, now int64) []candidate {
	stats := objectAccess{}
	if d.Has(accessSidecarName) {
		if folded := m.readSidecar(d.Hash); folded != nil {
			stats = folded
		}
	}
	for ext, s := range recent {
		stats.add(ext, s)
	}
	if len(d.Segments) == 0 {
		if d.Meta == nil {
			return cands
		}
		s, _ := stats.strongest()
		s.Last = max(s.Last, d.Meta.ModTime.Unix())
		return append(cands, candidate{dir: d, bytes: d.Bytes(), score: m.score(s, now), last: s.Last})
	}
	for i := range d.Segments {
		seg := &d.Segments[i]
		s, _ := stats.forSegment(seg.Extent())
		s.Last = max(s.Last, seg.ModTime.Unix())
		cands = append(cands, candidate{dir: d, seg: seg, bytes: seg.Size, score: m.score(s, now), last: s.Last})
	}
	return cands
}

// score orders candidates: lowest first.
func (m *Manager) score(s accessStat, now int64) int64 {
	if m.cfg.Policy == PolicyLRU {
		return 0 // the tie-break, oldest access first, decides alone
	}
	return s.decayed(now)
}

// evictCandidates removes the lowest-scored candidates until quota bytes
// are freed, checking the fence before every batch. ok is false when the
// lock was lost.
func (m *Manager) evictCandidates(lock *store.CapacityLock, cands []candidate, quota int64, critical bool) (evicted, freed int64, ok bool) {
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score < cands[j].score
		}
		return cands[i].last < cands[j].last
	})
	now := m.now().Unix()
	minAge := int64(m.cfg.MinAge / time.Second)
	segmentsLeft := map[*store.ObjectDir]int{}
	for i, c := range cands {
		if freed >= quota {
			break
		}
		if i%evictBatch == 0 {
			if m.beforeBatch != nil {
				m.beforeBatch()
			}
			if !lock.Held() {
				return evicted, freed, false
			}
		}
		if now-c.last < minAge && !critical {
			m.stats.youngSpared.Add(1)
			continue
		}
		shard := store.ShardOf(c.dir.Hash)
		var bytes int64
		if c.seg == nil {
			bytes = m.st.PruneObjectDir(c.dir.Hash)
		} else {
			bytes = m.st.RemoveSegment(c.dir, *c.seg)
			left, seen := segmentsLeft[c.dir]
			if !seen {
				left = len(c.dir.Segments)
			}
			segmentsLeft[c.dir] = left - 1
			if left-1 == 0 {
				bytes += m.st.PruneObjectDir(c.dir.Hash)
			}
		}
		if bytes == 0 {
			continue
		}
		m.deltas.add(shard, -bytes)
		m.stats.evictedSegments.Add(1)
		m.stats.evictedBytes.Add(bytes)
		evicted++
		freed += bytes
	}
	return evicted, freed, true
}
