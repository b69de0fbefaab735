package store

// What capacity management (internal/evict) needs from the store: object
// directories listed shard by shard, counted removals, capacity lock files
// and sweeps of abandoned files. See "Capacity" in FORMAT.md.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ShardCount is the number of top-level shard directories, objects/<xx>/.
const ShardCount = 256

const metaName = "meta.json"

// Hash is the object's directory name: the lowercase hex SHA-256 of its
// identity. It is the stable key of the object's capacity records.
func (id ObjectID) Hash() string { return id.hash() }

// Shard is the object's top-level shard, 0 to ShardCount-1.
func (id ObjectID) Shard() int { return ShardOf(id.hash()) }

// ShardOf returns the shard of an object directory name; -1 if the name is
// not one.
func ShardOf(hash string) int {
	if len(hash) < 2 {
		return -1
	}
	n, err := strconv.ParseUint(hash[:2], 16, 8)
	if err != nil {
		return -1
	}
	return int(n)
}

// SizeObserver learns of every byte the store adds to or removes from the
// object directories (segments and meta.json), so the shared size is known
// without scanning. Sizes are the files' sizes on disk.
type SizeObserver interface {
	Added(shard int, bytes int64)
	Removed(shard int, bytes int64)
	// Admit reports whether n more bytes may be written now (capacity);
	// WritesFailing asks it before every fill or cached upload.
	Admit(n int64) bool
}

// fileSize is the size of the file at path, 0 when there is none. Take it
// before replacing a file, for noteWritten.
func fileSize(path string) int64 {
	info, err := os.Lstat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// noteWritten tells o (which may be nil) that the file at path in an object
// directory was just published over a file of old bytes (0: none).
func noteWritten(o SizeObserver, path string, old int64) {
	if o == nil {
		return
	}
	shard := ShardOf(filepath.Base(filepath.Dir(path)))
	switch grown := fileSize(path) - old; {
	case grown > 0:
		o.Added(shard, grown)
	case grown < 0:
		o.Removed(shard, -grown)
	}
}

// removeCounted removes the file at path in an object directory and tells o
// (which may be nil) how many bytes went. It reports whether this call
// removed the file.
func removeCounted(o SizeObserver, path string) bool {
	size := fileSize(path)
	if os.Remove(path) != nil {
		return false
	}
	if o != nil && size > 0 {
		o.Removed(ShardOf(filepath.Base(filepath.Dir(path))), size)
	}
	return true
}

// AreaDir returns <cache_dir>/v1/<name>, creating it: the home of shared
// capacity files such as size/ and access/.
func (s *Store) AreaDir(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return "", fmt.Errorf("store: bad area name %q", name)
	}
	dir := filepath.Join(s.root, name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("create %s directory: %w", name, err)
	}
	return dir, nil
}

// DirFile is a file of an object directory.
type DirFile struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// DiskSegment is a segment of an object directory as files: the raw
// <tag>.<start>-<end>.seg or the compressed .lz4, plus any companion file
// named after it (<tag>.<start>-<end>.seg.*), counted and removed together.
type DiskSegment struct {
	Tag        string // the ETag hash the segment belongs to
	Start, End int64
	Size       int64 // bytes of the segment's files on disk
	ModTime    time.Time
	names      []string
}

// Extent is the segment's byte range.
func (f DiskSegment) Extent() Extent { return Extent{Start: f.Start, End: f.End} }

// ObjectDir is one object directory as listed at one moment.
type ObjectDir struct {
	Hash     string
	Meta     *DirFile // nil when the directory has no meta.json
	Segments []DiskSegment
	Others   []DirFile // every other file (sidecars)
	ModTime  time.Time // the directory's own modification time
	path     string
}

// Bytes is the size of every file in the directory.
func (d *ObjectDir) Bytes() int64 {
	var n int64
	if d.Meta != nil {
		n += d.Meta.Size
	}
	for _, seg := range d.Segments {
		n += seg.Size
	}
	for _, f := range d.Others {
		n += f.Size
	}
	return n
}

