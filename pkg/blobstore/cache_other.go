//go:build !linux

package blobstore

import (
	"fmt"
	"os"
)

// fileIdentity says which version of a file fi describes.
func fileIdentity(fi os.FileInfo) string {
	return fmt.Sprintf("%d,%d", fi.Size(), fi.ModTime().UnixNano())
}
