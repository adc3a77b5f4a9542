package blobstore

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestDigestCacheTrust: a cache directory or entry owned by someone else,
// or writable by others, is not trusted.
func TestDigestCacheTrust(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "entry")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := trusted(fi, os.Getuid()); err != nil {
		t.Errorf("own private file: %v", err)
	}
	if runtime.GOOS == "linux" {
		if err := trusted(fi, os.Getuid()+1); err == nil || !strings.Contains(err.Error(), "owned by user") {
			t.Errorf("file of another user: %v", err)
		}
	}
	if err := os.Chmod(f, 0o620); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(f)
	if err := trusted(fi, os.Getuid()); err == nil || !strings.Contains(err.Error(), "writable by others") {
		t.Errorf("group-writable file: %v", err)
	}
	if err := CheckDigestCache(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("missing directory: %v", err)
	}
	if err := CheckDigestCache(f); err == nil {
		t.Errorf("a file as the cache directory was accepted")
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := CheckDigestCache(dir); err == nil {
		t.Errorf("a world-writable directory was accepted")
	}
}
