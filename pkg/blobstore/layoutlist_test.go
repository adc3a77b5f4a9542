package blobstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// LayoutRepositories finds layouts at any depth, in order, and leaves out
// symbolic links, names that are not repository names and what a layout
// keeps in its blobs directory.
func TestLayoutRepositories(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, dir := range []string{"b", "a/inner", "a", "a/blobs/sha256/x", "UPPER", "plain/dir"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"b", "a/inner", "a", "a/blobs/sha256/x", "UPPER"} {
		if err := os.WriteFile(filepath.Join(root, dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "b"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, err := range LayoutRepositories(root) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if want := []string{"a", "a/inner", "b"}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, err := range LayoutRepositories(filepath.Join(root, "missing")) {
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing root: %v", err)
		}
	}
}
