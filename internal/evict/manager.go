package evict

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// Manager does capacity management for one instance. Create it with New,
// tell the store about it (store.SizeObserver), call Touch on every hit and
// fill, and run Run for as long as the instance serves.
type Manager struct {
	cfg      Config
	st       *store.Store
	log      *slog.Logger
	instance string
	now      func() time.Time

	deltas     deltaBook
	journalSeq atomic.Int64
	tracker    *Tracker
	view       atomic.Pointer[sizeView]
	wake       chan struct{}
	stats      counters

	evictCursor int // next shard an eviction pass starts at; evictor goroutine only

	// beforeBatch, when set (tests), runs before each eviction batch.
	beforeBatch func()
}

// sizeView is the shared size as last read: state.json plus the delta files
// not merged yet, which include this instance's flushed ones.
type sizeView struct {
	bytes  int64
	shards [store.ShardCount]int64
	known  bool
}

// New prepares capacity management of st's directory. It does no I/O; Run
// starts the work.
func New(cfg Config, st *store.Store, log *slog.Logger) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m := &Manager{
		cfg:      cfg,
		st:       st,
		log:      log.With("component", "capacity"),
		instance: st.Instance(),
		now:      time.Now,
		wake:     make(chan struct{}, 1),
	}
	m.tracker = newTracker(cfg.MaxPendingTouches, func() time.Time { return m.now() })
	m.view.Store(&sizeView{})
	return m, nil
}

// Run does the background work until ctx ends: flushing and merging size
// deltas and accesses, the startup and rolling scans, eviction and sweeps.
// Before returning it writes out what is still counted in memory.
func (m *Manager) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { m.accountingLoop(ctx) })
	wg.Go(func() { m.startupScan(ctx) })
	wg.Go(func() { m.evictionLoop(ctx) })
	wg.Go(func() { m.sweepLoop(ctx) })
	wg.Wait()
	if err := m.flushDeltas(); err != nil {
		m.log.Warn("cannot write the last size deltas", "err", err)
	}
	if err := m.flushTouches(); err != nil {
		m.log.Warn("cannot write the last access counts", "err", err)
	}
}

// Added counts bytes the store wrote into an object directory of the shard.
// It implements store.SizeObserver.
func (m *Manager) Added(shard int, bytes int64) {
	m.deltas.add(shard, bytes)
	if c := m.Capacity(); c.Known && c.MaxBytes > 0 && c.UsedBytes >= c.TriggerBytes {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// ceilingPercent is the disk use a new fill may not push the cache past. A
// fill that would is relayed without being cached while eviction catches
// up, so the size stays within 5% of max_cache_size however fast misses
// come (eviction alone trails them by a pass).
const ceilingPercent = 105

// Admit reports whether a new fill or upload of n bytes may be cached now;
// when it may not, it wakes the evictor. It implements store.SizeObserver
// (the store asks it in WritesFailing).
func (m *Manager) Admit(n int64) bool {
	c := m.Capacity()
	if !c.Known || c.MaxBytes == 0 || c.UsedBytes+n <= percentOf(c.MaxBytes, ceilingPercent) {
		return true
	}
	m.stats.fillsRefused.Add(1)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return false
}

// Removed counts bytes the store removed from an object directory of the
// shard. It implements store.SizeObserver.
func (m *Manager) Removed(shard int, bytes int64) { m.deltas.add(shard, -bytes) }

var _ store.SizeObserver = (*Manager)(nil)

// Touch records an access to the segment seg of object id (its extent as
// stored, e.g. store.Segment's Start and End) that served bytes.
func (m *Manager) Touch(id store.ObjectID, seg store.Extent, bytes int64) {
	m.tracker.Touch(id, seg, bytes)
}

// Hold marks the segment as being read until release is called: it counts
// as accessed now at every flush, so no instance evicts it meanwhile.
func (m *Manager) Hold(id store.ObjectID, seg store.Extent) (release func()) {
	return m.tracker.Hold(id, seg)
}

// Tracker is this instance's access counter.
func (m *Manager) Tracker() *Tracker { return m.tracker }

// Size is the shared directory's size in bytes; ok is false until every
// shard has been measured once (a fresh directory takes a moment, an
// existing one with state.json from earlier runs none).
func (m *Manager) Size() (bytes int64, ok bool) {
	v := m.view.Load()
	return max(v.bytes+m.deltas.pending(), 0), v.known
}

// Capacity is the size with its thresholds.
func (m *Manager) Capacity() Capacity {
	used, known := m.Size()
	max := m.cfg.MaxBytes
	return Capacity{
		MaxBytes:      max,
		TriggerBytes:  percentOf(max, m.cfg.TriggerPercent),
		TargetBytes:   percentOf(max, m.cfg.TargetPercent),
		CriticalBytes: percentOf(max, m.cfg.CriticalPercent),
		UsedBytes:     used,
		Known:         known,
	}
}

// accountingLoop writes this instance's deltas and accesses out every
// FlushEvery and, holding the accounting lock, merges everyone's, folds
// accesses and runs the rolling scan.
func (m *Manager) accountingLoop(ctx context.Context) {
	m.refreshView()
	t := time.NewTicker(m.cfg.FlushEvery)
	defer t.Stop()
	var lastFold, lastScan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.flushDeltas(); err != nil {
			m.log.Warn("cannot write size deltas; keeping them for the next try", "err", err)
		}
		if err := m.flushTouches(); err != nil {
			m.log.Warn("cannot write access counts; keeping them for the next try", "err", err)
		}
		now := time.Now()
		fold := now.Sub(lastFold) >= m.cfg.FoldEvery
		scan := now.Sub(lastScan) >= m.cfg.ScanEvery && m.stats.startupScanDone.Load()
		did, err := m.accountingCycle(ctx, fold, scan)
		if err != nil && ctx.Err() == nil {
			m.log.Warn("capacity accounting cycle failed", "err", err)
		}
		if did && fold {
			lastFold = now
		}
		if did && scan {
			lastScan = now
		}
		m.refreshView()
	}
}

// accountingCycle takes the accounting lock and merges deltas, then folds
// accesses and scans the next shards when asked. did is false when another
// instance holds the lock.
func (m *Manager) accountingCycle(ctx context.Context, fold, scan bool) (did bool, err error) {
	lock, err := m.lock(accountingLock)
	if err != nil || lock == nil {
		return false, err
	}
	defer lock.Release()
	if err := m.mergeDeltas(lock); err != nil {
		return true, err
	}
	if fold {
		if err := m.foldAccesses(ctx, lock); err != nil {
			return true, err
		}
	}
	if scan {
		return true, m.rollingScan(ctx, lock)
	}
	return true, nil
}

const (
	accountingLock = "accounting"
	evictionLock   = "eviction"
)

// lock takes a capacity lock; nil, nil when another instance holds it.
func (m *Manager) lock(name string) (*store.CapacityLock, error) {
	l, err := m.st.LockCapacity(name)
	if errors.Is(err, store.ErrLocked) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("take the %s lock: %w", name, err)
	}
	if l.Stolen() {
		m.stats.lockSteals.Add(1)
		m.log.Warn("took over a capacity lock from an instance that stopped", "lock", name)
	}
	return l, nil
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
