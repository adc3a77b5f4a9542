//go:build linux

package writeback

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

const supported = true

// startWrite starts writing the dirty pages of f in [off, off+n) (n 0: to
// the end of the file) to the disk, without waiting for them. Failing is
// doing nothing (a closed file, a file system that does not take it).
func startWrite(f *os.File, off, n int64) {
	_ = syncRange(f, off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// waitWritten starts writing the dirty pages of f in [off, off+n) and waits
// until all of them are written. It returns a write error the kernel
// reports for the file (once: a later fsync is not told of it again), not
// that the call cannot be made (a closed file, a file system that does not
// take it: then it does nothing).
func waitWritten(f *os.File, off, n int64) error {
	err := syncRange(f, off, n, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	switch {
	case err == nil, errors.Is(err, os.ErrClosed), errors.Is(err, unix.EBADF), errors.Is(err, unix.EINVAL),
		errors.Is(err, unix.ESPIPE), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return nil
	}
	return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: err}
}

// syncRange runs sync_file_range on f.
func syncRange(f *os.File, off, n int64, flags int) error {
	return control(f, func(fd int) error { return unix.SyncFileRange(fd, off, n, flags) })
}

// cached returns how many bytes of f the page cache holds; false if the
// system does not tell (a kernel before 6.5, a closed file).
func cached(f *os.File) (int64, bool) {
	var cs unix.Cachestat_t
	if err := control(f, func(fd int) error {
		return unix.Cachestat(uint(fd), &unix.CachestatRange{}, &cs, 0)
	}); err != nil {
		return 0, false
	}
	// Bounded (2^40 pages is more than any file), so the conversion holds.
	return int64(min(cs.Cache, 1<<40)) * int64(os.Getpagesize()), true
}

// dataSync makes f's data durable (fdatasync).
func dataSync(f *os.File) error {
	return control(f, func(fd int) error {
		if err := unix.Fdatasync(fd); err != nil {
			return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
		}
		return nil
	})
}

// control runs call on f's descriptor: the error of reaching it (a closed
// file), else call's.
func control(f *os.File, call func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = call(int(fd)) }); err != nil {
		return err
	}
	return cerr
}
