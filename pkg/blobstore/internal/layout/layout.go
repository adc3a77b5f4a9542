// Package layout is a [store.Store] over an OCI image layout directory
// (oci-layout, index.json, blobs/sha256/), as the OCI image specification
// defines it; aliases are index.json entries annotated with
// org.opencontainers.image.ref.name.
//
// Writes are crash-safe and safe between processes. A blob is written to a
// temporary name in blobs/sha256/, hashed while written, synced, checked
// against the digest and size it must have, and only then renamed to its
// digest: a failed or interrupted write never leaves a file under a digest.
// index.json is read, changed and replaced (temporary file, sync, rename)
// while holding an exclusive lock on index.json.lock, so concurrent writers
// in any number of processes lose no change, and readers see either the old
// or the new index, never a torn one.
//
// What is read is checked: an index entry must name a valid sha256 digest
// and a size within [store.MaxManifestSize], the blob it names must be a
// regular file of that size whose bytes hash to that digest, and index.json
// itself is read up to [MaxIndexSize].
package layout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/flock"
	"github.com/dxf-go/dxf/internal/writeback"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// MaxIndexSize bounds index.json (about 100,000 aliases).
const MaxIndexSize = 64 << 20

// RefName is the annotation that names an alias in index.json.
const RefName = "org.opencontainers.image.ref.name"

