package blobstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// forEachFile moves up to smallPerJob small files per job at once, large
// files one per job, and with 1 job one file at a time.
func TestForEachFileShares(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		jobs, maxSmall, maxLarge int
	}{
		{jobs: 1, maxSmall: 1, maxLarge: 1},
		{jobs: 2, maxSmall: 2 * smallPerJob, maxLarge: 2},
		{jobs: DefaultJobs, maxSmall: DefaultJobs * smallPerJob, maxLarge: DefaultJobs},
	} {
		t.Run(fmt.Sprint(tc.jobs), func(t *testing.T) {
			t.Parallel()
			// The first 40 files are small, the next 40 large.
			const n = 80
			large := func(i int) bool { return i >= n/2 }
			var mu sync.Mutex
			var small, big, peakSmall, peakBig int
			err := forEachFile(t.Context(), tc.jobs, n, large, func(_ context.Context, i int) error {
				mu.Lock()
				if large(i) {
					big++
					peakBig = max(peakBig, big)
				} else {
					small++
					peakSmall = max(peakSmall, small)
				}
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
				mu.Lock()
				if large(i) {
					big--
				} else {
					small--
				}
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if peakSmall > tc.maxSmall || peakBig > tc.maxLarge {
				t.Fatalf("%d jobs: %d small files at once (at most %d), %d large (at most %d)", tc.jobs, peakSmall, tc.maxSmall, peakBig, tc.maxLarge)
			}
			if tc.jobs > 1 && peakSmall <= tc.jobs {
				t.Errorf("%d jobs: small files went at most %d at once, no more than large ones", tc.jobs, peakSmall)
			}
		})
	}
}
