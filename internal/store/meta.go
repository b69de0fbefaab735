package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// metaFormat is the version written into every meta.json.
const metaFormat = 1

// maxMetaBytes bounds how much of a meta.json is read: a larger file is
// corrupt, not metadata.
const maxMetaBytes = 4 << 20

// Meta describes one cached object version. See FORMAT.md.
type Meta struct {
	Format    int    `json:"format"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`

	ETag string `json:"etag,omitempty"`
	Size int64  `json:"size"`
	// Header is the object's response headers as S3 sent them, minus the
	// per-request and hop-by-hop ones.
	Header http.Header `json:"header,omitempty"`

	// PartsCount and Parts describe a multipart object's parts, as far as
	// partNumber requests have revealed them.
	PartsCount int            `json:"parts_count,omitempty"`
	Parts      map[int]Extent `json:"parts,omitempty"`

	// WriteCached marks bytes cached from an upload through the proxy: its
	// headers were built from the request and S3's answer, not read from a
	// GET, until a GET or a revalidation replaces them.
	WriteCached bool `json:"write_cached,omitempty"`

	StoredAt        time.Time `json:"stored_at"`
	ValidatedAt     time.Time `json:"validated_at,omitzero"`
	HeadValidatedAt time.Time `json:"head_validated_at,omitzero"`
	InvalidatedAt   time.Time `json:"invalidated_at,omitzero"`
}

// Extent is a byte range [Start, End) of an object.
type Extent struct {
	Start int64 `json:"start"`
	End   int64 `json:"end"`
}

// ID is the identity the metadata was written for.
func (m *Meta) ID() ObjectID {
	return ObjectID{Endpoint: m.Endpoint, Bucket: m.Bucket, Key: m.Key, VersionID: m.VersionID}
}

// Tombstone reports whether the metadata only records an invalidation.
func (m *Meta) Tombstone() bool { return m.ETag == "" }

// ErrNotCached means the store holds nothing usable for the object.
var ErrNotCached = errors.New("store: not cached")

// ReadMeta returns the object's metadata, ErrNotCached when there is none.
func (s *Store) ReadMeta(id ObjectID) (*Meta, error) {
	return s.readMetaFile(filepath.Join(s.objectDir(id), "meta.json"), id)
}

func (s *Store) readMetaFile(path string, id ObjectID) (*Meta, error) {
	m, err := decodeMetaFile(path)
	if err != nil {
		return nil, err
	}
	if m.ID() != id {
		// A hash collision or a file copied by hand: never serve it.
		return nil, fmt.Errorf("cache metadata %s belongs to %v, not %v", path, m.ID(), id)
	}
	return m, nil
}

// decodeMetaFile reads and checks one meta.json; ErrNotCached when absent.
func decodeMetaFile(path string) (*Meta, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotCached
	}
	if err != nil {
		return nil, fmt.Errorf("open cache metadata: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMetaBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read cache metadata: %w", err)
	}
	var m Meta
	if len(data) > maxMetaBytes {
		return nil, fmt.Errorf("cache metadata %s: larger than %d bytes: %w", path, maxMetaBytes, ErrCorrupt)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cache metadata %s: %v: %w", path, err, ErrCorrupt)
	}
	if m.Format != metaFormat {
		return nil, fmt.Errorf("cache metadata %s: format %d, want %d: %w", path, m.Format, metaFormat, ErrCorrupt)
	}
	return &m, nil
}

// WriteMeta atomically replaces the object's metadata with m.
func (s *Store) WriteMeta(m *Meta) error {
	// Marshal a copy: m may be shared with a fill goroutine.
	out := *m
	out.Format = metaFormat
	data, err := json.Marshal(&out)
	if err != nil {
		return fmt.Errorf("encode cache metadata: %w", err)
	}
	id := m.ID()
	f, err := s.createTemp(id)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write cache metadata: %w", err)
	}
	// Metadata that records a write through the proxy (a tombstone, an
	// object cached from an upload) is made durable, file and directory
	// entry, so that a power cut cannot bring back the version it replaced.
	// Other metadata is not: a torn or empty meta.json fails to parse and is
	// a miss, and a lost one is a miss too.
	durable := m.Tombstone() || m.WriteCached
	dir := s.objectDir(id)
	err = s.publish(f, filepath.Join(dir, "meta.json"), durable)
	if err == nil && durable {
		syncDir(dir)
	}
	s.changed(id)
	return err
}

// syncDir makes the entries of dir durable (renames into it), as far as
// the file system can: some refuse to sync a directory, and the write it
// records has happened all the same.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
