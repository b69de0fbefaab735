package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// formatDir is the top directory of this on-disk format version.
const formatDir = "v1"

// staleTempAge is how old an untouched temp file must be before it is
// considered abandoned by a crashed writer.
const staleTempAge = time.Hour

// ObjectID names one object version in the cache.
type ObjectID struct {
	Endpoint, Bucket, Key, VersionID string
}

// hash is the object's directory name: keys never become paths.
func (id ObjectID) hash() string {
	h := sha256.New()
	for _, part := range []string{id.Endpoint, id.Bucket, id.Key, id.VersionID} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (id ObjectID) String() string {
	s := id.Bucket + "/" + id.Key
	if id.VersionID != "" {
		s += "?versionId=" + id.VersionID
	}
	return s
}

// Store is a cache directory.
type Store struct {
	root     string // <cache_dir>/v1
	objects  string
	tmp      string
	locks    string
	instance string // unique per process: host, pid and a random suffix
	log      *slog.Logger
	// compression: see EnableCompression.
	compression   bool
	onChange      func(ObjectID)
	sizes         SizeObserver
	instanceCount // see OtherInstances
	mem           memory
	verified      verifiedFiles // see verified.go
}

// Open prepares dir for use, creating it if needed, and removes temp files
// abandoned by crashed writers.
func Open(dir string, log *slog.Logger) (*Store, error) {
	root := filepath.Join(dir, formatDir)
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	s := &Store{
		root:     root,
		objects:  filepath.Join(root, "objects"),
		tmp:      filepath.Join(root, "tmp"),
		locks:    filepath.Join(root, "locks"),
		instance: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:])),
		log:      log,
		verified: newVerifiedFiles(),
	}
	s.others.Store(1)
	for _, d := range []string{s.objects, s.tmp, s.locks} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, fmt.Errorf("create cache directory: %w", err)
		}
	}
	s.removeStaleTemps(time.Now())
	return s, nil
}

// Dir is the cache directory the store was opened on.
func (s *Store) Dir() string { return filepath.Dir(s.root) }

func (s *Store) objectDir(id ObjectID) string {
	h := id.hash()
	return filepath.Join(s.objects, h[0:2], h[2:4], h)
}

func (s *Store) removeStaleTemps(now time.Time) {
	entries, err := os.ReadDir(s.tmp)
	if err != nil {
		s.log.Warn("cannot list cache temp directory", "dir", s.tmp, "err", err)
		return
	}
	removed := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleTempAge {
			continue
		}
		if os.Remove(filepath.Join(s.tmp, e.Name())) == nil {
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("removed abandoned cache temp files", "count", removed)
	}
}

// createTemp makes a new temp file for an object's data or metadata.
func (s *Store) createTemp(id ObjectID) (*os.File, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := filepath.Join(s.tmp, id.hash()[:16]+"."+hex.EncodeToString(b[:])+".tmp")
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory was removed under us (a wiped cache): recreate it.
		if err = os.MkdirAll(s.tmp, 0o750); err == nil {
			f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		}
	}
	if err != nil {
		s.noteWriteFailure(err)
		return nil, fmt.Errorf("create cache temp file: %w", err)
	}
	return f, nil
}

// publish renames a finished temp file to final, creating the object
// directory on first use; durable files are fsynced first, so a crash never
// leaves a renamed file whose bytes did not reach the disk. The file stays
// open for the caller: a renamed file remains readable through its
// descriptor.
func (s *Store) publish(f *os.File, final string, durable bool) error {
	old := fileSize(final)
	if durable {
		if err := f.Sync(); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("sync cache file: %w", err)
		}
	}
	err := os.Rename(f.Name(), final)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(final), 0o750); err == nil {
			err = os.Rename(f.Name(), final)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("publish cache file: %w", err)
	}
	noteWritten(s.sizes, final, old)
	return nil
}

// ObserveSizes makes o hear of every byte published to or removed from the
// object directories (capacity accounting).
func (s *Store) ObserveSizes(o SizeObserver) { s.sizes = o }

// Health describes whether the cache directory can be used.
type Health struct {
	Dir       string `json:"dir"`
	Writable  bool   `json:"writable"`
	Error     string `json:"error,omitempty"`
	FreeBytes uint64 `json:"free_bytes"`
	SizeBytes uint64 `json:"size_bytes"`
}

// Check writes and removes a probe file and reads the file system's space.
func (s *Store) Check() Health {
	h := Health{Dir: s.Dir()}
	f, err := os.CreateTemp(s.tmp, "health.*.tmp")
	if err == nil {
		_, err = f.Write([]byte("ok"))
		f.Close()
		os.Remove(f.Name())
	}
	if err != nil {
		h.Error = err.Error()
	} else {
		h.Writable = true
	}
	h.FreeBytes, h.SizeBytes = diskSpace(s.root)
	return h
}
