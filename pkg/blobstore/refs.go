package blobstore

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/internal/jobs"
)

// Ref names what a blob operation acts on: one blob by its digest, or the
// blobs of an alias.
type Ref struct {
	// Alias is the alias's name; "" when the Ref names a blob.
	Alias string
	// Digest is the blob's digest when Alias is "".
	Digest v1.Hash
}

// AliasRef is the [Ref] of an alias.
func AliasRef(name string) Ref { return Ref{Alias: name} }

// BlobRef is the [Ref] of one blob.
func BlobRef(d v1.Hash) Ref { return Ref{Digest: d} }

// GetAliases resolves refs, [WithJobs] at a time, for platform as
// [Repository.GetAlias] does. The result is in the order of refs: the
// [Alias] of each alias ref, nil for a blob ref (nothing is asked of the
// registry for it). On failure the error is that of the first ref that
// failed, as a loop over refs would report it.
func (r *Repository) GetAliases(ctx context.Context, refs []Ref, platform string, opts ...TransferOption) ([]*Alias, error) {
	o := makeTransferOptions(opts)
	aliases := make([]*Alias, len(refs))
	err := jobs.ForEachInOrder(ctx, o.jobs, len(refs), func(ctx context.Context, i int) error {
		if refs[i].Alias == "" {
			return nil
		}
		var err error
		aliases[i], err = r.GetAlias(ctx, refs[i].Alias, platform)
		return err
	})
	if err != nil {
		return nil, err
	}
	return aliases, nil
}

// RefSize is the size of what a [Ref] names.
type RefSize struct {
	// Size is the blob's size or the total size of the alias's blobs (its
	// layers; the config is not counted). It is 0 for a multi-platform
	// alias resolved without a platform.
	Size int64
	// Platforms holds, for a multi-platform alias resolved without a
	// platform, the total size per platform; else it is nil.
	Platforms map[string]int64
}

// Sizes returns the size of each of refs, in order, [WithJobs] refs at a
// time: a blob's as the registry tells it ([Repository.BlobSize]), an
// alias's (for platform) as [Repository.AliasSizeOf] does. On failure the
// error is that of the first ref that failed, as a loop over refs would
// report it.
func (r *Repository) Sizes(ctx context.Context, refs []Ref, platform string, opts ...TransferOption) ([]RefSize, error) {
	o := makeTransferOptions(opts)
	sizes := make([]RefSize, len(refs))
	err := jobs.ForEachInOrder(ctx, o.jobs, len(refs), func(ctx context.Context, i int) error {
		if refs[i].Alias == "" {
			n, err := r.BlobSize(ctx, refs[i].Digest)
			sizes[i] = RefSize{Size: n}
			return err
		}
		al, err := r.GetAlias(ctx, refs[i].Alias, platform)
		if err != nil {
			return err
		}
		sizes[i], err = r.AliasSizeOf(ctx, al)
		return err
	})
	if err != nil {
		return nil, err
	}
	return sizes, nil
}

// AliasSizeOf returns the total size of the blobs of a resolved alias: of
// its image (see [Alias.Image]), or for a multi-platform alias resolved
// without a platform, of each platform's.
func (r *Repository) AliasSizeOf(ctx context.Context, al *Alias) (RefSize, error) {
	if m := al.Image(); m != nil {
		n, err := r.ManifestSize(ctx, m)
		return RefSize{Size: n}, err
	}
	sizes := make(map[string]int64, len(al.Platforms))
	for _, p := range al.PlatformNames() {
		n, err := r.ManifestSize(ctx, al.Platforms[p])
		if err != nil {
			return RefSize{}, err
		}
		sizes[p] = n
	}
	return RefSize{Platforms: sizes}, nil
}

// HashFiles returns the sha256 digest of each file of paths, in order,
// hashing [WithJobs] files at a time. On failure the error, which names the
// file, is that of the first file that failed.
func HashFiles(ctx context.Context, paths []string, opts ...TransferOption) ([]v1.Hash, error) {
	o := makeTransferOptions(opts)
	digests := make([]v1.Hash, len(paths))
	err := jobs.ForEachInOrder(ctx, o.jobs, len(paths), func(_ context.Context, i int) error {
		d, _, err := HashFile(paths[i])
		if err != nil {
			return fmt.Errorf("hashing %s: %w", paths[i], err)
		}
		digests[i] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return digests, nil
}
