package evict

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// sizeState is v1/size/state.json, the merged size of the shared directory.
// Only the holder of the accounting lock writes it.
type sizeState struct {
	Format int `json:"format"`
	// Shards is the bytes under each objects/<xx>/; Total their sum.
	Shards [store.ShardCount]int64 `json:"shards"`
	Total  int64                   `json:"total"`
	// ScannedAt is when each shard was last measured (Unix seconds, 0:
	// never). The size is known once every shard has been measured.
	ScannedAt  [store.ShardCount]int64 `json:"scanned_at"`
	ScanCursor int                     `json:"scan_cursor"`
	// Merged names the delta files of the last merges: still present, they
	// are deleted without being counted again.
	Merged    []string  `json:"merged,omitempty"`
	Merges    int64     `json:"merges"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

const (
	sizeArea      = "size"
	stateName     = "state.json"
	maxMergeFiles = 4096
)

func (s *sizeState) known() bool {
	return !slices.Contains(s.ScannedAt[:], 0)
}

func (s *sizeState) recount() {
	s.Total = 0
	for i, v := range s.Shards {
		if v < 0 {
			s.Shards[i] = 0 // the safe direction: deltas can only be late
		}
		s.Total += s.Shards[i]
	}
}

// readState returns state.json, an empty state when there is none.
func (m *Manager) readState() (*sizeState, string, error) {
	dir, err := m.st.AreaDir(sizeArea)
	if err != nil {
		return nil, "", err
	}
	st := &sizeState{Format: fileFormat}
	err = readJSON(filepath.Join(dir, stateName), st)
	if errors.Is(err, fs.ErrNotExist) {
		return &sizeState{Format: fileFormat}, dir, nil
	}
	if err != nil {
		m.log.Warn("size state unreadable; rebuilding it by scans", "err", err)
		return &sizeState{Format: fileFormat}, dir, nil
	}
	if st.Format != fileFormat {
		return nil, "", fmt.Errorf("size state format %d, want %d", st.Format, fileFormat)
	}
	return st, dir, nil
}

// writeState replaces state.json, unless the lock was lost meanwhile.
func (m *Manager) writeState(dir string, st *sizeState, lock *store.CapacityLock) error {
	if !lock.Held() {
		return errors.New("accounting lock lost; not writing the size state")
	}
	st.recount()
	st.UpdatedAt, st.UpdatedBy = time.Now(), m.instance
	return writeJSONAtomic(dir, stateName, st)
}

// mergeDeltas adds every delta file to state.json and deletes the files.
func (m *Manager) mergeDeltas(lock *store.CapacityLock) error {
	st, dir, err := m.readState()
	if err != nil {
		return err
	}
	names, err := listNames(dir, deltaPrefix, maxMergeFiles)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	counted := make(map[string]bool, len(st.Merged))
	for _, n := range st.Merged {
		counted[n] = true
	}
	var merged []string
	for _, name := range names {
		if counted[name] {
			merged = append(merged, name) // counted by a merger that died before deleting
			continue
		}
		var d deltaFile
		if err := readJSON(filepath.Join(dir, name), &d); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				m.log.Warn("skipping unreadable size delta", "file", name, "err", err)
			}
			continue
		}
		for key, v := range d.Shards {
			if shard, ok := parseShardKey(key); ok {
				st.Shards[shard] += v
			}
		}
		merged = append(merged, name)
	}
	st.Merged = merged
	st.Merges++
	if err := m.writeState(dir, st, lock); err != nil {
		return err
	}
	var left []string
	for _, name := range merged {
		if err := os.Remove(filepath.Join(dir, name)); err == nil || errors.Is(err, fs.ErrNotExist) {
			m.stats.deltaFilesMerged.Add(1)
		} else {
			left = append(left, name)
		}
	}
	if len(left) > 0 {
		st.Merged = left
		return m.writeState(dir, st, lock)
	}
	return nil
}

// refreshView reads the shared size: state.json plus the delta files not
// merged yet.
func (m *Manager) refreshView() {
	st, dir, err := m.readState()
	if err != nil {
		m.log.Warn("cannot read the size state", "err", err)
		return
	}
	v := &sizeView{shards: st.Shards, known: st.known()}
	names, _ := listNames(dir, deltaPrefix, maxMergeFiles)
	counted := make(map[string]bool, len(st.Merged))
	for _, n := range st.Merged {
		counted[n] = true
	}
	for _, name := range names {
		var d deltaFile
		if counted[name] || readJSON(filepath.Join(dir, name), &d) != nil {
			continue
		}
		for key, val := range d.Shards {
			if shard, ok := parseShardKey(key); ok {
				v.shards[shard] += val
			}
		}
	}
	for i := range v.shards {
		v.shards[i] = max(v.shards[i], 0)
		v.bytes += v.shards[i]
	}
	m.view.Store(v)
}
