// Package placed writes blobs of known sizes straight to their final
// offsets in a file (or any io.WriterAt), several at once. The Linux-only
// means — direct I/O through a second descriptor, preallocation, the check
// for O_APPEND — are in placed_linux.go; elsewhere files are written the
// portable way.
package placed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"
)

// File writes blobs of known sizes straight to their final offsets in a
// regular file, several at once. Each blob's worker
// reads it into a buffer of its own, hashing as it goes, and writes each
// buffer at its place with pwrite. Where the file system allows, the
// block-aligned bulk of every blob goes through a second descriptor opened
// with O_DIRECT: straight from the buffer to the device. Filling the page
// cache instead is done under the file's lock, one writer at a time, and
// can cost more than the whole transfer: on a virtual machine whose freed
// memory goes back to the host, every first touch of a page waits on the
// host (make bench's alias pull took 0.8-1 s that way, against 0.35 s
// with direct writes). Only the few bytes of a blob in a block it shares
// with its neighbours go through the page cache.
type File struct {
	w        io.WriterAt // where the bytes go: f, or any io.WriterAt
	f        *os.File    // the output, as given; nil for an io.WriterAt
	direct   *os.File    // the same file opened for direct I/O, or nil
	noDirect atomic.Bool
	align    int64 // block size for direct I/O
	base     int64 // offset of the first byte written
	end      int64 // offset after the last byte
	origSize int64 // the file's size before
}

// placedBuffer is each worker's buffer: a multiple of any block size.
const placedBuffer = 512 << 10

// Open returns a placed output for total bytes to be written to f
// from its current offset on, or nil if f does not allow it: not a regular
// file, opened for appending, or not seekable, or a system without the
// means. Space is reserved first where the file system can, so a full disk
// is an error before any download.
func Open(f *os.File, total int64) (*File, error) {
	if total <= 0 || !Placeable(f) {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, nil //nolint:nilerr // write it the ordinary way
	}
	base, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, nil //nolint:nilerr // not seekable after all
	}
	if err := reserve(f, base, total); err != nil {
		return nil, fmt.Errorf("writing the output: reserving %d bytes: %w", total, err)
	}
	p := &File{w: f, f: f, base: base, end: base + total, origSize: fi.Size()}
	p.direct, p.align = openDirect(f, fi)
	return p, nil
}

// NewWriterAt returns a File that writes the total bytes at offset base on
// of w, through its WriteAt only: no direct I/O, no preallocation, and
// Finish leaves w as it is.
func NewWriterAt(w io.WriterAt, base, total int64) *File {
	return &File{w: w, base: base, end: base + total}
}

// Placeable reports whether blobs can be written in place in f: a regular
// file, not opened for appending, on a system where this is done.
func Placeable(f *os.File) bool {
	if !placedSupported {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular() && !isAppending(f)
}

// Finish leaves the file as an ordinary sequential write of the output's
// first n bytes would have: on success (n is everything) the descriptor's
// offset moves past the data; on failure the file is cut after the n bytes
// that had been written in order, unless it was longer to begin with.
func (p *File) Finish(n int64) error {
	if p.f == nil {
		return nil
	}
	if p.direct != nil {
		p.direct.Close()
	}
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

// writeAt writes b at file offset off: its block-aligned part directly if
// it can, the rest through the page cache.
func (p *File) writeAt(b []byte, off int64) error {
	if p.direct != nil && !p.noDirect.Load() && off%p.align == 0 && addrOf(b)%p.align == 0 {
		if n := int64(len(b)) &^ (p.align - 1); n > 0 {
			_, err := p.direct.WriteAt(b[:n], off)
			switch {
			case err == nil:
				b, off = b[n:], off+n
			case errors.Is(err, errInvalid):
				// This file or device wants another alignment after all:
				// write everything through the page cache from now on.
				p.noDirect.Store(true)
			default:
				return fmt.Errorf("writing the output: %w", err)
			}
		}
	}
	if len(b) == 0 {
		return nil
	}
	if _, err := p.w.WriteAt(b, off); err != nil {
		return fmt.Errorf("writing the output: %w", err)
	}
	return nil
}

// alignment is the block size the section's reads keep to.
func (p *File) alignment() int64 {
	if p.direct == nil {
		return 1
	}
	return p.align
}

// Section is one blob's place in the output. It is used by one
// goroutine.
type Section struct {
	p     *File
	start int64 // file offset of the section
	pos   int64 // next file offset to write
	limit int64 // file offset after the section
}

// Section returns the writer of the size bytes at offset off (counted from
// the start of the output).
func (p *File) Section(off, size int64) *Section {
	return &Section{p: p, start: p.base + off, pos: p.base + off, limit: p.base + off + size}
}

// Write writes b at the section's current position: the section is the
// io.Writer of one blob streamed by BlobReader.WriteTo.
func (s *Section) Write(b []byte) (int, error) {
	if int64(len(b)) > s.limit-s.pos {
		return 0, ErrFull
	}
	if err := s.p.writeAt(b, s.pos); err != nil {
		return 0, err
	}
	s.pos += int64(len(b))
	return len(b), nil
}

// ErrFull is a blob longer than its place.
var ErrFull = errors.New("more data than the blob's size")

// Fill fills the section from r, which must hold exactly its bytes
// (and report any verification failure as a read error), calling progress
// with each count of bytes written.
func (s *Section) Fill(r io.Reader, progress func(int)) error {
	bp := alignedBuffers.Get().(*[]byte)
	defer alignedBuffers.Put(bp)
	buf := *bp
	for s.pos < s.limit {
		want := min(int64(len(buf)), s.limit-s.pos)
		if r := s.pos % s.p.alignment(); r != 0 {
			// Up to the next block boundary first: then whole buffers
			// fall on block boundaries.
			want = min(want, s.p.alignment()-r)
		}
		n, err := io.ReadFull(r, buf[:want])
		if n > 0 {
			if werr := s.p.writeAt(buf[:n], s.pos); werr != nil {
				return werr
			}
			s.pos += int64(n)
			progress(n)
		}
		switch {
		case err == nil:
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return ErrShort
		default:
			return err
		}
	}
	// Every byte is in place: the end of the blob, where r verifies it,
	// must come now.
	var one [1]byte
	n, err := r.Read(one[:])
	for n == 0 && err == nil {
		n, err = r.Read(one[:])
	}
	switch {
	case n > 0:
		return ErrFull
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}

// ErrShort is a blob that ended before filling its place.
var ErrShort = errors.New("fewer bytes than the blob's size")

// Written is how many bytes of the section have been written.
func (s *Section) Written() int64 { return s.pos - s.start }

// alignedBuffers recycles the workers' buffers, aligned in memory to any
// block size as direct I/O requires (Go does not move heap objects).
var alignedBuffers = sync.Pool{New: func() any {
	const align = 64 << 10
	b := make([]byte, placedBuffer+align)
	off := 0
	if r := addrOf(b) % align; r != 0 {
		off = int(align - r)
	}
	b = b[off : off+placedBuffer : off+placedBuffer]
	return &b
}}

// addrOf is the memory address of b's first byte, to check its alignment.
func addrOf(b []byte) int64 {
	return int64(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) //nolint:gosec // only compared, never dereferenced
}
