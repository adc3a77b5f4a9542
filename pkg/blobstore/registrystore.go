package blobstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// registryStore is a registry repository as a [store.Store], over the same
// requests the public calls make.
type registryStore struct{ r *Repository }

var (
	_ store.Store   = (*registryStore)(nil)
	_ store.Deleter = (*registryStore)(nil)
	_ store.Mounter = (*registryStore)(nil)
)

// Stat implements [store.Store] (HEAD).
func (s *registryStore) Stat(ctx context.Context, d v1.Hash) (Blob, error) {
	size, err := s.r.BlobSize(ctx, d)
	if err != nil {
		return Blob{}, err
	}
	return Blob{Digest: d, Size: size}, nil
}

// Open implements [store.Store]: a GET of the whole blob, or of a range.
func (s *registryStore) Open(ctx context.Context, b Blob, off, n int64) (io.ReadCloser, error) {
	r := s.r
	op := "pull blob " + b.Digest.String()
	if off == 0 && n < 0 {
		resp, err := r.getBlob(ctx, b.Digest, 0)
		if err != nil {
			return nil, err
		}
		size := resp.ContentLength
		if b.Size >= 0 && size >= 0 && size != b.Size {
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w: the registry sends %d bytes, %d expected", op, ErrSizeMismatch, size, b.Size)
		}
		if size < 0 {
			size = b.Size
		}
		if size < 0 {
			return resp.Body, nil
		}
		return readCloser{io.LimitReader(resp.Body, size), resp.Body}, nil
	}
	if b.Size < 0 {
		st, err := s.Stat(ctx, b.Digest)
		if err != nil {
			return nil, err
		}
		b.Size = st.Size
	}
	if off < 0 || off > b.Size {
		return nil, fmt.Errorf("%s: offset %d outside its %d bytes", op, off, b.Size)
	}
	if n < 0 || off+n > b.Size {
		n = b.Size - off
	}
	if n == 0 {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	resp, err := r.rs.GetRange(ctx, op, b.Digest, off, off+n-1)
	if err != nil {
		return nil, err
	}
	cr := resp.Header.Get("Content-Range")
	if _, total, ok := strings.Cut(cr, "/"); ok && total != "*" && total != strconv.FormatInt(b.Size, 10) {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %w: the registry holds %s bytes, %d expected", op, ErrSizeMismatch, total, b.Size)
	}
	return readCloser{io.LimitReader(resp.Body, n), resp.Body}, nil
}

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

// Aliases implements [store.Store].
func (s *registryStore) Aliases(ctx context.Context) iter.Seq2[string, error] {
	return s.r.Aliases(ctx)
}

// DeleteBlob implements [store.Deleter].
func (s *registryStore) DeleteBlob(ctx context.Context, d v1.Hash) error {
	return s.r.DeleteBlob(ctx, d)
}

// DeleteManifest implements [store.Deleter].
func (s *registryStore) DeleteManifest(ctx context.Context, d v1.Hash) error {
	return s.r.DeleteManifest(ctx, d)
}

// Mount implements [store.Mounter].
func (s *registryStore) Mount(ctx context.Context, from string, d v1.Hash) error {
	return s.r.MountBlob(ctx, from, d)
}

type readCloser struct {
	io.Reader
	io.Closer
}
