package writeback

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
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

// TestSequential: writes in uneven pieces over several windows start the
// write-back of each full window once, in order, and leave the file holding
// what was written.
func TestSequential(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const head = 100
	if _, err := f.Write(make([]byte, head)); err != nil {
		t.Fatal(err)
	}
	want := data(2*Window + Window/2)
	s := NewSequential(f, head)
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 777_777)
		if _, err := f.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		s.Wrote(n)
		rest = rest[n:]
	}
	if s.off != head+int64(len(want)) {
		t.Errorf("followed up to %d, want %d", s.off, head+len(want))
	}
	// Write-back was started up to the end of the last piece that completed
	// a window: two windows, a little more each time.
	if s.started < head+2*Window || s.started > head+2*Window+777_777 || s.prev < head+Window || s.prev >= s.started {
		t.Errorf("write-back started up to %d, the last window from %d; want about %d and %d", s.started, s.prev, head+2*Window, head+Window)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got[head:], want) {
		t.Fatalf("the file holds %d bytes, not what was written (%v)", len(got), err)
	}
}

// TestWatch: a file written by several writers at their offsets while it
// is watched holds what they wrote; stop waits for the watcher, may be
// called again, and a file closed before it is no harm.
func TestWatch(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	stop := watch(f, time.Millisecond)
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
	stop()
	stop()
	got, err := os.ReadFile(f.Name())
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("the file holds %d bytes, not what was written (%v)", len(got), err)
	}
}
