//go:build linux

package writeback

import (
	"os"

	"golang.org/x/sys/unix"
)

const supported = true

// startWrite starts writing the dirty pages of f in [off, off+n) (n 0: to
// the end of the file) to the disk, without waiting for them.
func startWrite(f *os.File, off, n int64) {
	syncRange(f, off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// waitWritten starts writing the dirty pages of f in [off, off+n) and waits
// until all of them are written.
func waitWritten(f *os.File, off, n int64) {
	syncRange(f, off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
}

// syncRange runs sync_file_range on f; failing is doing nothing (a closed
// file, a file system that does not take it).
func syncRange(f *os.File, off, n int64, flags int) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, flags)
	})
}
