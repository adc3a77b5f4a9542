package blobstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/layout"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// LayoutPrefix starts a target naming an OCI image layout directory
// instead of a registry repository: "oci:./data/fred" (see [Open]).
const LayoutPrefix = layout.Prefix

// Open returns the repository target names: "oci:DIR" for the OCI image
// layout in directory DIR (no registry needed; created by the first write),
// else "host[:port]/name" for a repository of a registry (as [New]; a
// leading http:// asks for plain HTTP, as [NewRegistry] reads it). On a
// layout, opts other than [WithDigestCache] and [WithRetries] have no
// effect, and calls that only a registry can answer ([Repository.MountBlob],
// [Repository.Registry]) fail with [ErrUnsupported] or return nil.
func Open(ctx context.Context, target string, opts ...Option) (*Repository, error) {
	if dir, ok := strings.CutPrefix(target, LayoutPrefix); ok {
		return OpenLayout(dir, opts...)
	}
	scheme, rest := "", target
	for _, s := range []string{"http://", "https://"} {
		if strings.HasPrefix(target, s) {
			scheme, rest = s, target[len(s):]
		}
	}
	host, repo, ok := strings.Cut(rest, "/")
	if !ok || host == "" || repo == "" {
		return nil, fmt.Errorf("%w: %q: a repository is host[:port]/name, or oci:DIR for an OCI image layout", ErrInvalidName, target)
	}
	return New(scheme+host, repo, opts...)
}

// OpenLayout returns the repository kept in the OCI image layout in dir. It
// does no I/O: reading a layout that does not exist fails with
// [ErrNotFound], and the first write creates it.
func OpenLayout(dir string, opts ...Option) (*Repository, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: oci: needs a directory (oci:./data/fred)", ErrInvalidName)
	}
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	return newRepository(nil, name.Repository{}, layout.New(dir), o), nil
}

// IsLayout reports whether the repository is kept in an OCI image layout
// rather than a registry.
func (r *Repository) IsLayout() bool {
	_, ok := r.st.(*layout.Store)
	return ok
}

func (r *Repository) layoutDir() string {
	if l, ok := r.st.(*layout.Store); ok {
		return l.Dir()
	}
	return ""
}

// Store returns the repository as a [store.Store]: the OCI image layout it
// is kept in, or the registry's repository. Every operation goes through
// it. The registry's store also implements [store.Describer],
// [store.Fetcher], [store.BoundedManifestGetter], [store.ManifestChecker],
// [store.BytesPutter], [store.Deleter], [store.Untagger] and
// [store.Mounter]; the layout's [store.Describer], [store.Deleter],
// [store.Untagger], [store.Locker] and [store.BlobLister].
func (r *Repository) Store() store.Store { return r.st }

// storePush is the push of one blob on a store: the store hashes, checks
// and commits.
func (r *Repository) storePush(ctx context.Context, op string, rd io.Reader, o transferOptions) (PushResult, error) {
	want := Blob{Size: o.size}
	if o.digest != nil {
		want.Digest = *o.digest
	}
	o.report(Progress{Index: o.index, Blob: want, Done: 0})
	cr := &countingReader{r: rd, f: func(n int64) { o.report(Progress{Index: o.index, Blob: want, Done: n}) }}
	b, err := r.Store().Put(ctx, cr, want)
	if err != nil {
		var dm *DigestMismatchError
		if errors.As(err, &dm) {
			return PushResult{}, fmt.Errorf("%s: %w (the data changed while it was pushed)", op, err)
		}
		return PushResult{}, fmt.Errorf("%s: %w", op, err)
	}
	res := PushResult{Digest: b.Digest, Size: b.Size}
	o.report(Progress{Index: o.index, Blob: res.Blob(), Done: res.Size, Finished: true})
	return res, nil
}

// countingReader reports how many bytes have been read through it.
type countingReader struct {
	r io.Reader
	n int64
	f func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.n += int64(n)
		c.f(c.n)
	}
	return n, err
}

// storeDelete deletes a blob or a manifest on a store that can.
func (r *Repository) storeDelete(ctx context.Context, op string, d v1.Hash, manifest bool) error {
	del, ok := r.Store().(store.Deleter)
	if !ok {
		return fmt.Errorf("%s: %w", op, ErrUnsupported)
	}
	var err error
	if manifest {
		err = del.DeleteManifest(ctx, d)
	} else {
		err = del.DeleteBlob(ctx, d)
	}
	return withOp(op, err)
}

// ValidateRepository checks that name is a valid repository name (the
// distribution specification's grammar: lowercase letters, digits and
// separators, components joined by "/"), as [Registry.Repository] does.
// Such a name never climbs out of a directory it is joined to.
func ValidateRepository(name string) error {
	if len(name) > 255 || !repoPattern.MatchString(name) {
		return fmt.Errorf("%w: repository %q: must be lowercase letters, digits and separators (. _ - /)", ErrInvalidName, name)
	}
	return nil
}
