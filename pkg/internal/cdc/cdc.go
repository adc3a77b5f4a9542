// Package cdc cuts data into content-defined chunks with FastCDC (Xia et
// al., "FastCDC: a Fast and Efficient Content-Defined Chunking Approach for
// Data Deduplication", USENIX ATC 2016): a gear hash rolled over the bytes,
// and a cut where its top bits are zero, with normalized chunking (a harder
// condition before the average size, an easier one after it) so that chunk
// sizes cluster around the average.
//
// The boundaries are part of dxf's storage format: a file pushed again must
// be cut at the same places, by any later version, or nothing is shared.
// They depend only on the data, the average size, and the fixed rules here:
//
//   - the gear table: entry i is the first 8 bytes, big-endian, of
//     SHA-256("dxf-cdc-gear-v1" || byte(i)) (see [Gear]);
//   - min = avg/4, max = avg*4 (avg a power of two);
//   - the hash starts at 0 at min bytes into the chunk; for each byte b,
//     h = h<<1 + gear[b] (mod 2^64); the chunk ends after the byte at which
//     h & mask == 0, where mask is the top log2(avg)+2 bits of h before avg
//     bytes and the top log2(avg)-2 bits from avg bytes on; at max bytes it
//     ends regardless; the last chunk of the data ends with the data.
//
// A golden test pins the table and the boundaries of a deterministic input.
// Changing any of this is a format change.
package cdc

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Gear is the fixed gear table (see the package comment).
var Gear = func() (g [256]uint64) {
	for i := range g {
		s := sha256.Sum256(append([]byte("dxf-cdc-gear-v1"), byte(i)))
		g[i] = binary.BigEndian.Uint64(s[:8])
	}
	return g
}()

// Limits on the average chunk size.
const (
	MinAverage = 4 << 10
	MaxAverage = 256 << 20
)

// Params are the sizes one chunking uses.
type Params struct {
	Min, Avg, Max int
	maskS, maskL  uint64
}

// New returns the parameters for chunks of average size avg, a power of two
// between MinAverage and MaxAverage.
func New(avg int) (Params, error) {
	if avg < MinAverage || avg > MaxAverage || avg&(avg-1) != 0 {
		return Params{}, fmt.Errorf("average chunk size must be a power of two from %d to %d bytes, not %d", MinAverage, MaxAverage, avg)
	}
	b := bits.TrailingZeros(uint(avg))
	top := func(n int) uint64 { return ^uint64(0) << (64 - n) }
	return Params{Min: avg / 4, Avg: avg, Max: avg * 4, maskS: top(b + 2), maskL: top(b - 2)}, nil
}

// Cut returns the length of the chunk that starts at data[0]. data must hold
// at least p.Max bytes unless it is the rest of the input; the result is at
// most min(len(data), p.Max).
func (p Params) Cut(data []byte) int {
	var s State
	n, _ := p.Find(data, &s, true)
	return n
}

// State is where an incremental [Params.Find] stopped. Its zero value
// starts a chunk.
type State struct {
	i int
	h uint64
}

// Find looks for the end of the chunk that starts at data[0], scanning on
// from where the previous call with s stopped: data grows between calls
// (the same bytes, more of them). It returns the chunk's length and true
// once the end is decided: a cut point within data, p.Max bytes, or, with
// final (no more data will come), the end of data. Otherwise it returns
// false: call again with more data. The result is the same as Cut's on the
// whole input.
func (p Params) Find(data []byte, s *State, final bool) (int, bool) {
	n := min(len(data), p.Max)
	if n <= p.Min {
		if final || n == p.Max {
			return n, true
		}
		return 0, false
	}
	if s.i < p.Min {
		s.i, s.h = p.Min, 0
	}
	i, h := s.i, s.h
	d := data[:n]
	for normal := min(p.Avg, n); i < normal; i++ {
		h = h<<1 + Gear[d[i]]
		if h&p.maskS == 0 {
			return i + 1, true
		}
	}
	for ; i < n; i++ {
		h = h<<1 + Gear[d[i]]
		if h&p.maskL == 0 {
			return i + 1, true
		}
	}
	s.i, s.h = i, h
	if n == p.Max || final {
		return n, true
	}
	return 0, false
}
