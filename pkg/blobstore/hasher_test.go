package blobstore

import (
	"bytes"
	"testing"
)

// hashOps feeds data to an asyncHasher in pieces whose sizes and ways
// (Write, writeInline, buffer+submit, an empty submit, a sync) come from
// ops, and returns the digest.
func hashOps(data, ops []byte) (*asyncHasher, []byte) {
	a := newAsyncHasher()
	var fed []byte
	for i := 0; len(data) > 0 || i < len(ops); i++ {
		op := byte(i)
		if i < len(ops) {
			op = ops[i]
		}
		n := min(len(data), int(op>>2)*4099+int(op&3))
		if i >= len(ops) {
			n = len(data)
		}
		p := data[:n]
		switch op & 3 {
		case 0:
			_, _ = a.Write(p)
		case 1:
			a.writeInline(p)
		case 2:
			b := a.buffer()
			m := copy(b, p)
			a.submit(b[:m])
			p = p[:m]
		case 3:
			a.sync()
			a.submit(a.buffer()[:0])
			_, _ = a.Write(p)
		}
		fed = append(fed, p...)
		data = data[len(p):]
	}
	return a, fed
}

func TestAsyncHasherMatchesSHA256(t *testing.T) {
	for _, size := range []int{0, 1, hasherBufferSize - 1, hasherBufferSize, hasherBufferSize + 1, 5*hasherBufferSize + 12345} {
		data := randomBytes(t, size)
		for _, ops := range [][]byte{nil, {0}, {1}, {2}, {3}, {0xff, 0x01, 0x42, 0x83, 0x10}} {
			a, fed := hashOps(data, ops)
			if !bytes.Equal(fed, data) {
				t.Fatalf("size %d ops %x: fed %d bytes", size, ops, len(fed))
			}
			if got := a.digest(); got != HashBytes(data) {
				t.Fatalf("size %d ops %x: digest %s, want %s", size, ops, got, HashBytes(data))
			}
			a.close() // after digest, and again: no effect
			a.close()
		}
	}
}

func TestAsyncHasherIdleHoldsNothing(t *testing.T) {
	a := newAsyncHasher()
	a.sync()
	if a.state() == nil {
		t.Fatal("no state for the empty hash")
	}
	if a.started {
		t.Fatal("an idle hasher started its goroutine")
	}
	if got := a.digest(); got != HashBytes(nil) {
		t.Fatalf("digest of nothing %s", got)
	}
	b := newAsyncHasher()
	b.close() // never started: nothing to stop
}

func TestAsyncHasherStateRestore(t *testing.T) {
	data := randomBytes(t, 3*hasherBufferSize+77)
	a := newAsyncHasher()
	_, _ = a.Write(data[:hasherBufferSize+5])
	saved := a.state()
	// A chunk sent and lost: hashed, then taken back.
	_, _ = a.Write(randomBytes(t, 1000))
	if err := a.restore(saved); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Write(data[hasherBufferSize+5:])
	if got := a.digest(); got != HashBytes(data) {
		t.Fatalf("after restore: %s, want %s", got, HashBytes(data))
	}

	b := newAsyncHasher()
	_, _ = b.Write(randomBytes(t, 10))
	if err := b.restore(nil); err != nil { // back to the start
		t.Fatal(err)
	}
	_, _ = b.Write(data)
	if got := b.digest(); got != HashBytes(data) {
		t.Fatalf("after restore(nil): %s", got)
	}
	c := newAsyncHasher()
	if err := c.restore([]byte("not a state")); err == nil {
		t.Fatal("restore accepted garbage")
	}
	c.close()
}

func TestAsyncHasherOff(t *testing.T) {
	a := newAsyncHasher()
	a.off = true
	if n, err := a.Write([]byte("ignored")); n != 7 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if a.state() != nil || a.restore([]byte("x")) != nil || a.started {
		t.Fatal("a hasher that is off did something")
	}
	if got := a.digest(); got != HashBytes(nil) {
		t.Fatalf("digest %s", got)
	}
}

// FuzzAsyncHasher: whatever the pieces and the ways they are fed, the
// digest is SHA-256 of the data.
func FuzzAsyncHasher(f *testing.F) {
	f.Add([]byte("hello"), []byte{0, 1, 2, 3})
	f.Add(bytes.Repeat([]byte{7}, hasherBufferSize+3), []byte{0xfe, 0x02})
	f.Add([]byte{}, []byte{3, 3, 3})
	f.Fuzz(func(t *testing.T, data, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		a, fed := hashOps(data, ops)
		defer a.close()
		if !bytes.Equal(fed, data) {
			t.Fatalf("fed %d of %d bytes", len(fed), len(data))
		}
		if got := a.digest(); got != HashBytes(data) {
			t.Fatalf("digest %s, want %s", got, HashBytes(data))
		}
	})
}
