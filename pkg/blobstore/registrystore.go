package blobstore

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/remote"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// registryStore is a registry repository as a [store.Store]: the remote
// store (Stat, Open, Aliases, the deletes), with the calls that still go
// through the operations (Put, the manifests, Mount by repository name).
type registryStore struct {
	*remote.Repo
	r *Repository
}

var (
	_ store.Store   = (*registryStore)(nil)
	_ store.Deleter = (*registryStore)(nil)
	_ store.Mounter = (*registryStore)(nil)
)

// Put implements [store.Store]: a streamed upload, hashed on the way; the
// registry commits it only under the digest of what it received.
func (s *registryStore) Put(ctx context.Context, rd io.Reader, want Blob) (Blob, error) {
	o := makeTransferOptions(nil)
	if want.Digest != (v1.Hash{}) {
		o.digest = &want.Digest
	}
	if want.Size >= 0 {
		rd = &exactReader{r: rd, left: want.Size, size: want.Size}
	}
	res, err := s.r.push(ctx, rd, o)
	if err != nil {
		return Blob{}, err
	}
	return res.Blob(), nil
}

// exactReader fails with ErrSizeMismatch unless r yields exactly size
// bytes. It hides any io.ReaderAt of r, so the upload is one stream.
type exactReader struct {
	r          io.Reader
	left, size int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if int64(len(p)) > e.left+1 {
		p = p[:e.left+1]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left < 0 {
		return n, fmt.Errorf("%w: more than the %d bytes announced", ErrSizeMismatch, e.size)
	}
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("%w: %d bytes, %d announced", ErrSizeMismatch, e.size-e.left, e.size)
	}
	return n, err
}

// GetManifest implements [store.Store].
func (s *registryStore) GetManifest(ctx context.Context, ref string) (store.Manifest, error) {
	m, err := s.r.GetManifest(ctx, ref)
	if err != nil {
		return store.Manifest{}, err
	}
	return store.Manifest{Raw: m.Raw, MediaType: string(m.MediaType), Digest: m.Digest}, nil
}

// PutManifest implements [store.Store].
func (s *registryStore) PutManifest(ctx context.Context, ref string, m store.Manifest) (v1.Hash, error) {
	got, err := s.r.SetManifest(ctx, ref, m.Raw)
	if err != nil {
		return v1.Hash{}, err
	}
	return got.Digest, nil
}

// Mount implements [store.Mounter].
func (s *registryStore) Mount(ctx context.Context, from string, d v1.Hash) error {
	return s.r.MountBlob(ctx, from, d)
}
