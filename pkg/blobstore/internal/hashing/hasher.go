// Package hashing computes the SHA-256 digests of blobs on the way through:
// a [Hasher] hashes on another goroutine, overlapping with reading and
// sending.
package hashing

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"hash"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Hasher computes SHA-256 on another goroutine, so hashing overlaps
// with reading and sending: Write copies the data into one of a few fixed
// buffers and returns. It takes its buffers (buffers ×
// BufferSize, recycled between hashers) and starts its goroutine only
// when the first data arrives, and gives them back as soon as the digest is
// known: a blob opened ahead of its turn holds none. It is not safe for
// concurrent use.
type Hasher struct {
	h        hash.Hash
	cur      []byte
	free     chan []byte
	full     chan []byte
	done     chan struct{}
	started  bool
	finished bool
	// inline counts the bytes hashed by Write on the calling goroutine
	// before the start: a small blob never takes the buffers.
	inline int64
	// Off makes the hasher ignore its input (a push whose digest is
	// computed elsewhere): Write, State and Restore do
	// nothing.
	Off bool
}

const buffers = 4

// BufferSize is the size of each buffer a Hasher holds while hashing.
const BufferSize = 512 << 10

// inlineSize is how many bytes Write hashes on the calling goroutine
// before it starts the hashing goroutine and takes the buffers: for a small
// blob, taking 2 MiB of buffers (and clearing them when the pool has been
// emptied by a garbage collection) costs more than hashing it, and
// thousands of small blobs pushed at once made most of the client's work
// so.
const inlineSize = 64 << 10

// pool recycles hasher buffers between blobs, so pushing many files
// at once does not make garbage at the rate of the data.
var pool = sync.Pool{New: func() any { b := make([]byte, 0, BufferSize); return &b }}

// New returns a Hasher at the start of a blob.
func New() *Hasher {
	return &Hasher{h: sha256.New()}
}

// start takes the buffers and starts the hashing goroutine, once.
func (a *Hasher) start() {
	if a.started {
		return
	}
	a.started = true
	a.free = make(chan []byte, buffers)
	a.full = make(chan []byte, buffers)
	a.done = make(chan struct{})
	for range buffers {
		a.free <- (*pool.Get().(*[]byte))[:0]
	}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.h.Write(b)
			a.free <- b[:0]
		}
	}()
}

// Write implements io.Writer; it never fails.
func (a *Hasher) Write(p []byte) (int, error) {
	n := len(p)
	if a.Off {
		return n, nil
	}
	if !a.started && a.inline+int64(n) <= inlineSize {
		a.inline += int64(n)
		a.h.Write(p)
		return n, nil
	}
	if n > 0 {
		a.start()
	}
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = <-a.free
		}
		c := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur = a.cur[:len(a.cur)+c]
		p = p[c:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
	return n, nil
}

// WriteInline hashes p on the calling goroutine, after anything written
// before.
func (a *Hasher) WriteInline(p []byte) {
	a.Sync()
	a.h.Write(p)
}

// Buffer hands out an empty buffer of BufferSize bytes for the caller
// to fill and pass to submit: hashing then needs no copy. Pending data from
// Write is sent to hashing first.
func (a *Hasher) Buffer() []byte {
	a.start()
	if a.cur != nil {
		if len(a.cur) > 0 {
			a.full <- a.cur
		} else {
			b := a.cur
			a.cur = nil
			return b[:cap(b)]
		}
		a.cur = nil
	}
	b := <-a.free
	return b[:cap(b)]
}

// Submit hashes b, a buffer from Buffer, on the hashing goroutine. The
// caller may keep reading b (e.g. write it out) until its next call to
// Buffer, Write, Sync or Digest, but must not change it.
func (a *Hasher) Submit(b []byte) {
	if len(b) == 0 {
		a.free <- b[:0]
		return
	}
	a.full <- b
}

// Sync waits until everything written so far has been hashed.
func (a *Hasher) Sync() {
	if !a.started || a.finished {
		return
	}
	if len(a.cur) > 0 {
		a.full <- a.cur
		a.cur = nil
	}
	// Take every buffer back: then none is pending.
	held := make([][]byte, 0, buffers)
	if a.cur != nil {
		held = append(held, a.cur)
		a.cur = nil
	}
	for len(held) < buffers {
		held = append(held, <-a.free)
	}
	for _, b := range held {
		a.free <- b
	}
}

// State returns the hash state (for resuming later at this point).
func (a *Hasher) State() []byte {
	if a.Off {
		return nil
	}
	a.Sync()
	s, _ := a.h.(encoding.BinaryMarshaler).MarshalBinary()
	return s
}

// Restore returns the hash to a state saved by State (nil: the start).
func (a *Hasher) Restore(s []byte) error {
	if a.Off {
		return nil
	}
	a.Sync()
	if s == nil {
		a.h.Reset()
		return nil
	}
	return a.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s)
}

// Digest finishes: it waits for all data, stops the goroutine, gives the
// buffers back and returns the digest. Only Digest and Close may be called after.
func (a *Hasher) Digest() v1.Hash {
	a.stop()
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(a.h.Sum(nil))}
}

// Close stops the goroutine and gives the buffers back. It may be called
// after Digest, and more than once.
func (a *Hasher) Close() { a.stop() }

func (a *Hasher) stop() {
	if !a.started || a.finished {
		return
	}
	a.Sync()
	close(a.full)
	<-a.done
	a.finished = true
	for range buffers {
		b := (<-a.free)[:0]
		pool.Put(&b)
	}
}

// GetBuffer lends a buffer of BufferSize bytes capacity from the pool the
// hashers share; give it back with PutBuffer.
func GetBuffer() *[]byte { return pool.Get().(*[]byte) }

// PutBuffer gives back a buffer from GetBuffer.
func PutBuffer(b *[]byte) { pool.Put(b) }
