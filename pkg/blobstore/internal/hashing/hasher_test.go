package hashing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/testutil"
)

func randomBytes(t testing.TB, n int) []byte { return testutil.RandomBytes(t, n) }

func hashBytes(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// hashOps feeds data to a Hasher in pieces whose sizes and ways
// (Write, WriteInline, Buffer+Submit, an empty submit, a sync) come from
// ops, and returns the digest.
func hashOps(data, ops []byte) (*Hasher, []byte) {
	a := New()
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
			a.WriteInline(p)
		case 2:
			b := a.Buffer()
			m := copy(b, p)
			a.Submit(b[:m])
			p = p[:m]
		case 3:
			a.Sync()
			a.Submit(a.Buffer()[:0])
			_, _ = a.Write(p)
		}
		fed = append(fed, p...)
		data = data[len(p):]
	}
	return a, fed
}

func TestHasherMatchesSHA256(t *testing.T) {
	for _, size := range []int{0, 1, BufferSize - 1, BufferSize, BufferSize + 1, 5*BufferSize + 12345} {
		data := randomBytes(t, size)
		for _, ops := range [][]byte{nil, {0}, {1}, {2}, {3}, {0xff, 0x01, 0x42, 0x83, 0x10}} {
			a, fed := hashOps(data, ops)
			if !bytes.Equal(fed, data) {
				t.Fatalf("size %d ops %x: fed %d bytes", size, ops, len(fed))
			}
			if got := a.Digest(); got != hashBytes(data) {
				t.Fatalf("size %d ops %x: digest %s, want %s", size, ops, got, hashBytes(data))
			}
			a.Close() // after digest, and again: no effect
			a.Close()
		}
	}
}

func TestHasherIdleHoldsNothing(t *testing.T) {
	a := New()
	a.Sync()
	if a.State() == nil {
		t.Fatal("no state for the empty hash")
	}
	if a.started {
		t.Fatal("an idle hasher started its goroutine")
	}
	if got := a.Digest(); got != hashBytes(nil) {
		t.Fatalf("digest of nothing %s", got)
	}
	b := New()
	b.Close() // never started: nothing to stop
}

func TestHasherStateRestore(t *testing.T) {
	data := randomBytes(t, 3*BufferSize+77)
	a := New()
	_, _ = a.Write(data[:BufferSize+5])
	saved := a.State()
	// A chunk sent and lost: hashed, then taken back.
	_, _ = a.Write(randomBytes(t, 1000))
	if err := a.Restore(saved); err != nil {
		t.Fatal(err)
	}
	_, _ = a.Write(data[BufferSize+5:])
	if got := a.Digest(); got != hashBytes(data) {
		t.Fatalf("after restore: %s, want %s", got, hashBytes(data))
	}

	b := New()
	_, _ = b.Write(randomBytes(t, 10))
	if err := b.Restore(nil); err != nil { // back to the start
		t.Fatal(err)
	}
	_, _ = b.Write(data)
	if got := b.Digest(); got != hashBytes(data) {
		t.Fatalf("after restore(nil): %s", got)
	}
	c := New()
	if err := c.Restore([]byte("not a state")); err == nil {
		t.Fatal("restore accepted garbage")
	}
	c.Close()
}

func TestHasherOff(t *testing.T) {
	a := New()
	a.Off = true
	if n, err := a.Write([]byte("ignored")); n != 7 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if a.State() != nil || a.Restore([]byte("x")) != nil || a.started {
		t.Fatal("a hasher that is off did something")
	}
	if got := a.Digest(); got != hashBytes(nil) {
		t.Fatalf("digest %s", got)
	}
}

// FuzzHasher: whatever the pieces and the ways they are fed, the
// digest is SHA-256 of the data.
func FuzzHasher(f *testing.F) {
	f.Add([]byte("hello"), []byte{0, 1, 2, 3})
	f.Add(bytes.Repeat([]byte{7}, BufferSize+3), []byte{0xfe, 0x02})
	f.Add([]byte{}, []byte{3, 3, 3})
	f.Fuzz(func(t *testing.T, data, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		a, fed := hashOps(data, ops)
		defer a.Close()
		if !bytes.Equal(fed, data) {
			t.Fatalf("fed %d of %d bytes", len(fed), len(data))
		}
		if got := a.Digest(); got != hashBytes(data) {
			t.Fatalf("digest %s, want %s", got, hashBytes(data))
		}
	})
}
