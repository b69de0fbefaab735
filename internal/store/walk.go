package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Walk calls fn for every object version cached in the directory, in no
// particular order, skipping tombstones and entries it cannot read (they
// are misses to the read path too). It stops at fn's first error or when
// ctx ends. Other instances may change the directory meanwhile: an entry
// can be gone by the time fn looks at its segments.
func (s *Store) Walk(ctx context.Context, fn func(*Entry) error) error {
	return s.walkObjectDirs(ctx, func(dir string, _ []os.DirEntry) error {
		id, ok := metaID(filepath.Join(dir, "meta.json"))
		if !ok || id.hash() != filepath.Base(dir) {
			return nil
		}
		e, err := s.Lookup(id)
		if err != nil {
			return nil
		}
		return fn(e)
	})
}

// Usage is how much the cache directory holds.
type Usage struct {
	Objects int64 // object directories holding at least one segment
	Bytes   int64 // segment bytes
}

// Usage adds up segment files without reading any metadata, so it is cheap
// enough to run periodically.
func (s *Store) Usage(ctx context.Context) (Usage, error) {
	var u Usage
	err := s.walkObjectDirs(ctx, func(_ string, files []os.DirEntry) error {
		counted := false
		for _, f := range files {
			if !isSegmentFile(f.Name()) {
				continue
			}
			if info, err := f.Info(); err == nil {
				u.Bytes += info.Size()
				counted = true
			}
		}
		if counted {
			u.Objects++
		}
		return nil
	})
	return u, err
}

// walkObjectDirs calls fn with each objects/<h0h1>/<h2h3>/<h> directory and
// its listing.
func (s *Store) walkObjectDirs(ctx context.Context, fn func(dir string, files []os.DirEntry) error) error {
	level1, err := os.ReadDir(s.objects)
	if err != nil {
		return fmt.Errorf("list cache objects: %w", err)
	}
	for _, a := range level1 {
		level2, _ := os.ReadDir(filepath.Join(s.objects, a.Name()))
		for _, b := range level2 {
			objects, _ := os.ReadDir(filepath.Join(s.objects, a.Name(), b.Name()))
			for _, o := range objects {
				if err := ctx.Err(); err != nil {
					return err
				}
				dir := filepath.Join(s.objects, a.Name(), b.Name(), o.Name())
				files, err := os.ReadDir(dir)
				if err != nil {
					continue // removed meanwhile, or not a directory
				}
				if err := fn(dir, files); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// metaID reads the identity a meta.json names; Lookup checks the rest.
func metaID(path string) (ObjectID, bool) {
	f, err := os.Open(path)
	if err != nil {
		return ObjectID{}, false
	}
	defer f.Close()
	var m Meta
	if err := json.NewDecoder(io.LimitReader(f, maxMetaBytes)).Decode(&m); err != nil {
		return ObjectID{}, false
	}
	return m.ID(), true
}
