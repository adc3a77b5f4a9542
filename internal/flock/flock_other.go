//go:build !unix

package flock

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// Lock creates path+".held" exclusively (its existence is the lock),
// polling until it can or ctx is done. The returned function releases it.
// A lock file left by a crashed process must be removed by hand.
func Lock(ctx context.Context, path string, perm os.FileMode) (func() error, error) {
	path += ".held"
	wait := time.Millisecond
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
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
		wait = min(2*wait, maxWait)
	}
}
