package placed

import (
	"errors"
	"os"
	"syscall"
)

const placedSupported = true

// isAppending reports whether f was opened with O_APPEND, whose writes
// ignore the offsets given.
func isAppending(f *os.File) bool {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	return e != 0 || r&syscall.O_APPEND != 0
}

// reserve allocates the file's blocks for [off, off+n), where the file
// system can.
func reserve(f *os.File, off, n int64) error {
	err := syscall.Fallocate(int(f.Fd()), 0, off, n)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return nil
	}
	return err
}
