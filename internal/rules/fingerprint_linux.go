package rules

import (
	"os"
	"syscall"
)

// addIdentity adds the inode, device and change time to fp.
func addIdentity(fp *fingerprint, fi os.FileInfo) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	fp.inode = st.Ino
	fp.dev = uint64(st.Dev) // Dev is narrower on some architectures
	fp.ctime = st.Ctim.Nano()
}
