package blobstore

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"hash"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// asyncHasher computes SHA-256 on another goroutine, so hashing overlaps
// with reading and sending: Write copies the data into one of a few fixed
// buffers and returns. It takes its buffers (hasherBuffers ×
// hasherBufferSize, recycled between hashers) and starts its goroutine only
// when the first data arrives, and gives them back as soon as the digest is
// known: a blob opened ahead of its turn holds none. It is not safe for
// concurrent use.
type asyncHasher struct {
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
	// off makes the hasher ignore its input (a push whose digest is
	// computed elsewhere, see speculate.go): Write, state and restore do
	// nothing.
	off bool
}

const (
	hasherBuffers    = 4
	hasherBufferSize = 512 << 10
	// hasherInline is how many bytes Write hashes on the calling goroutine
	// before it starts the hashing goroutine and takes the buffers: for a
	// small blob, taking 2 MiB of buffers (and clearing them when the
	// pool has been emptied by a garbage collection) costs more than
	// hashing it, and thousands of small blobs pushed at once made most of
	// the client's work so.
	hasherInline = 64 << 10
)

// hashBuffers recycles hasher buffers between blobs, so pushing many files
// at once does not make garbage at the rate of the data.
var hashBuffers = sync.Pool{New: func() any { b := make([]byte, 0, hasherBufferSize); return &b }}

func newAsyncHasher() *asyncHasher {
	return &asyncHasher{h: sha256.New()}
}

// start takes the buffers and starts the hashing goroutine, once.
func (a *asyncHasher) start() {
	if a.started {
		return
	}
	a.started = true
	a.free = make(chan []byte, hasherBuffers)
	a.full = make(chan []byte, hasherBuffers)
	a.done = make(chan struct{})
	for range hasherBuffers {
		a.free <- (*hashBuffers.Get().(*[]byte))[:0]
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
func (a *asyncHasher) Write(p []byte) (int, error) {
	n := len(p)
	if a.off {
		return n, nil
	}
	if !a.started && a.inline+int64(n) <= hasherInline {
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

// writeInline hashes p on the calling goroutine, after anything written
// before.
func (a *asyncHasher) writeInline(p []byte) {
	a.sync()
	a.h.Write(p)
}

// buffer hands out an empty buffer of hasherBufferSize bytes for the caller
// to fill and pass to submit: hashing then needs no copy. Pending data from
// Write is sent to hashing first.
func (a *asyncHasher) buffer() []byte {
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

// submit hashes b, a buffer from buffer, on the hashing goroutine. The
// caller may keep reading b (e.g. write it out) until its next call to
// buffer, Write, sync or digest, but must not change it.
func (a *asyncHasher) submit(b []byte) {
	if len(b) == 0 {
		a.free <- b[:0]
		return
	}
	a.full <- b
}

// sync waits until everything written so far has been hashed.
func (a *asyncHasher) sync() {
	if !a.started || a.finished {
		return
	}
	if len(a.cur) > 0 {
		a.full <- a.cur
		a.cur = nil
	}
	// Take every buffer back: then none is pending.
	held := make([][]byte, 0, hasherBuffers)
	if a.cur != nil {
		held = append(held, a.cur)
		a.cur = nil
	}
	for len(held) < hasherBuffers {
		held = append(held, <-a.free)
	}
	for _, b := range held {
		a.free <- b
	}
}

// state returns the hash state (for resuming later at this point).
func (a *asyncHasher) state() []byte {
	if a.off {
		return nil
	}
	a.sync()
	s, _ := a.h.(encoding.BinaryMarshaler).MarshalBinary()
	return s
}

// restore returns the hash to a state saved by state (nil: the start).
func (a *asyncHasher) restore(s []byte) error {
	if a.off {
		return nil
	}
	a.sync()
	if s == nil {
		a.h.Reset()
		return nil
	}
	return a.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(s)
}

// digest finishes: it waits for all data, stops the goroutine, gives the
// buffers back and returns the digest. Only digest may be called after.
func (a *asyncHasher) digest() v1.Hash {
	a.stop()
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(a.h.Sum(nil))}
}

// close stops the goroutine and gives the buffers back. It may be called
// after digest, and more than once.
func (a *asyncHasher) close() { a.stop() }

func (a *asyncHasher) stop() {
	if !a.started || a.finished {
		return
	}
	a.sync()
	close(a.full)
	<-a.done
	a.finished = true
	for range hasherBuffers {
		b := (<-a.free)[:0]
		hashBuffers.Put(&b)
	}
}
