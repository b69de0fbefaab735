package mpu

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Why Complete refuses to assemble an upload. After S3 completed the upload
// its staging is of no further use: the caller removes it with Abort
// whatever Complete returns.
var (
	// ErrPartMissing: a listed part has no record or no bytes here (it
	// was uploaded around this cache, or its staging failed).
	ErrPartMissing = errors.New("mpu: part not staged")
	// ErrETagMismatch: a listed part's ETag is not the staged one's.
	ErrETagMismatch = errors.New("mpu: part ETag differs from the staged part's")
	// ErrPartCount: S3's ETag does not end in -N for the N parts listed.
	ErrPartCount = errors.New("mpu: part count differs from S3's ETag")
	// ErrPartOrder: the part list is empty or not strictly ascending.
	ErrPartOrder = errors.New("mpu: parts not listed in ascending order")
)

// Assembly is a completed upload's object, laid out from its staged parts.
type Assembly struct {
	Info  UploadInfo
	ETag  string // the object's ETag as S3 answered it
	Size  int64
	Parts []AssembledPart // in part number order, contiguous from offset 0
}

// AssembledPart is one part's place in the object: bytes [Offset,
// Offset+Size) are the first Size bytes of the file at Path, followed by
// their block checksums (store.BlockSums) when Checked.
type AssembledPart struct {
	Number  int
	Offset  int64
	Size    int64
	ETag    string
	Path    string
	Checked bool
}

// Open opens the part's file, checking it still has the size recorded for
// it. The caller may copy Size bytes from it, or rename Path into the
// object store on the same file system.
func (p AssembledPart) Open() (*os.File, error) {
	f, err := os.Open(p.Path)
	if err != nil {
		return nil, fmt.Errorf("%w: part %d: %w", ErrPartMissing, p.Number, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat staged part %d: %w", p.Number, err)
	}
	if want := (&partRecord{Size: p.Size, Checked: p.Checked}).fileSize(); info.Size() != want {
		f.Close()
		return nil, fmt.Errorf("%w: part %d has %d bytes, recorded %d", ErrPartMissing, p.Number, info.Size(), want)
	}
	return f, nil
}

// Complete lays out the object S3 assembled from req's parts and answered
// with objectETag. It checks that the parts are listed in strictly
// ascending order, that objectETag ends in -N for the N parts listed, and
// that each listed part is staged, with its bytes at the recorded size,
// under the same ETag (quotes ignored). It changes nothing on disk.
func (s *Stager) Complete(up Upload, req CompleteRequest, objectETag string) (*Assembly, error) {
	info, err := s.Info(up)
	if err != nil {
		return nil, err
	}
	if err := checkOrder(req.Parts); err != nil {
		return nil, err
	}
	if err := checkPartCount(objectETag, len(req.Parts)); err != nil {
		return nil, err
	}
	dir := s.dir(up)
	a := &Assembly{Info: *info, ETag: objectETag, Parts: make([]AssembledPart, 0, len(req.Parts))}
	for _, listed := range req.Parts {
		p, err := s.stagedPart(dir, listed)
		if err != nil {
			return nil, fmt.Errorf("complete %v: %w", up, err)
		}
		p.Offset = a.Size
		a.Size += p.Size
		a.Parts = append(a.Parts, p)
	}
	return a, nil
}

// stagedPart checks one listed part against its staging.
func (s *Stager) stagedPart(dir string, listed CompletedPart) (AssembledPart, error) {
	rec, err := s.readPart(dir, listed.Number)
	if errors.Is(err, fs.ErrNotExist) {
		return AssembledPart{}, fmt.Errorf("%w: part %d", ErrPartMissing, listed.Number)
	}
	if err != nil {
		return AssembledPart{}, fmt.Errorf("%w: part %d: %w", ErrPartMissing, listed.Number, err)
	}
	if normalizeETag(rec.ETag) != normalizeETag(listed.ETag) {
		return AssembledPart{}, fmt.Errorf("%w: part %d listed as %s, staged as %s", ErrETagMismatch, listed.Number, listed.ETag, rec.ETag)
	}
	p := AssembledPart{Number: rec.Number, Size: rec.Size, ETag: rec.ETag, Path: filepath.Join(dir, rec.File), Checked: rec.Checked}
	info, err := os.Stat(p.Path)
	if err != nil || info.Size() != rec.fileSize() {
		return AssembledPart{}, fmt.Errorf("%w: part %d bytes missing or not %d bytes", ErrPartMissing, listed.Number, rec.Size)
	}
	return p, nil
}

func checkOrder(parts []CompletedPart) error {
	if len(parts) == 0 {
		return fmt.Errorf("%w: no parts", ErrPartOrder)
	}
	for i, p := range parts {
		if err := validatePartNumber(p.Number); err != nil {
			return err
		}
		if i > 0 && p.Number <= parts[i-1].Number {
			return fmt.Errorf("%w: part %d after part %d", ErrPartOrder, p.Number, parts[i-1].Number)
		}
	}
	return nil
}

// checkPartCount reads N from a multipart ETag "<hex>-N".
func checkPartCount(objectETag string, listed int) error {
	e := normalizeETag(objectETag)
	i := strings.LastIndexByte(e, '-')
	if i < 0 {
		return fmt.Errorf("%w: ETag %q has no -N suffix", ErrPartCount, objectETag)
	}
	n, err := strconv.Atoi(e[i+1:])
	if err != nil || n != listed {
		return fmt.Errorf("%w: ETag %q for %d parts listed", ErrPartCount, objectETag, listed)
	}
	return nil
}
