// Package store is the boundary between where dxf keeps bytes and what it
// does with them: one small interface, [Store], for one repository (a
// registry repository or an OCI image layout directory), optional
// capabilities as separate interfaces found by type assertion, and the
// sentinel errors every implementation returns. Package storetest holds the
// conformance suite every implementation runs.
package store

import (
	"bytes"
	"context"
	"io"
	"iter"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MaxManifestSize bounds any manifest read from a store: larger ones are
// refused with [ErrInvalidManifest].
const MaxManifestSize = 4 << 20

// Blob is a blob's digest and size.
type Blob struct {
	// Digest is the blob's sha256 digest.
	Digest v1.Hash
	// Size is its size in bytes; -1 when unknown (Docker schema 1 manifests
	// do not record sizes).
	Size int64
}

// Manifest is a manifest as a store keeps it.
type Manifest struct {
	// Raw is the manifest exactly as stored.
	Raw []byte
	// MediaType is its media type, as the store records it ("" if none).
	MediaType string
	// Digest is the sha256 digest of Raw.
	Digest v1.Hash
}

// Store is one repository: blobs addressed by digest, manifests addressed
// by alias (tag) or digest, and the list of aliases. Implementations are
// safe for concurrent use.
type Store interface {
	// Stat returns the blob's size, or an error matching ErrBlobNotFound.
	Stat(ctx context.Context, d v1.Hash) (Blob, error)
	// Open reads n bytes of the blob from offset off (n < 0: to the end).
	// b.Size, if not negative, is the size the caller expects: a store
	// holding another size fails with ErrSizeMismatch. The data is not
	// hash-checked: the caller verifies what it reads.
	Open(ctx context.Context, b Blob, off, n int64) (io.ReadCloser, error)
	// Put stores the data r yields as one blob and returns its digest and
	// size. want.Digest, unless zero, is the digest the data must have,
	// and want.Size, unless negative, its size: data that does not match
	// fails with ErrDigestMismatch or ErrSizeMismatch and leaves nothing
	// under either digest. A store never commits a blob under a digest its
	// data does not have.
	Put(ctx context.Context, r io.Reader, want Blob) (Blob, error)
	// GetManifest returns the manifest ref names: an alias or a digest
	// ("sha256:…"). A missing one gives an error matching
	// ErrAliasNotFound; one over MaxManifestSize, or whose bytes do not
	// hash to the digest it was found by, is refused.
	GetManifest(ctx context.Context, ref string) (Manifest, error)
	// PutManifest stores m.Raw (of media type m.MediaType) under ref, an
	// alias or its digest, and returns its digest.
	PutManifest(ctx context.Context, ref string, m Manifest) (v1.Hash, error)
	// Aliases yields the repository's aliases.
	Aliases(ctx context.Context) iter.Seq2[string, error]
}

// Deleter is a store that deletes blobs and manifests.
type Deleter interface {
	// DeleteBlob deletes the blob; a missing one gives ErrBlobNotFound.
	DeleteBlob(ctx context.Context, d v1.Hash) error
	// DeleteManifest deletes the manifest with digest d and every alias
	// naming it; a missing one gives ErrAliasNotFound.
	DeleteManifest(ctx context.Context, d v1.Hash) error
}

// Untagger is a store that removes one alias only, keeping the manifest
// and the other aliases naming it. A registry may refuse (many delete
// manifests by digest only) or answer yes and keep the alias: a caller
// that must know checks afterwards.
type Untagger interface {
	// Untag removes alias; a missing one gives ErrAliasNotFound.
	Untag(ctx context.Context, alias string) error
}

// Mounter is a store that can make a blob of another repository of the same
// store available without moving its bytes.
type Mounter interface {
	// Mount makes the blob d of repository from available here.
	Mount(ctx context.Context, from string, d v1.Hash) error
}

// Locker is a store that can be locked against other writers, in this and
// other processes, for a read-modify-write that must see no concurrent
// change (prune).
type Locker interface {
	// Lock waits until the lock is had or ctx is done; the returned
	// function releases it.
	Lock(ctx context.Context) (unlock func() error, err error)
}

// BlobLister is a store that can list the blobs it holds.
type BlobLister interface {
	// Blobs yields every blob the store holds.
	Blobs(ctx context.Context) iter.Seq2[Blob, error]
}

// Describer is a store that names itself, for messages and listings.
type Describer interface {
	// Describe returns the store's name where it is kept (a registry
	// repository's name without the host; a layout's directory) and its
	// full name (host/name; oci:DIR).
	Describe() (name, full string)
}

// BoundedManifestGetter is a store that can read a manifest known to be
// small (a platform's, whose size the index naming it gives) without
// reading more than that bound: a registry stops reading the answer there.
type BoundedManifestGetter interface {
	// GetManifestBounded is GetManifest for a manifest of at most limit
	// bytes: a larger one fails with an error matching tooBig.
	GetManifestBounded(ctx context.Context, ref string, limit int64, tooBig error) (Manifest, error)
}

// GetManifestBounded returns the manifest ref names in s, refusing one
// over limit bytes with tooBig: through [BoundedManifestGetter] if s is
// one, else by reading it whole (at most [MaxManifestSize]) and then
// checking its size.
func GetManifestBounded(ctx context.Context, s Store, ref string, limit int64, tooBig error) (Manifest, error) {
	if b, ok := s.(BoundedManifestGetter); ok {
		return b.GetManifestBounded(ctx, ref, limit, tooBig)
	}
	m, err := s.GetManifest(ctx, ref)
	if err != nil {
		return Manifest{}, err
	}
	if int64(len(m.Raw)) > limit {
		return Manifest{}, tooBig
	}
	return m, nil
}

// ManifestChecker is a store that can tell whether a manifest exists
// without reading it (a registry answers a HEAD request). Without it, a
// caller reads the manifest.
type ManifestChecker interface {
	// HasManifest reports whether ref (an alias or a digest) names a
	// manifest. op, the operation the check is part of, names its errors.
	HasManifest(ctx context.Context, op, ref string) (bool, error)
}

// BytesPutter is a store that stores a small blob held in memory, whose
// digest the caller has computed, more cheaply than [Store.Put] does (a
// registry: one PUT carrying the data and the digest, with no HEAD first
// and no separate PATCH).
type BytesPutter interface {
	// PutBytes stores data, whose digest is d, without first asking
	// whether the store has it. Data of another digest is refused and
	// leaves nothing behind.
	PutBytes(ctx context.Context, d v1.Hash, data []byte) error
}

// PutBytes stores data, whose digest is d, in s: through [BytesPutter] if
// s is one, else with Put.
func PutBytes(ctx context.Context, s Store, d v1.Hash, data []byte) error {
	if p, ok := s.(BytesPutter); ok {
		return p.PutBytes(ctx, d, data)
	}
	_, err := s.Put(ctx, bytes.NewReader(data), Blob{Digest: d, Size: int64(len(data))})
	return err
}

// Fetcher is a store that opens a blob to its end in one request that also
// gives its size (a registry: a GET, whose Content-Length is the size), so
// a caller that does not know the size need not ask for it first.
type Fetcher interface {
	// Fetch opens the blob want.Digest from offset off to its end and
	// returns the blob's size. want.Size, if not negative, is the size
	// expected: another fails with ErrSizeMismatch before any byte is
	// read. With off > 0, want.Size is the size (the caller has read the
	// first off bytes).
	Fetch(ctx context.Context, want Blob, off int64) (io.ReadCloser, int64, error)
}

// Fetch opens the blob want.Digest in s from offset off to its end and
// returns its size: through [Fetcher] if s is one, else with Stat (if
// want.Size is negative) and Open.
func Fetch(ctx context.Context, s Store, want Blob, off int64) (io.ReadCloser, int64, error) {
	if f, ok := s.(Fetcher); ok {
		return f.Fetch(ctx, want, off)
	}
	if want.Size < 0 {
		b, err := s.Stat(ctx, want.Digest)
		if err != nil {
			return nil, 0, err
		}
		want.Size = b.Size
	}
	rc, err := s.Open(ctx, want, off, -1)
	if err != nil {
		return nil, 0, err
	}
	return rc, want.Size, nil
}
