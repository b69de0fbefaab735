package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/s3cache/s3cache/internal/compress"
)

// Segment is a cached byte range [Start, End) of one object version.
type Segment struct {
	Start, End int64
	// Compressed segments are LZ4 frames (see internal/compress); raw ones
	// hold the bytes as they are, followed by block checksums when
	// Checked (see crc.go). Unchecked raw segments can be sent with
	// sendfile.
	Compressed bool
	Checked    bool
	path       string
}

// Segment files end in .seg (raw), .crc (raw with block checksums) or .lz4
// (compressed).
const (
	rawSuffix        = ".seg"
	checkedSuffix    = ".crc"
	compressedSuffix = ".lz4"
)

var segmentSuffixes = []string{rawSuffix, checkedSuffix, compressedSuffix}

// Entry is a cached object version: its metadata and the segments stored
// under its ETag, sorted by Start.
type Entry struct {
	Meta     *Meta
	Segments []Segment
}

// Covering returns a segment holding all of [start, end), if one exists.
func (e *Entry) Covering(start, end int64) (Segment, bool) {
	for _, seg := range e.Segments {
		if seg.Start <= start && end <= seg.End {
			return seg, true
		}
	}
	return Segment{}, false
}

// etagTag is the file-name prefix tying a segment to an ETag.
func etagTag(etag string) string {
	sum := sha256.Sum256([]byte(etag))
	return hex.EncodeToString(sum[:8])
}

// segmentName is the file name of [start, end) of etag's bytes; suffix is
// one of segmentSuffixes.
func segmentName(etag string, start, end int64, suffix string) string {
	return etagTag(etag) + "." + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10) + suffix
}

// segmentSuffix returns the segment suffix name ends in, or "".
func segmentSuffix(name string) string {
	for _, s := range segmentSuffixes {
		if strings.HasSuffix(name, s) {
			return s
		}
	}
	return ""
}

func isSegmentFile(name string) bool { return segmentSuffix(name) != "" }

// parseSegmentName reads "<tag>.<start>-<end>.seg" (or .crc, .lz4).
func parseSegmentName(name, tag string) (start, end int64, ok bool) {
	rest, ok := strings.CutPrefix(name, tag+".")
	suffix := segmentSuffix(name)
	if !ok || suffix == "" {
		return 0, 0, false
	}
	rest = strings.TrimSuffix(rest, suffix)
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start {
		return 0, 0, false
	}
	return start, end, true
}

// Lookup returns the cached object version, ErrNotCached when the store has
// no metadata for it or only a tombstone.
func (s *Store) Lookup(id ObjectID) (*Entry, error) {
	dir := s.objectDir(id)
	m, err := s.readMetaFile(filepath.Join(dir, "meta.json"), id)
	if err != nil {
		return nil, err
	}
	if m.Tombstone() || s.invalidatedSince(id, m) {
		return nil, ErrNotCached
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list cached segments: %w", err)
	}
	e := &Entry{Meta: m}
	tag := etagTag(m.ETag)
	for _, de := range entries {
		start, end, ok := parseSegmentName(de.Name(), tag)
		if ok && end <= m.Size {
			suffix := segmentSuffix(de.Name())
			e.Segments = append(e.Segments, Segment{Start: start, End: end,
				Compressed: suffix == compressedSuffix, Checked: suffix == checkedSuffix, path: filepath.Join(dir, de.Name())})
		}
	}
	sort.Slice(e.Segments, func(i, j int) bool { return e.Segments[i].Start < e.Segments[j].Start })
	return e, nil
}

// ErrCorrupt means a cached file is not what its name promises.
var ErrCorrupt = errors.New("store: corrupt segment")

// SegmentFile is an open segment.
type SegmentFile struct {
	f *os.File
	z *compress.Reader // compressed segments
	c *checkedReader   // raw segments with block checksums
}

