package blobstore

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
)

// LayoutRepositories lists the repositories kept under root as OCI image
// layouts, as list-repos lists a registry's: the path below root, with
// '/', of every directory holding an oci-layout file, in lexical order
// (with DXF_HOST=oci:ROOT, repository a/b is the layout ROOT/a/b).
// Symbolic links are not followed, a layout's own blobs directory is not
// searched, and directories whose paths are not valid repository names
// are left out. A root that does not exist is an error wrapping
// [ErrNotFound].
func LayoutRepositories(root string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if root == "" {
			yield("", fmt.Errorf("%w: oci: needs a directory (oci:./data)", ErrInvalidName))
			return
		}
		if _, err := os.Stat(root); errors.Is(err, fs.ErrNotExist) {
			yield("", fmt.Errorf("list %s%s: %w: %w", LayoutPrefix, root, ErrNotFound, err))
			return
		}
		stop := errors.New("stop")
		layouts := map[string]bool{} // the layout directories seen
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if d.Name() == "blobs" && layouts[filepath.Dir(path)] {
				return fs.SkipDir // a layout's blobs
			}
			fi, err := os.Lstat(filepath.Join(path, "oci-layout"))
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
			layouts[path] = true
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			name := filepath.ToSlash(rel)
			if rel == "." || ValidateRepository(name) != nil {
				return nil
			}
			if !yield(name, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield("", fmt.Errorf("list %s%s: %w", LayoutPrefix, root, err))
		}
	}
}