const (
	layoutFile    = "oci-layout"
	indexFile     = "index.json"
	lockFile      = "index.json.lock"
	tmpPrefix     = ".tmp-"
	layoutContent = `{"imageLayoutVersion":"1.0.0"}`
	emptyIndex    = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`
	mediaTypeIdx  = "application/vnd.oci.image.index.v1+json"
)

// Store is an OCI image layout directory. It is safe for concurrent use, in
// one process and between processes.
type Store struct {
	dir string
}

var (
	_ store.Store      = (*Store)(nil)
	_ store.Deleter    = (*Store)(nil)
	_ store.Untagger   = (*Store)(nil)
	_ store.Locker     = (*Store)(nil)
	_ store.BlobLister = (*Store)(nil)
	_ store.Describer  = (*Store)(nil)
)

// Prefix starts the name of a layout ("oci:DIR"), as other OCI tools write
// it.
const Prefix = "oci:"

// New returns the layout store at dir. It does no I/O: reads of a layout
// that does not exist fail with an error matching
// [store.ErrRepositoryNotFound], and the first write creates it.
func New(dir string) *Store { return &Store{dir: filepath.Clean(dir)} }

// Dir returns the layout's directory.
func (s *Store) Dir() string { return s.dir }

// Describe implements [store.Describer]: the directory, and oci:DIR.
func (s *Store) Describe() (name, full string) { return s.dir, Prefix + s.dir }

func (s *Store) blobPath(d v1.Hash) string {
	return filepath.Join(s.dir, "blobs", d.Algorithm, d.Hex)
}

func (s *Store) blobDir() string { return filepath.Join(s.dir, "blobs", "sha256") }

// checkDigest refuses digests that are not sha256 with 64 lowercase hex
// digits (which also keeps them from naming any other path).
func checkDigest(d v1.Hash) error {
	if d.Algorithm != "sha256" {
		return fmt.Errorf("%w: expected digest method sha256, got %q", store.ErrUnexpectedDigestMethod, d.Algorithm)
	}
	if len(d.Hex) != 64 || strings.Trim(d.Hex, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: %q", store.ErrInvalidDigest, d.String())
	}
	return nil
}

// exists reports whether dir holds an OCI image layout.
func (s *Store) exists() error {
	raw, err := readBounded(filepath.Join(s.dir, layoutFile), 4096)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: no OCI image layout at %s (no %s file)", store.ErrRepositoryNotFound, s.dir, layoutFile)
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", store.ErrInvalidLayout, layoutFile, err)
	}
	var l struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(raw, &l); err != nil || !strings.HasPrefix(l.Version, "1.") {
		return fmt.Errorf("%w: %s: %s is not {\"imageLayoutVersion\": \"1.x\"}", store.ErrInvalidLayout, s.dir, layoutFile)
	}
	return nil
}

// create makes the layout if it does not exist yet.
func (s *Store) create() error {
	if err := s.exists(); err == nil || !errors.Is(err, store.ErrRepositoryNotFound) {
		return err
	}
	if err := os.MkdirAll(s.blobDir(), 0o755); err != nil { //nolint:gosec // a layout is read by other tools and users, as a registry's data is; the umask applies
		return fmt.Errorf("creating the OCI image layout: %w", err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, indexFile)); errors.Is(err, fs.ErrNotExist) {
		if err := writeAtomic(s.dir, indexFile, []byte(emptyIndex)); err != nil {
			return err
		}
	}
	// oci-layout last: its presence says the layout is complete.
	return writeAtomic(s.dir, layoutFile, []byte(layoutContent))
}

// readBounded reads the regular file at path, refusing more than limit bytes.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", store.ErrInvalidLayout, path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d", store.ErrInvalidLayout, path, fi.Size(), limit)
	}
	raw, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(raw)) > limit {
		err = fmt.Errorf("%w: %s is over the limit of %d bytes", store.ErrInvalidLayout, path, limit)
	}
	return raw, err
}

// writeAtomic replaces dir/name with data: temporary file, sync, rename,
// sync of the directory.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, tmpPrefix+name+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, a no-op
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// Stat implements [store.Store].
func (s *Store) Stat(ctx context.Context, d v1.Hash) (store.Blob, error) {
	if err := checkDigest(d); err != nil {
		return store.Blob{}, err
	}
	fi, err := os.Lstat(s.blobPath(d))
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.exists(); err != nil {
			return store.Blob{}, fmt.Errorf("blob %s: %w (%w)", d, store.ErrBlobNotFound, err)
		}
		return store.Blob{}, fmt.Errorf("blob %s: %w", d, store.ErrBlobNotFound)
	}
	if err != nil {
		return store.Blob{}, err
	}
	if !fi.Mode().IsRegular() {
		return store.Blob{}, fmt.Errorf("%w: blob %s is not a regular file", store.ErrInvalidLayout, d)
	}
	return store.Blob{Digest: d, Size: fi.Size()}, nil
}

// Open implements [store.Store].
func (s *Store) Open(ctx context.Context, b store.Blob, off, n int64) (io.ReadCloser, error) {
	st, err := s.Stat(ctx, b.Digest)
	if err != nil {
		return nil, err
	}
	if b.Size >= 0 && st.Size != b.Size {
		return nil, fmt.Errorf("blob %s: %w: the layout holds %d bytes, %d expected", b.Digest, store.ErrSizeMismatch, st.Size, b.Size)
	}
	if off < 0 || off > st.Size {
		return nil, fmt.Errorf("blob %s: offset %d outside its %d bytes", b.Digest, off, st.Size)
	}
	if n < 0 || off+n > st.Size {
		n = st.Size - off
	}
	f, err := os.Open(s.blobPath(b.Digest))
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}

// Put implements [store.Store].
func (s *Store) Put(ctx context.Context, r io.Reader, want store.Blob) (store.Blob, error) {
	if want.Digest != (v1.Hash{}) {
		if err := checkDigest(want.Digest); err != nil {
			return store.Blob{}, err
		}
	}
	if err := s.create(); err != nil {
		return store.Blob{}, err
	}
	f, err := os.CreateTemp(s.blobDir(), tmpPrefix+"*")
	if err != nil {
		return store.Blob{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, a no-op
	// A big blob (or one of unknown size) is synced in pieces as it is
	// written, so the sync below has little left to wait for.
	stop := func() error { return nil }
	if want.Size < 0 || want.Size >= writeback.SyncEvery {
		stop = writeback.Watch(f)
	}
	n, h, err := copyHashed(f, ctxReader{ctx, r}, want.Size)
	if werr := stop(); err == nil {
		err = werr
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return store.Blob{}, fmt.Errorf("writing a blob into %s: %w", s.dir, err)
	}
	got := store.Blob{Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}, Size: n}
	if want.Size >= 0 && n > want.Size {
		// copyHashed stopped one byte past the size.
		return store.Blob{}, fmt.Errorf("blob: %w: more than the %d bytes expected", store.ErrSizeMismatch, want.Size)
	}
	if want.Size >= 0 && n != want.Size {
		return store.Blob{}, fmt.Errorf("blob %s: %w: %d bytes, %d expected", got.Digest, store.ErrSizeMismatch, n, want.Size)
	}
	if want.Digest != (v1.Hash{}) && want.Digest != got.Digest {
		return store.Blob{}, &store.DigestMismatchError{Expected: want.Digest, Got: got.Digest}
	}
	final := s.blobPath(got.Digest)
	if fi, err := os.Lstat(final); err == nil && fi.Mode().IsRegular() && fi.Size() == n {
		return got, nil // already there (written by another writer)
	}
	if err := os.Rename(tmp, final); err != nil {
		return store.Blob{}, err
	}
	return got, syncDir(s.blobDir())
}

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Blobs implements [store.BlobLister]. Temporary files are not blobs.
func (s *Store) Blobs(ctx context.Context) iter.Seq2[store.Blob, error] {
	return func(yield func(store.Blob, error) bool) {
		entries, err := os.ReadDir(s.blobDir())
		if errors.Is(err, fs.ErrNotExist) {
			if err := s.exists(); err != nil {
				yield(store.Blob{}, err)
			}
			return
		}
		if err != nil {
			yield(store.Blob{}, err)
			return
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tmpPrefix) || !e.Type().IsRegular() {
				continue
			}
			d := v1.Hash{Algorithm: "sha256", Hex: e.Name()}
			if checkDigest(d) != nil {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				if !yield(store.Blob{}, err) {
					return
				}
				continue
			}
			if !yield(store.Blob{Digest: d, Size: fi.Size()}, nil) {
				return
			}
		}
	}
}

// DeleteBlob implements [store.Deleter].
func (s *Store) DeleteBlob(ctx context.Context, d v1.Hash) error {
	if _, err := s.Stat(ctx, d); err != nil {
		return err
	}
	if err := os.Remove(s.blobPath(d)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", d, store.ErrBlobNotFound)
	} else if err != nil {
		return err
	}
	return syncDir(s.blobDir())
}

// descriptor is what dxf reads of an index.json entry.
type descriptor struct {
	MediaType   string            `json:"mediaType,omitempty"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// index is index.json: the entries kept as they were read (fields dxf does
// not know survive a rewrite), each with what dxf reads of it.
type index struct {
	top     map[string]json.RawMessage
	raw     []json.RawMessage
	entries []entry
}

type entry struct {
	descriptor
	digest v1.Hash
}

func (e entry) ref() string { return e.Annotations[RefName] }

// readIndex reads and checks index.json.
func (s *Store) readIndex() (*index, error) {
	if err := s.exists(); err != nil {
		return nil, err
	}
	raw, err := readBounded(filepath.Join(s.dir, indexFile), MaxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", store.ErrInvalidLayout, indexFile, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", store.ErrInvalidLayout, filepath.Join(s.dir, indexFile), fmt.Sprintf(format, args...))
	}
	idx := &index{}
	if err := json.Unmarshal(raw, &idx.top); err != nil {
		return nil, bad("not a JSON object: %v", err)
	}
	var v int
	if err := json.Unmarshal(idx.top["schemaVersion"], &v); err != nil || v != 2 {
		return nil, bad("schemaVersion is not 2")
	}
	if m, ok := idx.top["manifests"]; ok && string(m) != "null" {
		if err := json.Unmarshal(m, &idx.raw); err != nil {
			return nil, bad("manifests is not a list: %v", err)
		}
	}
	seen := map[string]bool{}
	for i, r := range idx.raw {
		var e entry
		if err := json.Unmarshal(r, &e.descriptor); err != nil {
			return nil, bad("entry %d: %v", i, err)
		}
		d, err := v1.NewHash(e.Digest)
		if err == nil {
			err = checkDigest(d)
		}
		if err != nil {
			return nil, bad("entry %d: digest %q: %v", i, e.Digest, err)
		}
		if e.Size < 0 || e.Size > store.MaxManifestSize {
			return nil, bad("entry %d (%s): size %d is outside 0…%d", i, e.Digest, e.Size, store.MaxManifestSize)
		}
		if ref := e.ref(); ref != "" {
			if seen[ref] {
				return nil, bad("alias %q is named by two entries", ref)
			}
			seen[ref] = true
		}
		e.digest = d
		idx.entries = append(idx.entries, e)
	}
	return idx, nil
}

