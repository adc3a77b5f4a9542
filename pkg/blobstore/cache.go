package blobstore

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
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
//
// An entry is trusted only if it, and the directory, belong to the user and
// cannot be written by anyone else: someone who could plant an entry could
// make a push name a file by a digest that is not its own. An untrusted
// directory or entry is ignored (see [CheckDigestCache]).
type digestCache struct {
	dir string
}

// CheckDigestCache reports whether dir can be trusted as a digest cache
// ([WithDigestCache]): nil if it does not exist yet (it will be created
// private), or if it is a directory owned by the current user that no one
// else may write to. An untrusted cache is not used; callers may warn.
func CheckDigestCache(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("digest cache %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("digest cache %s: not a directory", dir)
	}
	if err := trusted(fi, os.Getuid()); err != nil {
		return fmt.Errorf("digest cache %s: %w", dir, err)
	}
	return nil
}

// trusted refuses a file or directory that uid does not own, or that its
// group or others may write to.
func trusted(fi os.FileInfo, uid int) error {
	if owner, ok := fileOwner(fi); ok && uid >= 0 && owner != uid {
		return fmt.Errorf("owned by user %d, not by the current user (%d)", owner, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("writable by others (mode %v)", fi.Mode().Perm())
	}
	return nil
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
	if CheckDigestCache(c.dir) != nil {
		return v1.Hash{}, false
	}
	f, err := os.Open(p)
	if err != nil {
		return v1.Hash{}, false
	}
	defer f.Close()
	efi, err := f.Stat()
	if err != nil || !efi.Mode().IsRegular() || trusted(efi, os.Getuid()) != nil {
		return v1.Hash{}, false
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
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
	if err := os.MkdirAll(c.dir, 0o700); err != nil || CheckDigestCache(c.dir) != nil {
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
