package evict

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// deltaBook adds up this instance's size changes per shard until they are
// written out.
type deltaBook struct {
	mu     sync.Mutex
	shards [store.ShardCount]int64
	total  int64
	seq    int64
}

func (b *deltaBook) add(shard int, bytes int64) {
	if shard < 0 || shard >= store.ShardCount || bytes == 0 {
		return
	}
	b.mu.Lock()
	b.shards[shard] += bytes
	b.total += bytes
	b.mu.Unlock()
}

// pending is the sum not yet written out.
func (b *deltaBook) pending() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// take empties the book, returning what it held and the next file number.
func (b *deltaBook) take() (shards [store.ShardCount]int64, seq int64, any bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, v := range b.shards {
		if v != 0 {
			any = true
			break
		}
	}
	if !any {
		return shards, 0, false
	}
	shards, b.shards, b.total = b.shards, [store.ShardCount]int64{}, 0
	b.seq++
	return shards, b.seq, true
}

// restore puts back deltas whose file could not be written.
func (b *deltaBook) restore(shards [store.ShardCount]int64) {
	for i, v := range shards {
		b.add(i, v)
	}
}

// deltaFile is v1/size/delta-<instance>-<seq>.json: one instance's size
// changes over one flush interval, by shard ("00" to "ff").
type deltaFile struct {
	Format    int              `json:"format"`
	Instance  string           `json:"instance"`
	Seq       int64            `json:"seq"`
	WrittenAt time.Time        `json:"written_at"`
	Shards    map[string]int64 `json:"shards"`
}

const (
	deltaPrefix = "delta-"
	fileFormat  = 1
)

func shardKey(shard int) string { return fmt.Sprintf("%02x", shard) }

func parseShardKey(key string) (int, bool) {
	n, err := strconv.ParseUint(key, 16, 8)
	return int(n), err == nil && len(key) == 2
}

// flushDeltas writes this instance's pending deltas as a new delta file.
func (m *Manager) flushDeltas() error {
	shards, seq, any := m.deltas.take()
	if !any {
		return nil
	}
	f := deltaFile{Format: fileFormat, Instance: m.instance, Seq: seq, WrittenAt: time.Now(), Shards: map[string]int64{}}
	for i, v := range shards {
		if v != 0 {
			f.Shards[shardKey(i)] = v
		}
	}
	if err := m.writeSeqFile(sizeArea, deltaPrefix, seq, f); err != nil {
		m.deltas.restore(shards)
		return err
	}
	m.stats.deltaFilesWritten.Add(1)
	// The view still lacks this file until the next refresh; count it there
	// now so Size does not dip meanwhile.
	m.addToView(shards)
	return nil
}

// addToView adds deltas just moved out of memory to the cached view.
func (m *Manager) addToView(shards [store.ShardCount]int64) {
	for {
		old := m.view.Load()
		v := *old
		for i, d := range shards {
			v.shards[i] += d
			v.bytes += d
		}
		if m.view.CompareAndSwap(old, &v) {
			return
		}
	}
}
