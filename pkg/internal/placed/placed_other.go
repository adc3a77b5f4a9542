//go:build !linux

package placed

import (
	"errors"
	"os"
)

// Writing blobs in place is only done on Linux.
const placedSupported = false

var errInvalid = errors.New("invalid argument")

func isAppending(*os.File) bool                          { return true }
func reserve(*os.File, int64, int64) error               { return nil }
func openDirect(*os.File, os.FileInfo) (*os.File, int64) { return nil, 0 }
