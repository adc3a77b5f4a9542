// Package writeback has the kernel write a file's data to the disk while
// the file is still being written, so that the sync making it durable at the
// end has little left to wait for. Without it, a file of a gigabyte written
// in a second is all dirty in the page cache when it is synced, and the sync
// then waits as long as the disk needs for all of it, after everything else
// is done; with it, the disk works while the data is still being read,
// hashed and written.
//
// It never makes anything durable by itself (the caller still syncs) and
// never fails: where the system has no way to start write-back early
// (anywhere but Linux), or the call fails, it does nothing.
package writeback

import (
	"os"
	"sync"
	"time"
)

// Window is how much data a [Sequential] lets pile up before it starts
// writing it back.
const Window = 8 << 20

// Sequential follows a file written from one offset on, in order, by one
// writer: every [Window] bytes it starts the write-back of the window just
// written, and waits until the window before it is on the disk, so that at
// most about two windows of the file are dirty at any time.
type Sequential struct {
	f       *os.File
	off     int64 // end of what was written
	started int64 // end of what write-back was started for
	prev    int64 // start of the window started last
}

// NewSequential follows f, written in order from offset off.
func NewSequential(f *os.File, off int64) *Sequential {
	return &Sequential{f: f, off: off, started: off, prev: off}
}

// Wrote tells s that n more bytes were written after the last ones.
func (s *Sequential) Wrote(n int) {
	s.off += int64(n)
	if s.off-s.started < Window {
		return
	}
	// Wait for the window before the one just finished first: the disk
	// then always has the newer one queued while the writer goes on.
	if s.prev < s.started {
		waitWritten(s.f, s.prev, s.started-s.prev)
	}
	startWrite(s.f, s.started, s.off-s.started)
	s.prev, s.started = s.started, s.off
}

// WatchInterval is how often [Watch] starts the write-back of what its
// file has dirty: at a gigabyte a second, 50 MB each time.
const WatchInterval = 50 * time.Millisecond

// Watch starts the write-back of whatever f has dirty every
// [WatchInterval], from another goroutine, until the returned function is
// called (which waits for that goroutine to end; calling it again does
// nothing). It suits a file written in any order, by any number of writers
// (several blobs pulled into their places at once). Closing f before
// calling stop is no harm. It does nothing where write-back cannot be
// started early.
func Watch(f *os.File) (stop func()) { return watch(f, WatchInterval) }

func watch(f *os.File, interval time.Duration) (stop func()) {
	if !supported {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				startWrite(f, 0, 0)
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
