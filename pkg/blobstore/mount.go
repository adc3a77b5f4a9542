package blobstore

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

// MountBlob makes the blob with digest d, held by repository from on the same
// registry, available in r without transferring it (a cross-repository
// mount). Any answer but 201 Created fails with [ErrMountFailed]; when the
// registry instead opened an upload session, that session is cancelled.
func (r *Repository) MountBlob(ctx context.Context, from string, d v1.Hash) error {
	m, ok := r.Store().(store.Mounter)
	if !ok {
		return fmt.Errorf("mount blob %s from %s: %w: %s is an OCI image layout, not a registry repository (copy the blob instead)", d, from, ErrUnsupported, r)
	}
	return m.Mount(ctx, from, d)
}
