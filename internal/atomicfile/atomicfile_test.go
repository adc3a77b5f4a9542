package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCommitDiscard: the target changes only at Commit, keeps its
// permissions, and a symbolic link to it stays a link.
func TestCommitDiscard(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("out", link); err != nil {
		t.Fatal(err)
	}

	f, err := Create(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("discarded"); err != nil {
		t.Fatal(err)
	}
	f.Discard()
	checkFile(t, target, "old")

	f, err = Create(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	checkFile(t, target, "old")
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	checkFile(t, target, "new")
	if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	if li, err := os.Lstat(link); err != nil || li.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link is no longer a link")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// TestCommitWatchError: a write error told to the write-back watch's early
// sync fails Commit (the final sync may no longer be told of it): the
// target keeps its old data and no temporary file is left.
func TestCommitWatchError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Create(target)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("new"); err != nil {
		t.Fatal(err)
	}
	stop := f.stop
	f.stop = func() error {
		_ = stop()
		return &fs.PathError{Op: "fdatasync", Path: f.Name(), Err: syscall.EIO}
	}
	err = f.Commit()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, syscall.EIO) || err.Error() != target+": "+syscall.EIO.Error() {
		t.Errorf("Commit after a failed early sync: %v", err)
	}
	checkFile(t, target, "old")
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no", "out")
	_, err := Create(missing)
	var e *Error
	if !errors.As(err, &e) || err.Error() != missing+": directory "+filepath.Dir(missing)+" does not exist" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	if _, err := Create(dir); err == nil || err.Error() != dir+": is a directory" {
		t.Errorf("directory: %v", err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink("nothing", dangling); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dangling); err == nil || err.Error() != dangling+": a symbolic link to a file that cannot be reached" {
		t.Errorf("dangling link: %v", err)
	}
	if !IsStdout("/dev/stdout") || !IsStdout("/dev/fd/1") || IsStdout("/dev/null") {
		t.Error("IsStdout")
	}
}

func checkFile(t *testing.T, path, want string) {
	t.Helper()
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Errorf("%s holds %q (%v), want %q", path, b, err, want)
	}
}

func TestOutput(t *testing.T) {
	var stdout strings.Builder
	for _, path := range []string{"", "-", "/dev/stdout"} {
		w, commit, discard, err := Output(path, &stdout)
		if err != nil || w != io.Writer(&stdout) {
			t.Fatalf("Output(%q): %v, %v; want standard output", path, w, err)
		}
		discard()
		if err := commit(); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "out")
	w, commit, _, err := Output(path, &stdout)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "data"); err != nil {
		t.Fatal(err)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
		t.Errorf("%s: %q, %v", path, b, err)
	}
	_, _, _, err = Output(filepath.Join(path, "missing", "x"), &stdout)
	if err == nil || !strings.HasPrefix(err.Error(), "output "+filepath.Join(path, "missing", "x")+": ") {
		t.Errorf("error %v, want \"output PATH: …\"", err)
	}
}
