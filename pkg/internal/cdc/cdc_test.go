package cdc

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"testing"
)

// pseudoRandom returns n deterministic bytes (splitmix64 from seed): the
// same on every platform and Go version.
func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n+8)
	x := seed
	for i := 0; i < n; i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		binary.LittleEndian.PutUint64(b[i:], z^z>>31)
	}
	return b[:n]
}

func cuts(p Params, data []byte) []int {
	var out []int
	for len(data) > 0 {
		n := p.Cut(data)
		out = append(out, n)
		data = data[n:]
	}
	return out
}

// TestGearTableGolden pins the gear table: changing it changes every
// boundary dxf has ever cut.
func TestGearTableGolden(t *testing.T) {
	h := sha256.New()
	for _, g := range Gear {
		_ = binary.Write(h, binary.BigEndian, g)
	}
	const want = "083bb14d73457fe3e543a6b256bb744df559bfa2e23938764edc73af0e45dc53"
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("gear table digest %s, want %s", got, want)
	}
}

// TestBoundariesGolden pins the chunk lengths of a deterministic input.
func TestBoundariesGolden(t *testing.T) {
	p, err := New(64 << 10)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cuts(p, pseudoRandom(2<<20, 1)))
	const want = "[67386 46022 72342 139322 88540 72551 85399 126562 67932 74344 76112 63819 71572 71575 66246 79065 70239 75822 66016 71711 74932 66148 74658 92232 76894 18903 58965 81843]"
	if got != want {
		t.Fatalf("boundaries changed:\n got %s\nwant %s", got, want)
	}
}

func TestLimits(t *testing.T) {
	p, _ := New(16 << 10)
	data := pseudoRandom(8<<20, 2)
	total, n := 0, 0
	for i, c := range cuts(p, data) {
		total += c
		n++
		if c > p.Max || (c < p.Min && total != len(data)) {
			t.Fatalf("chunk %d: %d bytes, outside [%d, %d]", i, c, p.Min, p.Max)
		}
	}
	if total != len(data) {
		t.Fatalf("chunks cover %d bytes of %d", total, len(data))
	}
	avg := len(data) / n
	if avg < p.Avg/2 || avg > p.Avg*2 {
		t.Fatalf("average chunk %d bytes, asked %d", avg, p.Avg)
	}
	// Zeros (no content to cut on) give max-size chunks.
	for _, c := range cuts(p, make([]byte, 1<<20)) {
		if c != p.Max && c != (1<<20)%p.Max {
			t.Fatalf("zero chunk of %d bytes", c)
		}
	}
	for _, avg := range []int{0, 1000, 3 << 10, 512 << 20, 3 << 20} {
		if _, err := New(avg); err == nil {
			t.Errorf("New(%d) accepted", avg)
		}
	}
}

// TestResynchronizes checks what incremental pushes rely on: after an edit
// or an insertion, the boundaries come back to the old ones.
func TestResynchronizes(t *testing.T) {
	p, _ := New(16 << 10)
	data := pseudoRandom(4<<20, 3)
	set := func(d []byte) map[string]bool {
		m := map[string]bool{}
		for len(d) > 0 {
			n := p.Cut(d)
			m[string(d[:n])] = true
			d = d[n:]
		}
		return m
	}
	old := set(data)
	edited := bytes.Clone(data)
	copy(edited[2<<20:], pseudoRandom(10000, 4))
	inserted := append(pseudoRandom(50000, 5), data...)
	for name, d := range map[string][]byte{"edited": edited, "inserted": inserted} {
		newBytes := 0
		for len(d) > 0 {
			n := p.Cut(d)
			if !old[string(d[:n])] {
				newBytes += n
			}
			d = d[n:]
		}
		if newBytes > 200<<10 {
			t.Errorf("%s: %d bytes in new chunks", name, newBytes)
		}
	}
}

// TestFindIncremental: scanning a growing buffer gives Cut's boundaries.
func TestFindIncremental(t *testing.T) {
	p, _ := New(16 << 10)
	data := pseudoRandom(2<<20, 6)
	want := cuts(p, data)
	var got []int
	for rest := data; len(rest) > 0; {
		var s State
		for have := 1000; ; have += 1000 {
			final := have >= len(rest)
			n, ok := p.Find(rest[:min(have, len(rest))], &s, final)
			if ok {
				got = append(got, n)
				rest = rest[n:]
				break
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("incremental boundaries differ:\n got %v\nwant %v", got, want)
	}
}
