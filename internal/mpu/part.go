package mpu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/s3cache/s3cache/internal/store"
)

// maxETagLength bounds an ETag taken from S3's answer.
const maxETagLength = 1024

// partRecord is part-<N>.json: a staged part's bytes, by file name.
type partRecord struct {
	Number    int       `json:"number"`
	Size      int64     `json:"size"`
	ETag      string    `json:"etag"`
	File      string    `json:"file"`
	WrittenAt time.Time `json:"written_at"`
	// Checked: the file holds the bytes, then their block checksums
	// (store.BlockSums), so it can become a checked segment.
	Checked bool `json:"checked,omitempty"`
}

// fileSize is how long the part's file is.
func (r *partRecord) fileSize() int64 {
	if r.Checked {
		return r.Size + store.ChecksumTrailerSize(r.Size)
	}
	return r.Size
}

func recordName(n int) string { return "part-" + strconv.Itoa(n) + ".json" }

// binName names part n's bytes as uploaded with etag, so that a re-upload
// with other bytes never overwrites the file a record names.
func binName(n int, etag string) string {
	sum := sha256.Sum256([]byte(normalizeETag(etag)))
	return "part-" + strconv.Itoa(n) + "." + hex.EncodeToString(sum[:8]) + ".bin"
}

// normalizeETag strips the quotes and blanks around an ETag, as S3 does
// when it compares the ETags of a CompleteMultipartUpload request.
func normalizeETag(etag string) string {
	return strings.Trim(strings.TrimSpace(etag), `"`)
}

func validateETag(etag string) error {
	e := normalizeETag(etag)
	if e == "" || len(e) > maxETagLength {
		return fmt.Errorf("%w: ETag %q", ErrInvalidUpload, etag)
	}
	for i := 0; i < len(e); i++ {
		if e[i] < ' ' || e[i] > '~' {
			return fmt.Errorf("%w: ETag has byte %#x", ErrInvalidUpload, e[i])
		}
	}
	return nil
}

// PartWriter receives the bytes of one UploadPart request. Nothing is
// visible until Commit, which the caller calls once S3 accepted the part.
type PartWriter struct {
	s        *Stager
	up       Upload
	number   int
	f        *os.File
	written  int64
	sums     store.BlockSums
	finished bool
}

// Part starts staging part n of a staged upload. It fails with
// ErrInvalidUpload for a bad id or part number and ErrUnknownUpload when the
// upload is not staged; the caller then forwards without caching.
func (s *Stager) Part(up Upload, n int) (*PartWriter, error) {
	if err := validatePartNumber(n); err != nil {
		return nil, err
	}
	if _, err := s.Info(up); err != nil {
		return nil, err
	}
	f, err := createTemp(s.dir(up))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %v", ErrUnknownUpload, up)
		}
		return nil, err
	}
	return &PartWriter{s: s, up: up, number: n, f: f}, nil
}

func (w *PartWriter) Write(p []byte) (int, error) {
	if w.finished {
		return 0, errors.New("mpu: part already committed or aborted")
	}
	n, err := w.f.Write(p)
	w.written += int64(n)
	w.sums.Write(p[:n])
	if err != nil {
		return n, fmt.Errorf("stage part %d of %v: %w", w.number, w.up, err)
	}
	return n, nil
}

// Written is the number of bytes received so far.
func (w *PartWriter) Written() int64 { return w.written }

// Abort discards the part. It is safe after Commit, which it leaves alone.
func (w *PartWriter) Abort() {
	if w.finished {
		return
	}
	w.finished = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// Commit publishes the bytes written as part n, uploaded with the ETag S3
// answered, replacing any earlier upload of the same part number.
func (w *PartWriter) Commit(etag string) error {
	if w.finished {
		return errors.New("mpu: part already committed or aborted")
	}
	if err := validateETag(etag); err != nil {
		w.Abort()
		return err
	}
	w.finished = true
	dir := w.s.dir(w.up)
	rec := partRecord{Number: w.number, Size: w.written, ETag: etag, File: binName(w.number, etag), WrittenAt: time.Now().UTC(), Checked: true}
	if _, err := w.f.Write(w.sums.Trailer()); err != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		return fmt.Errorf("stage part %d of %v: checksums: %w", w.number, w.up, err)
	}
	if err := publish(w.f, filepath.Join(dir, rec.File)); err != nil {
		return fmt.Errorf("stage part %d of %v: %w", w.number, w.up, err)
	}
	if err := writeJSON(filepath.Join(dir, recordName(w.number)), &rec); err != nil {
		return fmt.Errorf("stage part %d of %v: %w", w.number, w.up, err)
	}
	w.s.touch(w.up)
	w.s.removeReplacedBins(dir, w.number)
	return nil
}

// readPart returns part n's current record.
func (s *Stager) readPart(dir string, n int) (*partRecord, error) {
	var rec partRecord
	if err := readJSON(filepath.Join(dir, recordName(n)), &rec); err != nil {
		return nil, err
	}
	if rec.Number != n || rec.Size < 0 || rec.File != binName(n, rec.ETag) {
		return nil, fmt.Errorf("%s: record does not describe part %d", recordName(n), n)
	}
	return &rec, nil
}

// removeReplacedBins deletes part n's bin files that its current record
// does not name: bytes of earlier uploads of the part. A concurrent upload
// of the same part may lose its bin here before its record lands; Complete
// then finds the bin missing and does not cache, which is safe.
func (s *Stager) removeReplacedBins(dir string, n int) {
	rec, err := s.readPart(dir, n)
	if err != nil {
		return
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "part-" + strconv.Itoa(n) + "."
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, prefix) && strings.HasSuffix(name, ".bin") && name != rec.File {
			os.Remove(filepath.Join(dir, name))
		}
	}
}

// StagedBytes is the size of the upload's parts as currently recorded.
func (s *Stager) StagedBytes(up Upload) (int64, error) {
	if err := up.validate(); err != nil {
		return 0, err
	}
	dir := s.dir(up)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%w: %v", ErrUnknownUpload, up)
		}
		return 0, fmt.Errorf("list staged parts: %w", err)
	}
	var total int64
	for _, e := range entries {
		n, ok := recordNumber(e.Name())
		if !ok {
			continue
		}
		if rec, err := s.readPart(dir, n); err == nil {
			total += rec.Size
		}
	}
	return total, nil
}

// recordNumber reads "part-<N>.json".
func recordNumber(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "part-")
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, ".json")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || validatePartNumber(n) != nil || strconv.Itoa(n) != digits {
		return 0, false
	}
	return n, true
}
