package writeback

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// data returns n bytes of a pattern that does not repeat at any power of
// two, so misplaced pieces would show.
func data(n int) []byte {
	pattern := make([]byte, 251)
	for i := range pattern {
		pattern[i] = byte(i)
	}
	return bytes.Repeat(pattern, n/len(pattern)+1)[:n]
}

// TestSequential: writes in uneven pieces over many windows start the
// write-back of each full window once, in order, wait for the windows far
// enough behind, and leave the file holding what was written.
func TestSequential(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const head, window, piece = 100, 256 << 10, 77_777
	if _, err := f.Write(make([]byte, head)); err != nil {
		t.Fatal(err)
	}
	want := data(12*window + window/2)
	s := NewSequential(f, head)
	s.window = window
	for rest := want; len(rest) > 0; {
		n := min(len(rest), piece)
		if _, err := f.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		s.Wrote(n)
		rest = rest[n:]
		if s.started > s.off || s.waited > s.started-behind*window && s.waited != head {
			t.Fatalf("after %d bytes: write-back started up to %d, waited for up to %d", s.off, s.started, s.waited)
		}
	}
	if s.off != head+int64(len(want)) {
		t.Errorf("followed up to %d, want %d", s.off, head+len(want))
	}
	// Write-back was started for all but less than a window at the end,
	// and waited for all but the last behind windows of that.
	if s.off-s.started >= window || s.started <= head {
		t.Errorf("write-back started up to %d of %d", s.started, s.off)
	}
	if s.waited != s.started-behind*window {
		t.Errorf("waited for the write-back up to %d, want %d", s.waited, s.started-behind*window)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got[head:], want) {
		t.Fatalf("the file holds %d bytes, not what was written (%v)", len(got), err)
	}
}

// TestSequentialError: the first write error a wait is told of is kept
// for Err (the kernel does not tell the caller's sync of it again); a file
// written without one has none.
func TestSequentialError(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const window = 64 << 10
	write := func(s *Sequential, windows int) {
		t.Helper()
		for range windows {
			if _, err := f.Write(data(window)); err != nil {
				t.Fatal(err)
			}
			s.Wrote(window)
		}
	}
	s := NewSequential(f, 0)
	s.window = window
	write(s, 2*behind)
	if s.Err() != nil {
		t.Fatalf("Err after writing without an error: %v", s.Err())
	}
	first := &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: syscall.EIO}
	waits := 0
	s.wait = func(*os.File, int64, int64) error {
		waits++
		if waits == 1 {
			return first
		}
		return &os.PathError{Op: "sync_file_range", Path: f.Name(), Err: syscall.ENOSPC}
	}
	write(s, 3)
	if waits != 3 || s.Err() != error(first) { //nolint:errorlint // the very error, not one like it
		t.Errorf("after %d failed waits, Err = %v, want the first (%v)", waits, s.Err(), first)
	}
}

// TestWatch: a file written by several writers at their offsets while it
// is watched (and synced every MiB) holds what they wrote; stop waits for
// the watcher, may be called again, and a file closed before it is no harm
// (no error).
func TestWatch(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	stop := watch(f, time.Millisecond, 1<<20, dataSync)
	want := data(3 << 20)
	var wg sync.WaitGroup
	for part := range 3 {
		wg.Go(func() {
			for off := part << 20; off < (part+1)<<20; off += 64 << 10 {
				if _, err := f.WriteAt(want[off:off+64<<10], int64(off)); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		})
	}
	wg.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // the watcher meets a closed file
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := stop(); err != nil {
		t.Errorf("stop again: %v", err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not what was written (%v)", len(got), err)
	}
}
