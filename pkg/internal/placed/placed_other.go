//go:build !linux

package placed

import "os"

// Writing blobs in place is only done on Linux.
const placedSupported = false

func isAppending(*os.File) bool            { return true }
func reserve(*os.File, int64, int64) error { return nil }