// writeIndex replaces index.json with idx (the caller holds the lock).
func (s *Store) writeIndex(idx *index) error {
	raw, err := json.Marshal(idx.raw)
	if err != nil {
		return err
	}
	if idx.raw == nil {
		raw = []byte("[]")
	}
	if idx.top == nil {
		idx.top = map[string]json.RawMessage{}
	}
	idx.top["schemaVersion"] = json.RawMessage("2")
	if _, ok := idx.top["mediaType"]; !ok {
		idx.top["mediaType"] = json.RawMessage(`"` + mediaTypeIdx + `"`)
	}
	idx.top["manifests"] = raw
	out, err := json.MarshalIndent(idx.top, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(s.dir, indexFile, append(out, '\n'))
}

// updateIndex runs f on the index under the lock, and writes the index if
// f reports a change.
func (s *Store) updateIndex(ctx context.Context, f func(*index) (bool, error)) error {
	if err := s.create(); err != nil {
		return err
	}
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	defer unlock() //nolint:errcheck // releasing a lock on a file we close
	idx, err := s.readIndex()
	if err != nil {
		return err
	}
	changed, err := f(idx)
	if err != nil || !changed {
		return err
	}
	return s.writeIndex(idx)
}

// remove drops the entries keep rejects.
func (idx *index) remove(drop func(entry) bool) int {
	n := 0
	var raw []json.RawMessage
	var entries []entry
	for i, e := range idx.entries {
		if drop(e) {
			n++
			continue
		}
		raw = append(raw, idx.raw[i])
		entries = append(entries, e)
	}
	idx.raw, idx.entries = raw, entries
	return n
}

// Lock implements [store.Locker]: an exclusive lock on index.json.lock,
// across processes.
func (s *Store) Lock(ctx context.Context) (func() error, error) {
	return flock.Lock(ctx, filepath.Join(s.dir, lockFile), 0o644)
}

// isDigest reports whether ref is a digest rather than an alias.
func isDigest(ref string) bool { return strings.Contains(ref, ":") }

// GetManifest implements [store.Store].
func (s *Store) GetManifest(ctx context.Context, ref string) (store.Manifest, error) {
	idx, err := s.readIndex()
	if errors.Is(err, store.ErrRepositoryNotFound) {
		return store.Manifest{}, fmt.Errorf("%s: %w (%w)", ref, store.ErrAliasNotFound, err)
	}
	if err != nil {
		return store.Manifest{}, err
	}
	var e *entry
	for i := range idx.entries {
		if c := &idx.entries[i]; (isDigest(ref) && c.Digest == ref) || (!isDigest(ref) && c.ref() == ref) {
			e = c
			break
		}
	}
	if e == nil && isDigest(ref) {
		// A manifest the index does not list (a platform manifest of an
		// index): read as a blob, its media type from its own field.
		d, err := v1.NewHash(ref)
		if err == nil {
			err = checkDigest(d)
		}
		if err != nil {
			return store.Manifest{}, fmt.Errorf("%w: %q", store.ErrInvalidDigest, ref)
		}
		st, err := s.Stat(ctx, d)
		if errors.Is(err, store.ErrBlobNotFound) {
			return store.Manifest{}, fmt.Errorf("manifest %s: %w", ref, store.ErrAliasNotFound)
		}
		if err != nil {
			return store.Manifest{}, err
		}
		if st.Size > store.MaxManifestSize {
			return store.Manifest{}, fmt.Errorf("manifest %s: %w: %d bytes, over the limit of %d", ref, store.ErrInvalidManifest, st.Size, store.MaxManifestSize)
		}
		e = &entry{descriptor: descriptor{Digest: ref, Size: st.Size}, digest: d}
	}
	if e == nil {
		return store.Manifest{}, fmt.Errorf("%s in %s: %w", ref, s.dir, store.ErrAliasNotFound)
	}
	if _, err := s.Stat(ctx, e.digest); err != nil && !errors.Is(err, store.ErrBlobNotFound) {
		return store.Manifest{}, err
	}
	raw, err := readBounded(s.blobPath(e.digest), store.MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return store.Manifest{}, fmt.Errorf("%w: index.json names manifest %s for %q, which blobs/ does not hold", store.ErrInvalidLayout, e.Digest, ref)
	}
	if err != nil {
		return store.Manifest{}, err
	}
	if int64(len(raw)) != e.Size {
		return store.Manifest{}, fmt.Errorf("%w: index.json gives manifest %s a size of %d bytes, blobs/ holds %d", store.ErrInvalidLayout, e.Digest, e.Size, len(raw))
	}
	if got := digestOf(raw); got != e.digest {
		return store.Manifest{}, fmt.Errorf("%w: manifest %s: %w", store.ErrInvalidLayout, ref, &store.DigestMismatchError{Expected: e.digest, Got: got})
	}
	mt := e.MediaType
	if mt == "" {
		var f struct {
			MediaType string `json:"mediaType"`
		}
		_ = json.Unmarshal(raw, &f)
		mt = f.MediaType
	}
	return store.Manifest{Raw: raw, MediaType: mt, Digest: e.digest}, nil
}

func digestOf(b []byte) v1.Hash {
	sum := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// PutManifest implements [store.Store]. The manifest goes to blobs/ first,
// then into index.json (an alias replaces the entry that had it).
func (s *Store) PutManifest(ctx context.Context, ref string, m store.Manifest) (v1.Hash, error) {
	if int64(len(m.Raw)) > store.MaxManifestSize {
		return v1.Hash{}, fmt.Errorf("%w: %d bytes, over the limit of %d", store.ErrInvalidManifest, len(m.Raw), store.MaxManifestSize)
	}
	d := digestOf(m.Raw)
	if isDigest(ref) && ref != d.String() {
		return v1.Hash{}, fmt.Errorf("manifest %s: %w", ref, &store.DigestMismatchError{Expected: mustHash(ref), Got: d})
	}
	if _, err := s.Put(ctx, bytes.NewReader(m.Raw), store.Blob{Digest: d, Size: int64(len(m.Raw))}); err != nil {
		return v1.Hash{}, err
	}
	desc := descriptor{MediaType: m.MediaType, Digest: d.String(), Size: int64(len(m.Raw))}
	if !isDigest(ref) {
		desc.Annotations = map[string]string{RefName: ref}
	}
	raw, err := json.Marshal(desc)
	if err != nil {
		return v1.Hash{}, err
	}
	return d, s.updateIndex(ctx, func(idx *index) (bool, error) {
		if isDigest(ref) {
			if slices.ContainsFunc(idx.entries, func(e entry) bool { return e.digest == d }) {
				return false, nil
			}
		} else {
			idx.remove(func(e entry) bool { return e.ref() == ref })
		}
		idx.raw = append(idx.raw, raw)
		idx.entries = append(idx.entries, entry{descriptor: desc, digest: d})
		return true, nil
	})
}

func mustHash(s string) v1.Hash {
	h, _ := v1.NewHash(s)
	return h
}

// Aliases implements [store.Store]: the ref names of index.json, sorted.
func (s *Store) Aliases(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		idx, err := s.readIndex()
		if err != nil {
			yield("", err)
			return
		}
		var names []string
		for _, e := range idx.entries {
			if r := e.ref(); r != "" {
				names = append(names, r)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			if !yield(n, nil) {
				return
			}
		}
	}
}

// Untag implements [store.Untagger]: the index entry goes, the manifest
// stays in blobs/ (and other aliases naming it stay).
func (s *Store) Untag(ctx context.Context, alias string) error {
	if _, err := s.readIndex(); err != nil {
		return err
	}
	return s.updateIndex(ctx, func(idx *index) (bool, error) {
		if idx.remove(func(e entry) bool { return e.ref() == alias }) == 0 {
			return false, fmt.Errorf("%s in %s: %w", alias, s.dir, store.ErrAliasNotFound)
		}
		return true, nil
	})
}

// DeleteManifest implements [store.Deleter]: every index entry naming d
// goes, then the manifest itself.
func (s *Store) DeleteManifest(ctx context.Context, d v1.Hash) error {
	if err := checkDigest(d); err != nil {
		return err
	}
	if _, err := s.readIndex(); err != nil {
		return err
	}
	var listed int
	err := s.updateIndex(ctx, func(idx *index) (bool, error) {
		listed = idx.remove(func(e entry) bool { return e.digest == d })
		return listed > 0, nil
	})
	if err != nil {
		return err
	}
	if err := os.Remove(s.blobPath(d)); errors.Is(err, fs.ErrNotExist) {
		if listed == 0 {
			return fmt.Errorf("manifest %s: %w", d, store.ErrAliasNotFound)
		}
	} else if err != nil {
		return err
	}
	return syncDir(s.blobDir())
}
