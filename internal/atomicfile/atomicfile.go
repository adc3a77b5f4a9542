// Package atomicfile writes a named file so that it is replaced only once
// everything was written: the data goes to a temporary file beside the
// target, which Commit syncs and renames into place and Discard removes. A
// symbolic link is followed (the link stays a link); a device, FIFO or
// socket is written to as it is.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dxf-go/dxf/internal/writeback"
)

// Error says why the file could not be written, naming the path given,
// not the temporary file beside it: "PATH: directory D does not exist".
type Error struct {
	Path string
	Msg  string
	Err  error // the cause, nil if none
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// File is a file being written; its data reaches the target at Commit.
// Write to the embedded *os.File (which a caller may hand on as such).
type File struct {
	*os.File
	path, target string
	mode         os.FileMode
	temp         bool         // false for a device, FIFO or socket written in place
	stop         func() error // ends the write-back watch of a temporary file
}

// IsStdout reports whether path names the process's own standard output,
// which is then best written to as it is.
func IsStdout(path string) bool {
	switch filepath.Clean(path) {
	case "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1":
		return true
	}
	return false
}

// Create starts writing path. A new file gets mode 0644, a replaced one
// keeps its permissions.
func Create(path string) (*File, error) {
	target, fi, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if fi != nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, wrap(path, err)
		}
		return &File{File: f, path: path, target: target}, nil
	}
	mode := os.FileMode(0o644)
	if fi != nil {
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".dxf-*")
	if err != nil {
		return nil, wrap(path, err)
	}
	// The disk writes the file while it is written, so that the sync of
	// Commit has little left to wait for.
	return &File{File: f, path: path, target: target, mode: mode, temp: true, stop: writeback.Watch(f)}, nil
}

// Commit puts the data written in place of the target.
func (f *File) Commit() error {
	if !f.temp {
		return f.Close()
	}
	// The watch's early syncs may have been told of a write error that
	// the sync below would then not report again.
	err := f.stop()
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), f.mode)
	}
	if err == nil {
		err = os.Rename(f.Name(), f.target)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return wrap(f.path, err)
	}
	return nil
}

// Discard drops the data written, leaving the target as it was.
func (f *File) Discard() {
	if f.stop != nil {
		_ = f.stop()
	}
	_ = f.Close()
	if f.temp {
		_ = os.Remove(f.Name())
	}
}

// resolve returns the file path writes: path itself, or for a symbolic
// link the file it leads to, and that file's information (nil if it does
// not exist yet). A link to nothing, and anything that is not a regular
// file, device, FIFO or socket, is refused.
func resolve(path string) (string, os.FileInfo, error) {
	target := path
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return "", nil, &Error{Path: path, Msg: "a symbolic link to a file that cannot be reached", Err: err}
		}
	}
	fi, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return target, nil, nil
	case err != nil:
		return "", nil, wrap(path, err)
	case fi.IsDir():
		return "", nil, &Error{Path: path, Msg: "is a directory"}
	case fi.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) == 0 && !fi.Mode().IsRegular():
		return "", nil, &Error{Path: path, Msg: fmt.Sprintf("not a regular file (%v)", fi.Mode().Type())}
	}
	return target, fi, nil
}

// wrap says why path could not be written.
func wrap(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Path: path, Msg: fmt.Sprintf("directory %s does not exist", filepath.Dir(path)), Err: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{Path: path, Msg: pe.Err.Error(), Err: err}
	}
	return &Error{Path: path, Msg: err.Error(), Err: err}
}

// Output is where a command writes its output: stdout for "", "-" or a
// path naming standard output (see [IsStdout]), else a file created at
// path (see [Create]), which commit puts in place and discard drops. The
// errors name the file as "output PATH: …".
func Output(path string, stdout io.Writer) (w io.Writer, commit func() error, discard func(), err error) {
	if path == "" || path == "-" || IsStdout(path) {
		return stdout, func() error { return nil }, func() {}, nil
	}
	f, err := Create(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("output %w", err)
	}
	// The *os.File itself: a caller may write a regular file in parallel.
	return f.File, func() error {
		if err := f.Commit(); err != nil {
			return fmt.Errorf("output %w", err)
		}
		return nil
	}, f.Discard, nil
}
