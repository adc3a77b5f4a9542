//go:build unix

package registrytest

import (
	"context"

	"github.com/dxf-go/dxf/internal/flock"
)

// lockFile takes an exclusive flock on path (creating it), waiting until it
// is free or ctx is done. The returned function releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	unlock, err := flock.Lock(ctx, path, 0o600)
	if err != nil {
		return nil, err
	}
	return func() { _ = unlock() }, nil
}