// Has reports whether the directory holds a file named name besides
// meta.json and the segments.
func (d *ObjectDir) Has(name string) bool {
	for _, f := range d.Others {
		if f.Name == name {
			return true
		}
	}
	return false
}

// StaleSegments returns the segments that do not belong to m's ETag (all of
// them for a tombstone).
func (d *ObjectDir) StaleSegments(m *Meta) []DiskSegment {
	tag := ""
	if !m.Tombstone() {
		tag = etagTag(m.ETag)
	}
	var out []DiskSegment
	for _, seg := range d.Segments {
		if seg.Tag != tag {
			out = append(out, seg)
		}
	}
	return out
}

// splitSegmentName reads "<tag>.<start>-<end>.<seg|crc|lz4>[.*]", returning the
// base name "<tag>.<start>-<end>" its files share.
func splitSegmentName(name string) (tag string, start, end int64, base string, ok bool) {
	tag, rest, ok := strings.Cut(name, ".")
	if !ok || len(tag) != 16 {
		return "", 0, 0, "", false
	}
	rng, suffix, ok := strings.Cut(rest, ".")
	kind, _, _ := strings.Cut(suffix, ".")
	if !ok || !isSegmentFile("."+kind) {
		return "", 0, 0, "", false
	}
	start, end, ok = parseSegmentName(tag+"."+rng+rawSuffix, tag)
	return tag, start, end, tag + "." + rng, ok
}

// listObjectDir reads one object directory.
func listObjectDir(path string) (*ObjectDir, error) {
	dirInfo, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	d := &ObjectDir{Hash: filepath.Base(path), ModTime: dirInfo.ModTime(), path: path}
	bySegment := map[string]int{}
	for _, de := range entries {
		info, err := de.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // removed meanwhile, or not ours
		}
		f := DirFile{Name: de.Name(), Size: info.Size(), ModTime: info.ModTime()}
		if f.Name == metaName {
			d.Meta = &f
			continue
		}
		tag, start, end, base, ok := splitSegmentName(f.Name)
		if !ok {
			d.Others = append(d.Others, f)
			continue
		}
		i, seen := bySegment[base]
		if !seen {
			i = len(d.Segments)
			bySegment[base] = i
			d.Segments = append(d.Segments, DiskSegment{Tag: tag, Start: start, End: end, ModTime: f.ModTime})
		}
		seg := &d.Segments[i]
		seg.Size += f.Size
		seg.names = append(seg.names, f.Name)
		if f.ModTime.After(seg.ModTime) {
			seg.ModTime = f.ModTime
		}
	}
	return d, nil
}

func (s *Store) hashDir(hash string) string {
	return filepath.Join(s.objects, hash[0:2], hash[2:4], hash)
}

func validHash(hash string) bool {
	if len(hash) != 64 {
		return false
	}
	_, err := hex.DecodeString(hash)
	return err == nil
}

// ListObjectDir lists the object directory named hash; ErrNotCached when it
// does not exist.
func (s *Store) ListObjectDir(hash string) (*ObjectDir, error) {
	if !validHash(hash) {
		return nil, fmt.Errorf("store: bad object hash %q", hash)
	}
	d, err := listObjectDir(s.hashDir(hash))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotCached
	}
	if err != nil {
		return nil, fmt.Errorf("list object directory: %w", err)
	}
	return d, nil
}

// WalkShard lists every object directory of the shard objects/<xx>/ and
// calls fn with each. A directory that vanishes meanwhile is skipped; an
// error from fn or the context stops the walk.
func (s *Store) WalkShard(ctx context.Context, shard int, fn func(*ObjectDir) error) error {
	if shard < 0 || shard >= ShardCount {
		return fmt.Errorf("store: shard %d out of range", shard)
	}
	top := filepath.Join(s.objects, fmt.Sprintf("%02x", shard))
	mids, err := os.ReadDir(top)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list cache shard: %w", err)
	}
	for _, mid := range mids {
		if !mid.IsDir() {
			continue
		}
		midPath := filepath.Join(top, mid.Name())
		objs, err := os.ReadDir(midPath)
		if err != nil {
			continue // removed meanwhile
		}
		for _, obj := range objs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if !obj.IsDir() || !validHash(obj.Name()) {
				continue
			}
			d, err := listObjectDir(filepath.Join(midPath, obj.Name()))
			if err != nil {
				continue
			}
			if err := fn(d); err != nil {
				return err
			}
		}
		if info, err := mid.Info(); err == nil && len(objs) == 0 && time.Since(info.ModTime()) > time.Minute {
			os.Remove(midPath) // fails unless still empty
		}
	}
	return nil
}

