// Package writeback has the kernel write a file's data to the disk while
// the file is still being written, so that the sync making it durable at the
// end has little left to wait for. Without it, a file of a gigabyte written
// in a second is all dirty in the page cache when it is synced, and the sync
// then waits as long as the disk needs for all of it, after everything else
// is done; with it, the disk works while the data is still being read,
// hashed and written.
//
// The caller still syncs at the end; [Watch] also syncs the data in pieces
// on the way. Where the system has no way to start write-back early
// (anywhere but Linux), it does nothing. A write error the kernel reports
// to a wait or sync done here is reported once, there, and not again to the
// caller's own sync: it is kept, and handed back ([Sequential.Err], the
// function [Watch] returns).
package writeback

import (
	"errors"
	"os"
	"sync"
	"time"
)

// WriteSize is the most bytes to write to a file in one system call when
// writing much of it: a bigger buffer is best written in pieces. The page
// cache takes each write into folios as large as the write. On the
// benchmark machine, a virtual machine, three verified pulls of 1 GiB into
// new files one after the other took 1.0, 2.0 and 2.5-2.9 s written 512 KiB
// at a time (system time 0.4, 1.8 and 2.5-3.0 s, nearly all of it copying
// into the page cache), and about 1.0 s each written 128 KiB at a time;
// dd showed the same (1.7-2.3 s against 0.3-0.4 s for the third file).
// Presumably large folios come from memory the host had taken back, each
// first touch a fault on the host. Once no recently freed memory is left,
// every way of writing pays (cp too). The extra system calls cost little
// (8192 for 1 GiB).
const WriteSize = 128 << 10

// Window is how much data a [Sequential] lets pile up before it starts
// writing it back.
const Window = 32 << 20

// behind is how many windows a [Sequential] lets the disk fall behind
// before it waits: the disk keeps a deep queue (on a busy disk, waiting for
// the window just before stalled the writer), and the dirty data a writer
// leaves stays bounded.
const behind = 4

// Sequential follows a file written from one offset on, in order, by one
// writer: every [Window] bytes it starts the write-back of the window just
// written, and if the disk is more than a few windows behind, waits for it
// to catch up, so that at most about 5 windows of the file are dirty.
type Sequential struct {
	f       *os.File
	off     int64 // end of what was written
	started int64 // end of what write-back was started for
	waited  int64 // end of what was waited for
	window  int64 // Window, but in tests
	wait    func(f *os.File, off, n int64) error
	err     error // the first error a wait reported
}

// NewSequential follows f, written in order from offset off.
func NewSequential(f *os.File, off int64) *Sequential {
	return &Sequential{f: f, off: off, started: off, waited: off, window: Window, wait: waitWritten}
}

// Wrote tells s that n more bytes were written after the last ones.
func (s *Sequential) Wrote(n int) {
	s.off += int64(n)
	if s.off-s.started < s.window {
		return
	}
	startWrite(s.f, s.started, s.off-s.started)
	s.started = s.off
	if old := s.started - behind*s.window; old > s.waited {
		// Everything up to old is to be on the disk: usually it already is.
		if err := s.wait(s.f, s.waited, old-s.waited); err != nil && s.err == nil {
			s.err = err
		}
		s.waited = old
	}
}

// Err returns the first write error the kernel reported to s while it
// waited for the disk. The caller must fail if it is not nil, even if its
// own sync succeeds: the kernel reports such an error only once.
func (s *Sequential) Err() error { return s.err }

// WatchInterval is how often [Watch] starts the write-back of what its
// file has dirty: at a gigabyte a second, 50 MB each time.
const WatchInterval = 50 * time.Millisecond

// SyncEvery is how much new data of its file [Watch] lets the page cache
// take between two syncs of the file's data, where the system tells how much
// of a file it holds. Write-back alone puts the data on the device, not out
// of the device's own volatile cache (or, on a virtual machine, out of the
// host's page cache): the caller's sync at the end then waits for all of it
// to be flushed, after everything else is done. Synced in pieces as it
// grows, the file is flushed while the rest is still being read, hashed and
// written, and the final sync has little left to do: on the benchmark
// machine, the fsync ending a verified pull of 1 GiB into a file took
// 0.50-0.55 s with all of the data already written back, 0.01-0.06 s after
// the syncs on the way (each 0.1 s, while the pull went on).
const SyncEvery = 128 << 20

// Watch starts the write-back of whatever f has dirty every
// [WatchInterval], from another goroutine, and syncs f's data every
// [SyncEvery] bytes it grows by in the page cache, until the returned
// function is called. That function waits for the goroutine to end and
// returns the first error of those syncs: a write error is reported once,
// to the first sync that asks, so the caller's own sync may no longer see
// it and must not be trusted without this one. Calling it again does
// nothing and returns nil. It suits a file written in any order, by any
// number of writers (several blobs pulled into their places at once).
// Closing f before calling stop is no harm (the syncs then stop, without an
// error). It does nothing where write-back cannot be started early, and
// syncs nothing early where the system does not tell how much of a file it
// holds.
func Watch(f *os.File) (stop func() error) { return watch(f, WatchInterval, SyncEvery, dataSync) }

// watch is Watch with its interval, its amount between syncs and the sync
// itself given (tests count and fail syncs).
func watch(f *os.File, interval time.Duration, every int64, dataSync func(*os.File) error) (stop func() error) {
	if !supported {
		return func() error { return nil }
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var serr error
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		var synced int64 // bytes cached at the last sync
		syncing := true
		for {
			select {
			case <-done:
				return
			case <-t.C:
				startWrite(f, 0, 0)
				if !syncing {
					continue
				}
				n, ok := cached(f)
				if !ok {
					// Not told (an old kernel, a closed file): no syncs.
					syncing = false
					continue
				}
				if n-synced < every {
					continue
				}
				if err := dataSync(f); err != nil {
					syncing = false
					if !errors.Is(err, os.ErrClosed) {
						serr = err
					}
					continue
				}
				synced = n
			}
		}
	})
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			close(done)
			wg.Wait()
			err = serr
		})
		return err
	}
}
