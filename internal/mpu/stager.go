package mpu

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// infoFormat is the version written into every upload.json.
const infoFormat = 1

const infoFile = "upload.json"

// Stager keeps multipart uploads' parts under <cache_dir>/v1/uploads. It is
// safe for concurrent use, and several processes may share the directory.
type Stager struct {
	root string
	log  *slog.Logger
}

// Open prepares the staging area of the cache directory cacheDir.
func Open(cacheDir string, log *slog.Logger) (*Stager, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	root := filepath.Join(cacheDir, "v1", "uploads")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("create upload staging directory: %w", err)
	}
	return &Stager{root: root, log: log}, nil
}

func (s *Stager) dir(up Upload) string { return filepath.Join(s.root, up.hash()) }

// Begin starts staging an upload S3 has just created. createHeader is the
// CreateMultipartUpload request's header: the object headers S3 will return
// on GET (Content-Type, Cache-Control, x-amz-meta-*, ...) are kept from it.
// An SSE-C upload is refused with ErrNotCacheable, an invalid id with
// ErrInvalidUpload; either way the caller just forwards without caching.
func (s *Stager) Begin(up Upload, createHeader http.Header) error {
	if err := up.validate(); err != nil {
		return err
	}
	header, err := objectHeaders(createHeader)
	if err != nil {
		return err
	}
	dir := s.dir(up)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("begin staging %v: %w", up, err)
	}
	info := UploadInfo{Format: infoFormat, Endpoint: up.Endpoint, Bucket: up.Bucket, Key: up.Key,
		UploadID: up.ID, Header: header, CreatedAt: time.Now().UTC()}
	if err := writeJSON(filepath.Join(dir, infoFile), &info); err != nil {
		return fmt.Errorf("begin staging %v: %w", up, err)
	}
	return nil
}

// Info returns the staged upload's upload.json, ErrUnknownUpload when the
// upload is not staged.
func (s *Stager) Info(up Upload) (*UploadInfo, error) {
	if err := up.validate(); err != nil {
		return nil, err
	}
	var info UploadInfo
	err := readJSON(filepath.Join(s.dir(up), infoFile), &info)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %v", ErrUnknownUpload, up)
	}
	if err != nil {
		return nil, fmt.Errorf("read staged upload: %w", err)
	}
	if info.Format != infoFormat {
		return nil, fmt.Errorf("staged upload %v: format %d, want %d", up, info.Format, infoFormat)
	}
	if info.upload() != up {
		// A hash collision or a file copied by hand: never use it.
		return nil, fmt.Errorf("staged upload in %s belongs to %v, not %v", s.dir(up), info.upload(), up)
	}
	return &info, nil
}

// Abort removes the upload's staging: on AbortMultipartUpload whatever S3
// answers, and once a completed upload's parts have been published.
func (s *Stager) Abort(up Upload) error {
	if err := up.validate(); err != nil {
		return err
	}
	if err := os.RemoveAll(s.dir(up)); err != nil {
		return fmt.Errorf("remove staging of %v: %w", up, err)
	}
	return nil
}

// touch marks activity on the upload, postponing its sweep.
func (s *Stager) touch(up Upload) {
	now := time.Now()
	if err := os.Chtimes(filepath.Join(s.dir(up), infoFile), now, now); err != nil {
		s.log.Debug("cannot mark upload activity", "upload", up.String(), "err", err)
	}
}

// Sweep removes uploads idle (by upload.json's modification time, or the
// directory's when upload.json is missing) for longer than olderThan, and in
// live uploads temp files untouched as long, left by crashed writers. It is
// safe while other processes stage, complete or sweep. It returns how many
// uploads it removed.
func (s *Stager) Sweep(olderThan time.Duration) (int, error) {
	if olderThan <= 0 {
		return 0, fmt.Errorf("sweep upload staging: age %v is not positive", olderThan)
	}
	entries, err := os.ReadDir(s.root)
	if err != nil {
		return 0, fmt.Errorf("list upload staging: %w", err)
	}
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(s.root, e.Name())
		if !lastActivity(dir).Before(cutoff) {
			s.removeStaleTemps(dir, cutoff)
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			s.log.Warn("cannot remove idle upload staging", "dir", dir, "err", err)
			continue
		}
		removed++
	}
	if removed > 0 {
		s.log.Info("removed idle multipart upload staging", "count", removed, "older_than", olderThan)
	}
	return removed, nil
}

// lastActivity is when the upload in dir was last touched; now when it has
// gone meanwhile, so that a sweep skips it.
func lastActivity(dir string) time.Time {
	if info, err := os.Stat(filepath.Join(dir, infoFile)); err == nil {
		return info.ModTime()
	}
	if info, err := os.Stat(dir); err == nil {
		return info.ModTime()
	}
	return time.Now()
}

func (s *Stager) removeStaleTemps(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !isTemp(e.Name()) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