// DirMeta reads the directory's meta.json.
func (s *Store) DirMeta(d *ObjectDir) (*Meta, error) {
	m, err := decodeMetaFile(filepath.Join(d.path, metaName))
	if err != nil {
		return nil, err
	}
	if m.ID().hash() != d.Hash {
		return nil, fmt.Errorf("cache metadata in %s: %w", d.Hash, ErrCorrupt)
	}
	return m, nil
}

// RemoveSegment removes a segment's files and returns the bytes freed.
func (s *Store) RemoveSegment(d *ObjectDir, seg DiskSegment) int64 {
	var freed int64
	for _, name := range seg.names {
		path := filepath.Join(d.path, name)
		if info, err := os.Lstat(path); err == nil && os.Remove(path) == nil {
			freed += info.Size()
		}
	}
	return freed
}

// PruneObjectDir removes what is left of an object whose segments are gone:
// when the directory, listed afresh, holds no segment and its meta.json is
// not a tombstone (a tombstone must outlive fills in flight), meta.json and
// every other file are removed and the empty directories pruned. It returns
// the bytes freed.
func (s *Store) PruneObjectDir(hash string) int64 {
	d, err := s.ListObjectDir(hash)
	if err != nil || len(d.Segments) > 0 {
		return 0
	}
	if d.Meta != nil {
		if m, err := s.DirMeta(d); err == nil && m.Tombstone() {
			return 0
		}
	}
	return s.RemoveObjectDir(d)
}

// RemoveObjectDir removes every file of the directory, meta.json last, and
// prunes the emptied directories. It returns the bytes freed.
func (s *Store) RemoveObjectDir(d *ObjectDir) int64 {
	var freed int64
	remove := func(name string, size int64) {
		if os.Remove(filepath.Join(d.path, name)) == nil {
			freed += size
		}
	}
	for _, seg := range d.Segments {
		freed += s.RemoveSegment(d, seg)
	}
	for _, f := range d.Others {
		remove(f.Name, f.Size)
	}
	if d.Meta != nil {
		remove(metaName, d.Meta.Size)
	}
	if os.Remove(d.path) == nil {
		os.Remove(filepath.Dir(d.path)) // fails unless empty
	}
	return freed
}

// ReadSidecar returns the content of a sidecar file in the object directory.
func (s *Store) ReadSidecar(hash, name string) ([]byte, error) {
	if !validHash(hash) || !validSidecar(name) {
		return nil, fmt.Errorf("store: bad sidecar %s/%s", hash, name)
	}
	data, err := os.ReadFile(filepath.Join(s.hashDir(hash), name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotCached
	}
	return data, err
}

// WriteSidecar atomically replaces a sidecar file in an existing object
// directory (it never creates one: an evicted object stays gone). It
// returns the change in bytes on disk; ErrNotCached if the directory is gone.
func (s *Store) WriteSidecar(hash, name string, data []byte) (int64, error) {
	if !validHash(hash) || !validSidecar(name) {
		return 0, fmt.Errorf("store: bad sidecar %s/%s", hash, name)
	}
	final := filepath.Join(s.hashDir(hash), name)
	var old int64
	if info, err := os.Stat(final); err == nil {
		old = info.Size()
	}
	f, err := s.createTemp(ObjectID{Key: hash})
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		os.Remove(f.Name())
		return 0, fmt.Errorf("write sidecar: %w", err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		os.Remove(f.Name())
		if errors.Is(err, fs.ErrNotExist) {
			return 0, ErrNotCached
		}
		return 0, fmt.Errorf("publish sidecar: %w", err)
	}
	return int64(len(data)) - old, nil
}

// validSidecar accepts plain names that cannot be mistaken for meta.json or
// a segment.
func validSidecar(name string) bool {
	if name == "" || name == metaName || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return false
	}
	_, _, _, _, isSegment := splitSegmentName(name)
	return !isSegment
}

