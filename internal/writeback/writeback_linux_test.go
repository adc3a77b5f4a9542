package writeback

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// written returns a new file holding n bytes, and whether the system tells
// how much of it the page cache holds (then the watch syncs it early).
func written(t *testing.T, n int) (*os.File, bool) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(data(n)); err != nil {
		t.Fatal(err)
	}
	c, told := cached(f)
	if told && c < int64(n) {
		t.Fatalf("the page cache holds %d bytes of the %d just written", c, n)
	}
	return f, told
}

// waitFor waits (up to a minute: no timing is asserted) until cond holds.
func waitFor(cond func() bool) {
	for deadline := time.Now().Add(time.Minute); !cond() && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
}

// TestWatchSyncs: a watched file that grew by at least the amount between
// syncs has its data synced, once until it grows by that much again; with
// an amount it never reaches, never. Where the system does not tell how much of a file it
// caches, nothing is synced early.
func TestWatchSyncs(t *testing.T) {
	t.Parallel()
	const every = 1 << 20
	f, told := written(t, 3*every)
	var syncs atomic.Int32
	count := func(f *os.File) error {
		syncs.Add(1)
		return dataSync(f)
	}
	stop := watch(f, time.Millisecond, every, count)
	if told {
		waitFor(func() bool { return syncs.Load() > 0 })
	}
	// More ticks find no new data to sync.
	time.Sleep(20 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if want := map[bool]int32{true: 1, false: 0}[told]; syncs.Load() != want {
		t.Errorf("%d syncs of a file grown by 3 times the amount at once, want %d (the system tells: %v)", syncs.Load(), want, told)
	}

	syncs.Store(0)
	stop = watch(f, time.Millisecond, 4*every, count)
	time.Sleep(20 * time.Millisecond)
	if err := stop(); err != nil || syncs.Load() != 0 {
		t.Errorf("%d syncs (%v) of a file that did not grow by the amount", syncs.Load(), err)
	}
}

// TestWatchSyncError: a failing early sync is reported by stop (the
// caller's own sync may no longer be told of a write error), and no sync
// is tried after it.
func TestWatchSyncError(t *testing.T) {
	t.Parallel()
	const every = 1 << 20
	f, told := written(t, 2*every)
	var syncs atomic.Int32
	failing := func(f *os.File) error {
		syncs.Add(1)
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: syscall.EIO}
	}
	stop := watch(f, time.Millisecond, every, failing)
	if told {
		waitFor(func() bool { return syncs.Load() > 0 })
		// Grown again: still no second sync.
		if _, err := f.Write(data(2 * every)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	err := stop()
	switch {
	case told && !errors.Is(err, syscall.EIO):
		t.Errorf("stop after a failed sync: %v, want EIO", err)
	case !told && err != nil:
		t.Errorf("stop without early syncs: %v", err)
	case told && syncs.Load() != 1:
		t.Errorf("%d syncs tried, want 1 (none after the failure)", syncs.Load())
	}
	if err := stop(); err != nil {
		t.Errorf("stop again: %v, want nil", err)
	}
}
