package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// placed writes blobs of known sizes straight to their final offsets in a
// regular file, several at once (pull-blob into a file). Each blob's worker
// reads it into a buffer of its own, hashing as it goes (no copy, no hasher
// goroutine), and writes each buffer at its place with pwrite: no blob waits
// for the one before it to be written out, and no data is held in memory
// beyond one buffer per worker.
type placed struct {
	f        *os.File // the output
	base     int64    // offset of the first byte written
	end      int64    // offset after the last byte
	origSize int64    // the file's size before
}

// placedBuffer is the size of each worker's buffer.
const placedBuffer = 512 << 10

// openPlaced returns a placed output for total bytes to be written to f
// from its current offset on, or nil if f does not allow it: not a regular
// file, opened for appending, or not seekable, or a system without the
// means. Space is reserved first where the file system can, so a full disk
// is an error before any download.
func openPlaced(f *os.File, total int64) (*placed, error) {
	if !placedSupported || total <= 0 {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || isAppending(f) {
		return nil, nil //nolint:nilerr // not a plain file: write it the ordinary way
	}
	base, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, nil //nolint:nilerr // not seekable after all
	}
	if err := reserve(f, base, total); err != nil {
		return nil, fmt.Errorf("writing the output: reserving %d bytes: %w", total, err)
	}
	return &placed{f: f, base: base, end: base + total, origSize: fi.Size()}, nil
}

// placedBuffers recycles the workers' buffers.
var placedBuffers = sync.Pool{New: func() any { b := make([]byte, placedBuffer); return &b }}

// section returns the writer of the size bytes at offset off (counted from
// the start of the output).
func (p *placed) section(off, size int64) *placedSection {
	return &placedSection{p: p, start: p.base + off, pos: p.base + off, limit: p.base + off + size}
}

// finish leaves the file as an ordinary sequential write of the output's
// first n bytes would have: on success (n is everything) the descriptor's
// offset moves past the data; on failure the file is cut after the n bytes
// that had been written in order, unless it was longer to begin with.
func (p *placed) finish(n int64) error {
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

// placedSection is one blob's place in the output. It is used by one
// goroutine.
type placedSection struct {
	p     *placed
	start int64 // file offset of the section
	pos   int64 // next file offset to write
	limit int64 // file offset after the section
}

// errSectionFull is a blob longer than its place.
var errSectionFull = errors.New("more data than the blob's size")

// readFrom fills the section from r, which must hold exactly its bytes
// (and report any verification failure as a read error), calling progress
// with each count of bytes written.
func (s *placedSection) readFrom(r io.Reader, progress func(int)) error {
	bp := placedBuffers.Get().(*[]byte)
	defer placedBuffers.Put(bp)
	buf := *bp
	for s.pos < s.limit {
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), s.limit-s.pos)])
		if n > 0 {
			if _, werr := s.p.f.WriteAt(buf[:n], s.pos); werr != nil {
				return fmt.Errorf("writing the output: %w", werr)
			}
			s.pos += int64(n)
			progress(n)
		}
		switch {
		case err == nil:
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return errSectionShort
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
		return errSectionFull
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}

// errSectionShort is a blob that ended before filling its place.
var errSectionShort = errors.New("fewer bytes than the blob's size")

// written is how many bytes of the section have been written.
func (s *placedSection) written() int64 { return s.pos - s.start }
