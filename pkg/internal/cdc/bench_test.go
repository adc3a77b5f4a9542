package cdc

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/restic/chunker"
)

// The chunkers compared (docs/chunking.md): this FastCDC against restic's
// Rabin-fingerprint chunker, on 64 MiB of random data, both aiming at
// chunks of about 1 MiB (restic's fixed parameters: min 512 KiB, max 8 MiB,
// average 1 MiB). SHA-256 of the same data is the yardstick: chunking should
// cost well under hashing.

const benchSize = 64 << 20

var benchData = pseudoRandom(benchSize, 42)

func BenchmarkFastCDC(b *testing.B) {
	p, _ := New(1 << 20)
	b.SetBytes(benchSize)
	for b.Loop() {
		d := benchData
		for len(d) > 0 {
			d = d[p.Cut(d):]
		}
	}
}

func BenchmarkResticChunker(b *testing.B) {
	buf := make([]byte, chunker.MaxSize)
	b.SetBytes(benchSize)
	for b.Loop() {
		c := chunker.New(bytes.NewReader(benchData), chunker.Pol(0x3DA3358B4DC173))
		for {
			_, err := c.Next(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSHA256(b *testing.B) {
	b.SetBytes(benchSize)
	for b.Loop() {
		sha256.Sum256(benchData)
	}
}
