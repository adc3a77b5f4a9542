//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"syscall"
)

// placedWindow is how much of the output file one writer maps at a time.
// Mapped pages count towards the process's resident set until they are
// unmapped, so windows stay small: --jobs of them are at most a few MiB.
const placedWindow = 2 << 20

// openPlaced returns a placed output for total bytes to be written to f
// from its current offset on, or nil if f does not allow it: not a regular
// file, opened for appending, on a file system without fallocate, or not
// mappable. The space is reserved first, so a full disk is an error before
// any download, and no write into a mapping can fail for want of space.
func openPlaced(f *os.File, total int64) (*placed, error) {
	if total <= 0 {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, nil //nolint:nilerr // not a file: write it the ordinary way
	}
	flags, err := fcntlGetfl(f)
	if err != nil || flags&syscall.O_APPEND != 0 {
		return nil, nil //nolint:nilerr // appending: offsets are not ours to choose
	}
	base, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, nil //nolint:nilerr // not seekable after all
	}
	// A shared writable mapping needs a descriptor open for reading and
	// writing; standard output redirected by a shell is write-only, so the
	// same file is opened again.
	rw := f
	if flags&syscall.O_ACCMODE != syscall.O_RDWR {
		rw, err = os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_RDWR, 0)
		if err != nil {
			return nil, nil //nolint:nilerr // not readable, or no /proc
		}
		if rfi, err := rw.Stat(); err != nil || !os.SameFile(fi, rfi) {
			rw.Close()
			return nil, nil //nolint:nilerr // not the same file
		}
	}
	p := &placed{f: f, rw: rw, base: base, end: base + total, origSize: fi.Size(), page: int64(os.Getpagesize())}
	if err := syscall.Fallocate(int(rw.Fd()), 0, base, total); err != nil {
		p.closeRW()
		if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EINVAL) {
			return nil, nil
		}
		return nil, fmt.Errorf("writing the output: reserving %d bytes: %w", total, err)
	}
	return p, nil
}

func fcntlGetfl(f *os.File) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// placed writes blobs of known sizes straight to their final offsets in a
// regular file, several at once, through small shared mappings of it. One
// ordered stream of write(2) calls would take the file's lock for every
// copy into the page cache, so only one core could do that work; mapped
// windows are filled in parallel.
type placed struct {
	f        *os.File // the output as given
	rw       *os.File // the same file, open for reading and writing
	base     int64    // offset of the first byte written
	end      int64    // offset after the last byte
	origSize int64    // the file's size before
	page     int64
}

// section returns a writer of the size bytes at offset off (relative to
// the start of the output). Its Write fails rather than write past them.
func (p *placed) section(off, size int64) *placedSection {
	return &placedSection{p: p, start: p.base + off, pos: p.base + off, limit: p.base + off + size}
}

// finish leaves the file as an ordinary sequential write of its first n
// bytes would have: on success (n is everything) the descriptor's offset
// moves past the data; on failure the file is cut after the n bytes that
// had been written in order, unless it was longer to begin with.
func (p *placed) finish(n int64) error {
	defer p.closeRW()
	end := p.base + n
	if end < p.end {
		if err := p.f.Truncate(max(end, p.origSize)); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
	}
	if _, err := p.f.Seek(end, io.SeekStart); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}

func (p *placed) closeRW() {
	if p.rw != p.f {
		p.rw.Close()
	}
}

// placedSection writes one blob's bytes into its place, mapping a window of
// the file at a time. It is used by one goroutine.
type placedSection struct {
	p      *placed
	start  int64 // file offset of the section
	pos    int64 // next file offset to write
	limit  int64 // file offset after the section
	m      []byte
	mStart int64 // file offset of m[0]
}

// Write copies b into the file at the section's current position.
func (s *placedSection) Write(b []byte) (n int, err error) {
	if int64(len(b)) > s.limit-s.pos {
		return 0, errSectionFull
	}
	// A mapped file that shrinks under us (another process truncating it)
	// faults; make that an error instead of a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = errors.New("writing the output: the file was truncated while being written")
		}
	}()
	for len(b) > 0 {
		if s.m == nil || s.pos >= s.mStart+int64(len(s.m)) {
			if err := s.remap(); err != nil {
				return n, err
			}
		}
		c := copy(s.m[s.pos-s.mStart:], b)
		b = b[c:]
		n += c
		s.pos += int64(c)
	}
	return n, nil
}

var errSectionFull = errors.New("more data than the blob's size")

// remap maps the window that holds s.pos.
func (s *placedSection) remap() error {
	s.unmap()
	start := s.pos &^ (s.p.page - 1)
	length := min(placedWindow, s.limit-start)
	m, err := syscall.Mmap(int(s.p.rw.Fd()), start, int(length), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	runtime.KeepAlive(s.p.rw)
	if err != nil {
		return fmt.Errorf("writing the output: mapping it: %w", err)
	}
	s.m, s.mStart = m, start
	return nil
}

func (s *placedSection) unmap() {
	if s.m != nil {
		_ = syscall.Munmap(s.m)
		s.m = nil
	}
}

// close releases the section's mapping.
func (s *placedSection) close() { s.unmap() }

// written is how many bytes of the section have been written.
func (s *placedSection) written() int64 { return s.pos - s.start }
