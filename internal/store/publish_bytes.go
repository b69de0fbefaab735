package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/s3cache/s3cache/internal/compress"
)

// trialBytes is how much of a fill is test-compressed to decide.
const trialBytes = 64 << 10

// EnableCompression makes fills of compressible objects land as LZ4
// segments, unless a fill says otherwise (SegmentWriter.SetCompression).
// Reads never depend on it: each segment says what it is.
func (s *Store) EnableCompression(on bool) { s.compression = on }

// publishBytes moves a finished fill into the object directory, compressed
// when the store compresses and the object is worth it. The temp file stays
// open (and readable) for in-process followers either way.
func (w *SegmentWriter) publishBytes(dir string, m *Meta) error {
	end := w.start + w.written
	if w.compress && w.written >= trialBytes/8 {
		sample := make([]byte, min(w.written, trialBytes))
		if _, err := w.f.ReadAt(sample, 0); err == nil &&
			compress.Worth(m.Header.Get("Content-Type"), m.Header.Get("Content-Encoding"), m.Key, sample) {
			err := w.publishCompressed(filepath.Join(dir, segmentName(m.ETag, w.start, end, compressedSuffix)))
			if err == nil {
				os.Remove(w.f.Name())
				return nil
			}
			w.s.log.Warn("cannot compress segment; storing it raw", "object", w.id, "err", err)
		}
	}
	// Raw: the block checksums go after the bytes. In-process followers
	// read only below Written, so the trailer never reaches them.
	if _, err := w.f.WriteAt(w.sums.Trailer(), w.written); err != nil {
		w.s.noteWriteFailure(err)
		os.Remove(w.f.Name())
		return fmt.Errorf("write segment checksums: %w", err)
	}
	final := filepath.Join(dir, segmentName(m.ETag, w.start, end, checkedSuffix))
	if err := w.s.publish(w.f, final, true); err != nil {
		return err
	}
	w.s.verified.markWritten(final, w.written)
	return nil
}

func (w *SegmentWriter) publishCompressed(final string) error {
	zf, err := w.s.createTemp(w.id)
	if err != nil {
		return err
	}
	defer zf.Close()
	if _, err := compress.Write(zf, w.f, w.written); err != nil {
		os.Remove(zf.Name())
		return fmt.Errorf("compress segment: %w", err)
	}
	return w.s.publish(zf, final, true)
}