// SweepTemps removes temp files abandoned by crashed writers.
func (s *Store) SweepTemps() { s.removeStaleTemps(time.Now()) }

// SweepLocks removes fill locks whose owners stopped their heartbeat, and
// leftovers of lock rewrites older than maxAge. It returns how many went.
func (s *Store) SweepLocks(maxAge time.Duration) int {
	entries, err := os.ReadDir(s.locks)
	if err != nil {
		return 0
	}
	removed := 0
	for _, de := range entries {
		path := filepath.Join(s.locks, de.Name())
		if strings.HasSuffix(de.Name(), ".lock") {
			if info, err := os.Stat(path); err == nil && time.Since(info.ModTime()) >= StaleAfter && s.stealIfStale(path) {
				removed++
			}
			continue
		}
		if info, err := de.Info(); err == nil && time.Since(info.ModTime()) >= maxAge && os.Remove(path) == nil {
			removed++
		}
	}
	return removed
}

// CapacityLock is a lock file v1/size/<name>.lock held by one instance at a
// time, with the fill locks' protocol: created with O_EXCL, kept alive by a
// heartbeat every HeartbeatEvery, stolen once untouched for StaleAfter. Its
// content carries a token unique to each acquisition: Held re-reads it, so
// an owner that was presumed dead and robbed notices before acting again
// (fencing).
type CapacityLock struct {
	path   string
	token  []byte
	stolen bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// capacityLockInfo is a capacity lock's content.
type capacityLockInfo struct {
	Owner    string    `json:"owner"`
	Token    string    `json:"token"`
	Acquired time.Time `json:"acquired"`
}

// LockCapacity takes the capacity lock name, stealing it from a dead owner.
// It returns ErrLocked while a live owner holds it.
func (s *Store) LockCapacity(name string) (*CapacityLock, error) {
	dir, err := s.AreaDir("size")
	if err != nil {
		return nil, err
	}
	if !validSidecar(name) {
		return nil, fmt.Errorf("store: bad lock name %q", name)
	}
	path := filepath.Join(dir, name+".lock")
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	token, err := json.Marshal(capacityLockInfo{Owner: s.instance, Token: hex.EncodeToString(nonce[:]), Acquired: time.Now()})
	if err != nil {
		return nil, err
	}
	stolen := false
	for attempt := 0; attempt < 2; attempt++ {
		err := createLockFile(path, token)
		if err == nil {
			l := &CapacityLock{path: path, token: token, stolen: stolen, stop: make(chan struct{}), done: make(chan struct{})}
			go l.heartbeat()
			return l, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("capacity lock: %w", err)
		}
		info, statErr := os.Stat(path)
		if statErr == nil && time.Since(info.ModTime()) < StaleAfter {
			return nil, ErrLocked
		}
		if !s.stealIfStale(path) {
			return nil, ErrLocked
		}
		stolen = statErr == nil
	}
	return nil, ErrLocked
}

func (l *CapacityLock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			if !l.Held() {
				return // robbed: never touch another owner's lock
			}
			if err := os.Chtimes(l.path, now, now); err != nil {
				return
			}
		}
	}
}

// Stolen reports whether taking the lock meant stealing it from a dead owner.
func (l *CapacityLock) Stolen() bool { return l.stolen }

// Held reports whether the lock file still carries this acquisition's
// token. Check it before each step that must not run twice at once.
func (l *CapacityLock) Held() bool {
	data, err := os.ReadFile(l.path)
	return err == nil && string(data) == string(l.token)
}

// Release stops the heartbeat and removes the lock if it is still this
// acquisition's.
func (l *CapacityLock) Release() {
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		if l.Held() {
			os.Remove(l.path)
		}
	})
}