// RawRange returns the file for sendfile of the object bytes [off, off+n)
// (counted from the segment's start, at the same file offsets): for an
// unchecked raw segment, or a checked one whose blocks there all passed
// their checksums in this process (verified.go). ok is false otherwise;
// read through ReadAt or WriteRangeTo then, which check as they go.
func (sf *SegmentFile) RawRange(off, n int64) (*os.File, bool) {
	switch {
	case sf.z != nil:
		return nil, false
	case sf.c == nil:
		return sf.f, true
	case n <= 0 || off < 0 || off+n > sf.c.n:
		return nil, false
	}
	return sf.f, sf.c.seen.all(off/crcBlock, (off+n-1)/crcBlock+1)
}

// ReadAt reads object bytes at off, counted from the segment's start.
// Compressed frames and checked blocks are verified as they are read; a
// mismatch is an error wrapping ErrCorrupt.
func (sf *SegmentFile) ReadAt(p []byte, off int64) (int, error) {
	switch {
	case sf.z != nil:
		n, err := sf.z.ReadAt(p, off)
		if errors.Is(err, compress.ErrCorrupt) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return n, err
	case sf.c != nil:
		return sf.c.ReadAt(p, off)
	}
	return sf.f.ReadAt(p, off)
}

// Checked reports whether reads verify block checksums of a raw segment;
// WriteRangeTo then serves them without an extra copy.
func (sf *SegmentFile) Checked() bool { return sf.c != nil }

// WriteRangeTo writes n object bytes from off (counted from the segment's
// start) of a checked raw segment to w, each block verified first. A
// failure of w is a *WriteError; a checksum mismatch wraps ErrCorrupt.
func (sf *SegmentFile) WriteRangeTo(w io.Writer, off, n int64) (int64, error) {
	if sf.c == nil || off < 0 || off+n > sf.c.n {
		return 0, fmt.Errorf("write cached segment range %d+%d: not a checked segment holding it", off, n)
	}
	return sf.c.writeTo(w, off, n)
}

// Close closes the file.
func (sf *SegmentFile) Close() error {
	if sf.c != nil {
		sf.c.release()
	}
	return sf.f.Close()
}

// OpenSegment opens seg for reading. A file that fails its checks (a raw
// file of the wrong size, a compressed file with a bad footer or index) is
// removed and reported as ErrCorrupt, so it is fetched again.
func (s *Store) OpenSegment(seg Segment) (*SegmentFile, error) {
	f, err := os.Open(seg.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotCached
		}
		return nil, fmt.Errorf("open cached segment: %w", err)
	}
	if seg.Compressed {
		z, err := compress.Open(f, seg.End-seg.Start)
		if err != nil {
			f.Close()
			s.DropCorrupt(seg, err)
			return nil, ErrCorrupt
		}
		return &SegmentFile{f: f, z: z}, nil
	}
	if seg.Checked {
		n := seg.End - seg.Start
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("stat cached segment: %w", err)
		}
		seen := s.verified.bits(versionOf(seg.path, info), n)
		var sums []uint32
		switch {
		case info.Size() != n+ChecksumTrailerSize(n):
			err = fmt.Errorf("%w: size %d, want %d", ErrCorrupt, info.Size(), n+ChecksumTrailerSize(n))
		case !seen.all(0, crcBlocks(n)):
			// Blocks left to check: their sums are needed (a segment
			// fully checked already is served without reading them).
			sums, err = readCRCTable(f, n)
		}
		if err != nil {
			f.Close()
			s.DropCorrupt(seg, err)
			return nil, ErrCorrupt
		}
		return &SegmentFile{f: f, c: &checkedReader{f: f, n: n, sums: sums, seen: seen}}, nil
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat cached segment: %w", err)
	}
	if info.Size() != seg.End-seg.Start {
		f.Close()
		s.DropCorrupt(seg, fmt.Errorf("size %d, want %d", info.Size(), seg.End-seg.Start))
		return nil, ErrCorrupt
	}
	return &SegmentFile{f: f}, nil
}

// DropCorrupt removes a segment that failed a check, so it is refetched.
func (s *Store) DropCorrupt(seg Segment, why error) {
	removeCounted(s.sizes, seg.path)
	s.log.Warn("removed corrupt cached segment", "file", seg.path, "err", why)
}

