package blobstore

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DeleteBlob deletes the blob with digest d from the repository. The
// store must delete ([store.Deleter]; a registry must allow deletes); a
// missing blob gives [ErrBlobNotFound].
func (r *Repository) DeleteBlob(ctx context.Context, d v1.Hash) error {
	return r.storeDelete(ctx, "delete blob "+d.String(), d, false)
}

// DeleteManifest deletes the manifest with digest d, and with it every alias
// that names it. The store must delete, as for [Repository.DeleteBlob].
func (r *Repository) DeleteManifest(ctx context.Context, d v1.Hash) error {
	return r.storeDelete(ctx, "delete manifest "+d.String(), d, true)
}
