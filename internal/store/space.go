package store

import "syscall"

// diskSpace returns the free and total bytes of the file system holding path.
func diskSpace(path string) (free, size uint64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize)
}
