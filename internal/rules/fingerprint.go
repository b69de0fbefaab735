package rules

import (
	"io"
	"os"
)

// fingerprint is what the periodic check compares to notice a change without
// reading the file: size, times and identity. On NFS it is the only signal
// for edits made on other hosts (inotify reports local writes only).
type fingerprint struct {
	size  int64
	mtime int64 // nanoseconds
	ctime int64 // nanoseconds; catches in-place edits that restore the mtime
	inode uint64
	dev   uint64 // with inode: a rename-replace gives a new file
}

// statFile fingerprints the file at path, following symbolic links.
func statFile(path string) (fingerprint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fingerprint{}, err
	}
	fp := fingerprint{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	addIdentity(&fp, fi)
	return fp, nil
}

// readRulesFile reads at most one byte more than Parse accepts, so an
// oversized file is reported instead of read whole.
func readRulesFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxFileSize+1))
}
