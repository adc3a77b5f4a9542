//go:build linux

package blobstore

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity says which version of a file fi describes.
func fileIdentity(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Sprintf("%d,%d", fi.Size(), fi.ModTime().UnixNano())
	}
	//nolint:unconvert // field types differ between platforms
	return fmt.Sprintf("%d,%d,%d,%d,%d", fi.Size(), fi.ModTime().UnixNano(), int64(st.Ctim.Sec)*1e9+int64(st.Ctim.Nsec), uint64(st.Dev), uint64(st.Ino))
}

// fileOwner returns the user id owning the file fi describes, if known.
func fileOwner(fi os.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
