//go:build !unix

package layout

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// lock creates path exclusively (its existence is the lock), polling until
// it can or ctx is done. A lock file left by a crashed process must be
// removed by hand.
func lock(ctx context.Context, path string) (func() error, error) {
	path += ".held"
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_ = f.Close()
			return func() error { return os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// syncDir is a no-op where directories cannot be synced.
func syncDir(string) error { return nil }
