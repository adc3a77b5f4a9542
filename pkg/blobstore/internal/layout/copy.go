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
// offset 0) and hashes it, in one pass: from the second read on, each
// buffer read is handed to a hashing goroutine and written out meanwhile, so
// hashing (one core) overlaps reading and writing (the other), and the
// file's write-back to the disk is started as it grows
// ([writeback.Sequential]), so the caller's sync has little left to do.
// What each read gives is written at once, as io.Copy does: a stream that
// pauses has all it gave so far in the file. It reads no more than limit+1
// bytes (limit < 0: no limit), so an overlong stream stops early. A blob of
// one read (a manifest) is hashed on the caller's goroutine, which then
// starts none.
func copyHashed(f *os.File, r io.Reader, limit int64) (int64, hash.Hash, error) {
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	c := &copier{h: sha256.New(), wb: writeback.NewSequential(f, 0)}
	defer c.stop()
	c.bufs[0] = copyBufs.Get().(*[]byte)
	var total int64
	for {
		n, err := r.Read(*c.bufs[c.cur])
		if n > 0 {
			p := (*c.bufs[c.cur])[:n]
			if total == 0 {
				c.h.Write(p) // the first read: maybe all there is
			} else {
				c.start()
				c.full <- piece{c.cur, n}
			}
			// The hasher only reads the buffer, which comes back through
			// free once it is done.
			if werr := writePieces(f, p); werr != nil {
				return total, nil, werr
			}
			total += int64(n)
			c.wb.Wrote(n)
			if werr := c.wb.Err(); werr != nil {
				// Told once, to the wait: the final sync would not be.
				return total, nil, werr
			}
			if c.started {
				c.cur = <-c.free
			}
		}
		if errors.Is(err, io.EOF) {
			c.stop()
			return total, c.h, nil
		}
		if err != nil {
			return total, nil, err
		}
	}
}

// writePieces writes p to f at most [writeback.WriteSize] bytes at a time.
func writePieces(f *os.File, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), writeback.WriteSize)
		if _, err := f.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// copier is the state of one copyHashed.
type copier struct {
	h       hash.Hash
	wb      *writeback.Sequential
	bufs    [copyBuffers]*[]byte
	cur     int // the buffer read into next
	started bool
	stopped bool
	free    chan int
	full    chan piece
	done    chan struct{}
}

// start takes the other buffers and starts the hashing goroutine, once.
func (c *copier) start() {
	if c.started {
		return
	}
	c.started = true
	c.free = make(chan int, copyBuffers)
	c.full = make(chan piece, copyBuffers)
	c.done = make(chan struct{})
	for i := 1; i < copyBuffers; i++ {
		c.bufs[i] = copyBufs.Get().(*[]byte)
		c.free <- i
	}
	go func() {
		defer close(c.done)
		for p := range c.full {
			c.h.Write((*c.bufs[p.i])[:p.n])
			c.free <- p.i
		}
	}()
}

// stop waits until everything handed to the hasher is hashed, and gives
// the buffers back; it may be called more than once.
func (c *copier) stop() {
	if c.stopped {
		return
	}
	c.stopped = true
	if c.started {
		close(c.full)
		<-c.done
	}
	for _, b := range c.bufs {
		if b != nil {
			copyBufs.Put(b)
		}
	}
}
