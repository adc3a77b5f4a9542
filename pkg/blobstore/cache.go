package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// digestCache remembers file digests across runs. An entry is a small file
// named by the hash of the file's absolute path, holding the file's identity
// (size, modification and change times, device and inode) and its digest.
// Any change to the identity makes the entry stale. Failures to read or write
// the cache are ignored: it only saves work.
type digestCache struct {
	dir string
}

func (c *digestCache) entryPath(path string) (string, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])), true
}

func (c *digestCache) lookup(path string, fi os.FileInfo) (v1.Hash, bool) {
	p, ok := c.entryPath(path)
	if !ok {
		return v1.Hash{}, false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return v1.Hash{}, false
	}
	id, digest, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok || id != fileIdentity(fi) {
		return v1.Hash{}, false
	}
	d, err := ParseDigest(digest)
	return d, err == nil
}

func (c *digestCache) store(path string, fi os.FileInfo, d v1.Hash) {
	p, ok := c.entryPath(path)
	if !ok {
		return
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return
	}
	_, werr := fmt.Fprintf(tmp, "%s %s\n", fileIdentity(fi), d)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), p) != nil {
		_ = os.Remove(tmp.Name())
	}
}
