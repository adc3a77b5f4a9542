package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ParseDigest parses "sha256:<64 hex digits>". A digest with another
// algorithm fails with [ErrUnexpectedDigestMethod]; anything else malformed
// with [ErrInvalidDigest].
func ParseDigest(s string) (v1.Hash, error) {
	alg, hexPart, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(hexPart, ":") {
		return v1.Hash{}, fmt.Errorf("%w: %q is not <algorithm>:<hex>", ErrInvalidDigest, s)
	}
	if alg != "sha256" {
		return v1.Hash{}, fmt.Errorf("%w: expected digest method sha256, got %q", ErrUnexpectedDigestMethod, alg)
	}
	if len(hexPart) != 64 {
		return v1.Hash{}, fmt.Errorf("%w: %q: a sha256 digest has 64 hex digits, not %d", ErrInvalidDigest, s, len(hexPart))
	}
	for _, c := range hexPart {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return v1.Hash{}, fmt.Errorf("%w: %q: not lowercase hex", ErrInvalidDigest, s)
		}
	}
	return v1.Hash{Algorithm: alg, Hex: hexPart}, nil
}

// HashBytes returns the sha256 digest of b.
func HashBytes(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// HashReader returns the sha256 digest of everything rd yields, and its size.
func HashReader(rd io.Reader) (v1.Hash, int64, error) {
	h := sha256.New()
	buf := make([]byte, copyBufferSize)
	n, err := io.CopyBuffer(h, rd, buf)
	if err != nil {
		return v1.Hash{}, n, err
	}
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, n, nil
}

// HashFile returns the sha256 digest and size of the file at path.
func HashFile(path string) (v1.Hash, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return v1.Hash{}, 0, err
	}
	defer f.Close()
	return HashReader(f)
}

// copyBufferSize is the buffer used to move blob data: large enough for
// throughput, small enough that memory stays constant and low.
const copyBufferSize = 1 << 20
