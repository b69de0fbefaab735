package mpu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tempPrefix starts the names of files being written.
const tempPrefix = ".tmp-"

// maxRecordBytes bounds a JSON record read back: a larger file is corrupt.
const maxRecordBytes = 1 << 20

// createTemp makes a new temp file in dir, on the same file system as the
// file it will be renamed to.
func createTemp(dir string) (*os.File, error) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	f, err := os.OpenFile(filepath.Join(dir, tempPrefix+hex.EncodeToString(b[:])), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create staging temp file: %w", err)
	}
	return f, nil
}

// publish fsyncs and closes f, then renames it to final. On failure the
// temp file is removed.
func publish(f *os.File, final string) error {
	err := f.Sync()
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("publish %s: %w", filepath.Base(final), err)
	}
	return nil
}

// writeJSON atomically replaces path with v encoded as JSON.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	f, err := createTemp(filepath.Dir(path))
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return publish(f, path)
}

// readJSON decodes the file at path into v, refusing files over
// maxRecordBytes. A missing file is returned as an fs.ErrNotExist error.
func readJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxRecordBytes {
		return fmt.Errorf("%s: larger than %d bytes", path, maxRecordBytes)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func isTemp(name string) bool { return strings.HasPrefix(name, tempPrefix) }
