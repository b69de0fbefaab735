package tunnel

import (
	"errors"
	"syscall"
)

// isTemporaryAcceptError reports accept failures that pass on their own:
// running out of file descriptors or memory, or a connection aborted
// before it was accepted.
func isTemporaryAcceptError(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ECONNABORTED)
}
