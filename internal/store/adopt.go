package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// AdoptedFile is an existing file on the cache's file system that holds
// the object bytes [Start, Start+Size), followed by their block checksums
// (BlockSums.Trailer) when Checked.
type AdoptedFile struct {
	Path        string
	Start, Size int64
	Checked     bool
}

// Adopt makes files written elsewhere in the cache directory (staged
// multipart parts) the segments of the version m describes, by rename, and
// m its metadata. As for fills, a change recorded after startedAt wins; the
// files are then left where they are.
func (s *Store) Adopt(m *Meta, files []AdoptedFile, startedAt time.Time) error {
	id := m.ID()
	cur, err := s.ReadMeta(id)
	if err != nil && !errors.Is(err, ErrNotCached) {
		cur = nil
	}
	if cur != nil && supersedes(cur, m.ETag, startedAt) {
		return ErrSuperseded
	}
	dir := s.objectDir(id)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("adopt: %w", err)
	}
	for _, f := range files {
		suffix := rawSuffix
		if f.Checked {
			suffix = checkedSuffix
		}
		final := filepath.Join(dir, segmentName(m.ETag, f.Start, f.Start+f.Size, suffix))
		old := fileSize(final)
		if err := os.Rename(f.Path, final); err != nil {
			return fmt.Errorf("adopt %s: %w", f.Path, err)
		}
		noteWritten(s.sizes, final, old)
	}
	if err := s.WriteMeta(m); err != nil {
		return err
	}
	s.removeSegmentsExcept(dir, m.ETag)
	s.changed(id)
	return nil
}
