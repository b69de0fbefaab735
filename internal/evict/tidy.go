package evict

import (
	"errors"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// staleSegmentAge spares a segment of another ETag just published by a fill
// whose meta.json is about to follow.
const staleSegmentAge = time.Minute

// tidy removes what a scan finds abandoned in an object directory and
// returns the bytes left in it:
//   - segments without meta.json (a writer died in between) once every file
//     is older than LeftoverAge, and emptied directories;
//   - tombstones older than LeftoverAge: they only need to outlive fills in
//     flight;
//   - segments of another ETag than meta.json's;
//   - in active-expiry mode, objects whose data is older than GetTTL.
//
// meta.json is read only when one of these may apply, so a scan of a
// healthy tree in lazy mode reads no file.
func (m *Manager) tidy(d *store.ObjectDir, now time.Time) int64 {
	old := func(t time.Time) bool { return now.Sub(t) > m.cfg.LeftoverAge }
	if d.Meta == nil {
		if allFilesOlder(d, old) {
			m.stats.orphans.Add(1)
			m.st.RemoveObjectDir(d)
			return 0
		}
		return d.Bytes()
	}
	if len(d.Segments) > 0 && !m.cfg.ActiveExpiry && !mixedTags(d) {
		return d.Bytes()
	}
	meta, err := m.st.DirMeta(d)
	if err != nil {
		if errors.Is(err, store.ErrCorrupt) && allFilesOlder(d, old) {
			m.stats.orphans.Add(1)
			m.st.RemoveObjectDir(d)
			return 0
		}
		return d.Bytes()
	}
	left := d.Bytes()
	for _, seg := range d.StaleSegments(meta) {
		if now.Sub(seg.ModTime) > staleSegmentAge {
			left -= m.st.RemoveSegment(d, seg)
		}
	}
	switch {
	case meta.Tombstone() && old(meta.InvalidatedAt) && old(d.Meta.ModTime):
		m.stats.tombstones.Add(1)
	case !meta.Tombstone() && m.cfg.ActiveExpiry && now.Sub(dataValidatedAt(meta)) > m.cfg.GetTTL:
		m.stats.expired.Add(1)
	default:
		return left
	}
	if fresh, err := m.st.ListObjectDir(d.Hash); err == nil {
		m.st.RemoveObjectDir(fresh)
	}
	return 0
}

// dataValidatedAt is when S3 last confirmed the object's bytes.
func dataValidatedAt(meta *store.Meta) time.Time {
	if meta.ValidatedAt.IsZero() {
		return meta.StoredAt
	}
	return meta.ValidatedAt
}

func allFilesOlder(d *store.ObjectDir, old func(time.Time) bool) bool {
	if !old(d.ModTime) {
		return false
	}
	for _, seg := range d.Segments {
		if !old(seg.ModTime) {
			return false
		}
	}
	for _, f := range d.Others {
		if !old(f.ModTime) {
			return false
		}
	}
	return d.Meta == nil || old(d.Meta.ModTime)
}

// mixedTags reports whether the directory holds segments of several ETags.
func mixedTags(d *store.ObjectDir) bool {
	if len(d.Segments) < 2 {
		return false
	}
	for _, seg := range d.Segments[1:] {
		if seg.Tag != d.Segments[0].Tag {
			return true
		}
	}
	return false
}