// ErrSuperseded means a fill finished after the object was changed or
// replaced through the cache, so its bytes may be stale and were dropped.
var ErrSuperseded = errors.New("store: fill superseded by a newer write")

// SegmentWriter receives the bytes of one fill, starting at a given offset
// of the object. Nothing is visible to other readers of the store until
// Commit; in-process readers may follow the bytes with ReadAt as they land.
// The caller must Close it once every in-process reader is done.
type SegmentWriter struct {
	s         *Store
	id        ObjectID
	start     int64
	written   int64
	startedAt time.Time
	f         *os.File
	finished  bool
	compress  bool // try LZ4 on commit; the store's default unless set
	sums      BlockSums
}

// NewSegmentWriter starts a fill of the object at offset start. startedAt is
// when the origin request that supplies the bytes was sent: it orders the
// fill against invalidations.
func (s *Store) NewSegmentWriter(id ObjectID, start int64, startedAt time.Time) (*SegmentWriter, error) {
	f, err := s.createTemp(id)
	if err != nil {
		return nil, err
	}
	return &SegmentWriter{s: s, id: id, start: start, startedAt: startedAt, f: f, compress: s.compression}, nil
}

// SetCompression overrides the store's compression setting for this fill
// (a per-bucket or per-prefix rule).
func (w *SegmentWriter) SetCompression(on bool) { w.compress = on }

func (w *SegmentWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.written += int64(n)
	w.sums.Write(p[:n])
	if err != nil {
		w.s.noteWriteFailure(err)
		return n, fmt.Errorf("write cache segment: %w", err)
	}
	return n, nil
}

// ReadAt reads bytes already written, off counted from the segment's start.
// It is safe to call from other goroutines while Write runs, for offsets
// below a Written value the writer has published to them.
func (w *SegmentWriter) ReadAt(p []byte, off int64) (int, error) { return w.f.ReadAt(p, off) }

// Written is the number of bytes received so far.
func (w *SegmentWriter) Written() int64 { return w.written }

// Abort discards the fill; in-process readers can still read what was written.
func (w *SegmentWriter) Abort() {
	if !w.finished {
		w.finished = true
		os.Remove(w.f.Name())
	}
}

// Close releases the file once the fill is committed or aborted and no
// reader needs it any more. It aborts a fill that was neither.
func (w *SegmentWriter) Close() error {
	w.Abort()
	return w.f.Close()
}

// Commit publishes the bytes written as the segment [start, start+Written)
// of the object version m describes, and makes m the object's metadata
// unless a newer write got there first. When the metadata already names the
// same ETag it is kept, merged with what m adds (parts, validation time).
func (w *SegmentWriter) Commit(m *Meta) error {
	if w.finished {
		return errors.New("store: segment already finished")
	}
	if m.ETag == "" {
		w.Abort()
		return errors.New("store: cannot commit a segment without an ETag")
	}
	cur, err := w.s.ReadMeta(w.id)
	if err != nil && !errors.Is(err, ErrNotCached) {
		w.s.log.Warn("replacing unreadable cache metadata", "object", w.id, "err", err)
		cur = nil
	}
	if cur != nil && supersedes(cur, m.ETag, w.startedAt) {
		w.Abort()
		return ErrSuperseded
	}
	if w.written == 0 && w.start > 0 {
		w.Abort()
		return nil // nothing worth a file
	}
	dir := w.s.objectDir(w.id)
	w.finished = true
	err = w.publishBytes(dir, m)
	w.s.changed(w.id)
	if err != nil {
		return err
	}
	if cur != nil && !cur.Tombstone() && cur.ETag == m.ETag {
		w.s.removeContained(dir, m.ETag, w.start, w.start+w.written)
		if merged, changed := mergeMeta(cur, m); changed {
			return w.s.WriteMeta(merged)
		}
		return nil
	}
	if err := w.s.WriteMeta(m); err != nil {
		return err
	}
	if cur != nil {
		w.s.removeSegmentsExcept(dir, m.ETag)
	}
	return nil
}

