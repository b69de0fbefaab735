package evict

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/s3cache/s3cache/internal/store"
)

// accessSidecarName is the per-object file holding its segments' folded
// access counts. Only the accounting lock holder writes it.
const accessSidecarName = "access.json"

// maxFoldFiles bounds the journals one fold reads, and so its memory.
const maxFoldFiles = 256

// maxCount caps a counter so sums never overflow.
const maxCount = 1 << 40

// accessStat is a segment's access count as of its latest access.
type accessStat struct {
	Count int64 `json:"n"`
	Last  int64 `json:"t"` // Unix seconds
}

// decayed is the count halved once per whole idle hour up to now: the
// TinyLFU-like frequency that ages.
func (a accessStat) decayed(now int64) int64 {
	idleHours := (now - a.Last) / 3600
	switch {
	case idleHours <= 0:
		return a.Count
	case idleHours >= 63:
		return 0
	}
	return a.Count >> idleHours
}

// add folds newer accesses in: the old count decays to the new access time.
func (a accessStat) add(b accessStat) accessStat {
	if b.Last < a.Last {
		a, b = b, a
	}
	return accessStat{Count: min(a.decayed(b.Last)+b.Count, maxCount), Last: b.Last}
}

// accessSidecar is an object's access.json: stats by segment "start-end".
type accessSidecar struct {
	Format   int                   `json:"format"`
	Segments map[string]accessStat `json:"segments"`
}

func extentKey(start, end int64) string {
	return strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)
}

func parseExtentKey(key string) (start, end int64, ok bool) {
	a, b, ok := strings.Cut(key, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	return start, end, err1 == nil && err2 == nil
}

// objectAccess is what is known of one object's accesses, by extent.
type objectAccess map[store.Extent]accessStat

func (o objectAccess) add(ext store.Extent, s accessStat) {
	if cur, ok := o[ext]; ok {
		s = cur.add(s)
	}
	o[ext] = s
}

// forSegment is the segment's stat: its own, or the strongest of the
// extents overlapping it (a caller may touch the range it served rather
// than the segment's exact extent).
func (o objectAccess) forSegment(seg store.Extent) (accessStat, bool) {
	if s, ok := o[seg]; ok {
		return s, true
	}
	var best accessStat
	found := false
	for ext, s := range o {
		if ext.Start < seg.End && seg.Start < ext.End {
			best.Count = max(best.Count, s.Count)
			best.Last = max(best.Last, s.Last)
			found = true
		}
	}
	return best, found
}

// strongest is the object's best stat, for entries without segments.
func (o objectAccess) strongest() (accessStat, bool) {
	var best accessStat
	for _, s := range o {
		best.Count = max(best.Count, s.Count)
		best.Last = max(best.Last, s.Last)
	}
	return best, len(o) > 0
}

// readSidecar returns the object's folded stats; nil when it has none.
func (m *Manager) readSidecar(hash string) objectAccess {
	data, err := m.st.ReadSidecar(hash, accessSidecarName)
	if err != nil {
		return nil
	}
	var sc accessSidecar
	if json.Unmarshal(data, &sc) != nil {
		return nil
	}
	out := make(objectAccess, len(sc.Segments))
	for key, s := range sc.Segments {
		if start, end, ok := parseExtentKey(key); ok {
			out[store.Extent{Start: start, End: end}] = s
		}
	}
	return out
}

// readJournals adds the records of up to limit journal files to into and
// returns the names read.
func (m *Manager) readJournals(into map[string]objectAccess, limit int) ([]string, error) {
	dir, err := m.st.AreaDir(accessArea)
	if err != nil {
		return nil, err
	}
	names, err := listNames(dir, journalPrefix, limit)
	if err != nil {
		return nil, err
	}
	var read []string
	for _, name := range names {
		var j accessJournal
		if err := readJSON(filepath.Join(dir, name), &j); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				m.log.Warn("skipping unreadable access journal", "file", name, "err", err)
				read = append(read, name) // never readable: let it go
			}
			continue
		}
		addRecords(into, j.Touches)
		read = append(read, name)
	}
	return read, nil
}

func addRecords(into map[string]objectAccess, recs []touchRecord) {
	for _, r := range recs {
		o := into[r.Hash]
		if o == nil {
			o = objectAccess{}
			into[r.Hash] = o
		}
		o.add(store.Extent{Start: r.Start, End: r.End}, accessStat{Count: r.Count, Last: r.Last})
	}
}

// foldAccesses moves the access journals into the objects' sidecars, then
// deletes them. The caller holds the accounting lock.
func (m *Manager) foldAccesses(ctx context.Context, lock *store.CapacityLock) error {
	fresh := map[string]objectAccess{}
	names, err := m.readJournals(fresh, maxFoldFiles)
	if err != nil || len(names) == 0 {
		return err
	}
	now := m.now().Unix()
	failed, lastErr := 0, error(nil)
	for hash, recent := range fresh {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !lock.Held() {
			return errors.New("accounting lock lost during a fold")
		}
		if err := m.foldObject(hash, recent, now); err != nil {
			failed++
			lastErr = err
		}
	}
	if failed > 0 {
		m.log.Warn("some access sidecars could not be written", "count", failed, "err", lastErr)
	}
	dir, err := m.st.AreaDir(accessArea)
	if err != nil {
		return err
	}
	for _, name := range names {
		if os.Remove(filepath.Join(dir, name)) == nil {
			m.stats.accessFilesFolded.Add(1)
		}
	}
	return nil
}

// sidecarForgetAfter drops a segment's stat once it has decayed to nothing.
const sidecarForgetAfter = 24 * 3600

// foldObject merges recent accesses into one object's sidecar. An object
// that is gone (evicted, never stored) gets none.
func (m *Manager) foldObject(hash string, recent objectAccess, now int64) error {
	stats := m.readSidecar(hash)
	if stats == nil {
		stats = objectAccess{}
	}
	for ext, s := range recent {
		stats.add(ext, s)
	}
	sc := accessSidecar{Format: fileFormat, Segments: make(map[string]accessStat, len(stats))}
	for ext, s := range stats {
		if s.decayed(now) > 0 || now-s.Last < sidecarForgetAfter {
			sc.Segments[extentKey(ext.Start, ext.End)] = s
		}
	}
	data, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("encode access sidecar: %w", err)
	}
	grown, err := m.st.WriteSidecar(hash, accessSidecarName, data)
	if errors.Is(err, store.ErrNotCached) {
		return nil
	}
	if err != nil {
		return err
	}
	m.deltas.add(store.ShardOf(hash), grown)
	return nil
}
