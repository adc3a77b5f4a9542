package blobstore

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MountBlob makes the blob with digest d, held by repository from on the same
// registry, available in r without transferring it (a cross-repository
// mount). Any answer but 201 Created fails with [ErrMountFailed]; when the
// registry instead opened an upload session, that session is cancelled.
func (r *Repository) MountBlob(ctx context.Context, from string, d v1.Hash) error {
	op := fmt.Sprintf("mount blob %s from %s", d, from)
	if r.st != nil {
		return fmt.Errorf("%s: %w: %s is an OCI image layout, not a registry repository (copy the blob instead)", op, ErrUnsupported, r)
	}
	return r.rs.Mount(ctx, from, d)
}
