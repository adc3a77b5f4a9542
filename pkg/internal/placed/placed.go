// Package placed writes blobs of known sizes straight to their final
// offsets in a file (or any io.WriterAt), several at once. The Linux-only
// means — preallocation, the check for O_APPEND — are in placed_linux.go;
// elsewhere files are written the portable way.
package placed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/dxf-go/dxf/internal/writeback"
)

// File writes blobs of known sizes straight to their final offsets in a
// regular file, several at once. Each blob's worker reads it into a buffer
// of its own, hashing as it goes, and writes each buffer at its place with
// pwrite, through the page cache as every peer does. (Direct I/O was tried:
// on the benchmark machine it took twice as long for a 1 GiB pull into a
// file, page cache warm or dropped, and 1.6x for an alias of 64 blobs.)
type File struct {
	w        io.WriterAt // where the bytes go: f, or any io.WriterAt
	f        *os.File    // the output, as given; nil for an io.WriterAt
	base     int64       // offset of the first byte written
	end      int64       // offset after the last byte
	origSize int64       // the file's size before
}

// placedBuffer is each worker's buffer.
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
	return &File{w: f, f: f, base: base, end: base + total, origSize: fi.Size()}, nil
}

// NewWriterAt returns a File that writes the total bytes at offset base on
// of w, through its WriteAt only: no preallocation, and
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

// writeAt writes b at offset off: to a file, in pieces of at most
// [writeback.WriteSize] bytes.
func (p *File) writeAt(b []byte, off int64) error {
	piece := len(b)
	if p.f != nil {
		piece = writeback.WriteSize
	}
	for len(b) > 0 {
		n := min(len(b), piece)
		if _, err := p.w.WriteAt(b[:n], off); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
		b, off = b[n:], off+int64(n)
	}
	return nil
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
	bp := buffers.Get().(*[]byte)
	defer buffers.Put(bp)
	buf := *bp
	for s.pos < s.limit {
		want := min(int64(len(buf)), s.limit-s.pos)
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

// buffers recycles the workers' buffers.
var buffers = sync.Pool{New: func() any {
	b := make([]byte, placedBuffer)
	return &b
}}
