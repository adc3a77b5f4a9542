package placed

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

const placedSupported = true

var errInvalid = syscall.EINVAL

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

// openDirect opens f's file again for direct I/O, returning nil if the
// file system does not do it. Its blocks are the page size or 4 KiB,
// whichever is larger: enough for any common device, and the page cache
// then never holds a page that direct writes also touch.
func openDirect(f *os.File, fi os.FileInfo) (*os.File, int64) {
	d, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil, 0
	}
	if dfi, err := d.Stat(); err != nil || !os.SameFile(fi, dfi) {
		d.Close()
		return nil, 0
	}
	return d, max(4096, int64(os.Getpagesize()))
}
