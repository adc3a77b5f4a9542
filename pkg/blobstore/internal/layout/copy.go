package layout

import (
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"os"
	"sync"

	"github.com/dxf-go/dxf/internal/writeback"
)

// The buffers a blob is copied through: data is read into one while the
// ones before it are hashed on another goroutine.
const (
	copyBuffers    = 4
	copyBufferSize = 1 << 20
)

// copyBufs recycles copy buffers between blobs.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufferSize); return &b }}

// piece is the first n bytes of buffer i.
type piece struct{ i, n int }

// copyHashed writes what r gives, up to EOF, into f (a new file, at its
// offset 0) and hashes it, in one pass: each buffer read is handed to a
// hashing goroutine and written out meanwhile, so hashing (one core) overlaps
// reading and writing (the other), and the file's write-back to the disk is
// started as it grows ([writeback.Sequential]), so the caller's sync has
// little left to do. It reads no more than limit+1 bytes (limit < 0: no
// limit), so an overlong stream stops early. A blob that fits in one buffer
// is copied on the caller's goroutine.
func copyHashed(f *os.File, r io.Reader, limit int64) (int64, hash.Hash, error) {
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	h := sha256.New()
	wb := writeback.NewSequential(f, 0)
	var bufs [copyBuffers]*[]byte
	bufs[0] = copyBufs.Get().(*[]byte)
	n, end, err := readBuffer(r, *bufs[0])
	if end {
		// Small: one buffer, no goroutine.
		defer copyBufs.Put(bufs[0])
		h.Write((*bufs[0])[:n])
		if err == nil && n > 0 {
			_, err = f.Write((*bufs[0])[:n])
		}
		return int64(n), h, err
	}
	free := make(chan int, copyBuffers)
	for i := 1; i < copyBuffers; i++ {
		bufs[i] = copyBufs.Get().(*[]byte)
		free <- i
	}
	full := make(chan piece, copyBuffers)
	var wg sync.WaitGroup
	wg.Go(func() {
		for p := range full {
			h.Write((*bufs[p.i])[:p.n])
			free <- p.i
		}
	})
	var total int64
	cur := 0
	for {
		if n > 0 {
			full <- piece{cur, n}
			// The hasher only reads the buffer, which comes back through
			// free once both are done with it.
			if _, werr := f.Write((*bufs[cur])[:n]); werr != nil {
				err = werr
				break
			}
			total += int64(n)
			wb.Wrote(n)
		}
		if end {
			break
		}
		cur = <-free
		n, end, err = readBuffer(r, *bufs[cur])
	}
	close(full)
	wg.Wait()
	for _, b := range bufs {
		copyBufs.Put(b)
	}
	return total, h, err
}

// readBuffer fills buf from r. end reports that r has nothing more (EOF)
// or failed (err).
func readBuffer(r io.Reader, buf []byte) (n int, end bool, err error) {
	for n < len(buf) && err == nil {
		var m int
		m, err = r.Read(buf[n:])
		n += m
	}
	if errors.Is(err, io.EOF) {
		return n, true, nil
	}
	return n, err != nil, err
}
