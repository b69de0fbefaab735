package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// posixFadvDontNeed is POSIX_FADV_DONTNEED on Linux.
const posixFadvDontNeed = 4

// dropPageCache evicts the files under dir from the page cache, so that the
// next read of them comes from the disk: flush each file (dropping works on
// clean pages only), then fadvise DONTNEED. Unlike writing to
// /proc/sys/vm/drop_caches this touches only our own files, not the rest of
// a shared machine. It returns the bytes covered.
func dropPageCache(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil // a temp file renamed or removed under our feet
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		defer f.Close()
		_ = f.Sync()
		if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, posixFadvDontNeed, 0, 0); e != 0 {
			return fmt.Errorf("fadvise %s: %w", path, e)
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return total, fmt.Errorf("drop page cache of %s: %w", dir, err)
	}
	return total, nil
}