// mergeMeta folds what a fill of the same version learned into the current
// metadata. The current headers stay: a range answer lacks whole-object
// headers such as checksums.
func mergeMeta(cur, m *Meta) (*Meta, bool) {
	out := *cur
	out.Parts = maps.Clone(cur.Parts)
	changed := false
	if cur.WriteCached && !m.WriteCached && len(m.Header) > 0 {
		// S3's own answer beats headers reconstructed from an upload.
		out.Header, out.WriteCached, changed = m.Header, false, true
	}
	if m.ValidatedAt.Sub(cur.ValidatedAt) > time.Second {
		out.ValidatedAt, changed = m.ValidatedAt, true
	}
	if m.HeadValidatedAt.Sub(cur.HeadValidatedAt) > time.Second {
		out.HeadValidatedAt, changed = m.HeadValidatedAt, true
	}
	if m.PartsCount > 0 && out.PartsCount != m.PartsCount {
		out.PartsCount, changed = m.PartsCount, true
	}
	for n, p := range m.Parts {
		if out.Parts == nil {
			out.Parts = map[int]Extent{}
		}
		if out.Parts[n] != p {
			out.Parts[n], changed = p, true
		}
	}
	return &out, changed
}

// supersedes reports whether the current metadata was written by a change
// that happened after a fill of etag started at startedAt.
func supersedes(cur *Meta, etag string, startedAt time.Time) bool {
	if cur.Tombstone() {
		return cur.InvalidatedAt.After(startedAt)
	}
	return cur.ETag != etag && cur.ValidatedAt.After(startedAt)
}

// removeSegmentsExcept deletes the segments of every ETag but keep's.
func (s *Store) removeSegmentsExcept(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	tag := ""
	if keep != "" {
		tag = etagTag(keep) + "."
	}
	for _, de := range entries {
		name := de.Name()
		if isSegmentFile(name) && (tag == "" || !strings.HasPrefix(name, tag)) {
			removeCounted(s.sizes, filepath.Join(dir, name))
		}
	}
}

// removeContained deletes the segments of etag that lie inside [start, end)
// without being exactly it: a larger fill supersedes the pieces.
func (s *Store) removeContained(dir, etag string, start, end int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	tag := etagTag(etag)
	for _, de := range entries {
		a, b, ok := parseSegmentName(de.Name(), tag)
		if ok && start <= a && b <= end && (a != start || b != end) {
			removeCounted(s.sizes, filepath.Join(dir, de.Name()))
		}
	}
}

// Invalidate records that the object was changed at the given time: its
// cached bytes are removed and fills that started earlier will not commit.
func (s *Store) Invalidate(id ObjectID, at time.Time) error {
	m := &Meta{Endpoint: id.Endpoint, Bucket: id.Bucket, Key: id.Key, VersionID: id.VersionID,
		StoredAt: at, InvalidatedAt: at}
	if err := s.WriteMeta(m); err != nil {
		// The directory cannot take the tombstone (read-only, full): this
		// process at least must never serve the old bytes again.
		s.rememberInvalidation(id, at)
		s.changed(id)
		return fmt.Errorf("invalidate %v: %w", id, err)
	}
	s.removeSegmentsExcept(s.objectDir(id), "")
	return nil
}

// PutMeta stores metadata learned from an answer's headers (a HEAD, or a
// GET whose body is still arriving). As for fills, a change recorded after
// startedAt wins; metadata of the same version is merged, not replaced.
func (s *Store) PutMeta(m *Meta, startedAt time.Time) error {
	cur, err := s.ReadMeta(m.ID())
	if err != nil && !errors.Is(err, ErrNotCached) {
		cur = nil
	}
	if cur != nil && supersedes(cur, m.ETag, startedAt) {
		return ErrSuperseded
	}
	if cur != nil && !cur.Tombstone() && cur.ETag == m.ETag {
		// Same version: keep what is known, refresh validation times.
		if merged, changed := mergeMeta(cur, m); changed {
			return s.WriteMeta(merged)
		}
		return nil
	}
	if err := s.WriteMeta(m); err != nil {
		return err
	}
	if cur != nil && cur.ETag != m.ETag {
		s.removeSegmentsExcept(s.objectDir(m.ID()), m.ETag)
	}
	return nil
}
