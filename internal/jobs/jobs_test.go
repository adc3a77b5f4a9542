package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jobOutcome runs 8 jobs, 4 at a time, with job 2 failing as soon as job 1
// has started, and jobs 0 and 1 waiting (up to a few seconds) to be
// cancelled. It reports which jobs completed, were cancelled, or never
// ran, and the error returned.
func jobOutcome(t *testing.T, run func(context.Context, int, int, func(context.Context, int) error) error) (completed, cancelled, started []bool, err error) {
	t.Helper()
	completed, cancelled, started = make([]bool, 8), make([]bool, 8), make([]bool, 8)
	var mu sync.Mutex
	oneStarted := make(chan struct{})
	var failedYet atomic.Bool
	err = run(t.Context(), 4, 8, func(ctx context.Context, i int) error {
		mu.Lock()
		started[i] = true
		mu.Unlock()
		switch i {
		case 1:
			close(oneStarted)
		case 2:
			<-oneStarted
			failedYet.Store(true)
			return fmt.Errorf("job %d: %w", i, errBoom)
		}
		// Wait until the failure, then a little for a cancellation.
		for !failedYet.Load() {
			time.Sleep(time.Millisecond)
		}
		select {
		case <-ctx.Done():
			mu.Lock()
			cancelled[i] = true
			mu.Unlock()
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		mu.Lock()
		completed[i] = true
		mu.Unlock()
		return nil
	})
	return completed, cancelled, started, err
}

var errBoom = errors.New("boom")

func TestForEachCancelsAll(t *testing.T) {
	t.Parallel()
	completed, cancelled, _, err := jobOutcome(t, ForEach)
	if !errors.Is(err, errBoom) || err.Error() != "job 2: boom" {
		t.Fatalf("ForEach returned %v, want job 2's error", err)
	}
	for _, i := range []int{0, 1} {
		if !cancelled[i] || completed[i] {
			t.Errorf("job %d: cancelled %v, completed %v; want it cancelled", i, cancelled[i], completed[i])
		}
	}
}

func TestForEachInOrder(t *testing.T) {
	t.Parallel()
	completed, cancelled, started, err := jobOutcome(t, ForEachInOrder)
	if !errors.Is(err, errBoom) || err.Error() != "job 2: boom" {
		t.Fatalf("ForEachInOrder returned %v, want job 2's error", err)
	}
	for _, i := range []int{0, 1} {
		if !completed[i] || cancelled[i] {
			t.Errorf("job %d (before the failure): completed %v, cancelled %v; want it completed", i, completed[i], cancelled[i])
		}
	}
	for i := 3; i < 8; i++ {
		if completed[i] || started[i] && !cancelled[i] {
			t.Errorf("job %d (after the failure): started %v, completed %v, cancelled %v", i, started[i], completed[i], cancelled[i])
		}
	}
	for i := 4; i < 8; i++ {
		if started[i] {
			t.Errorf("job %d started after job 2 had failed", i)
		}
	}
}

func TestForEachParentCancelled(t *testing.T) {
	t.Parallel()
	for _, run := range []func(context.Context, int, int, func(context.Context, int) error) error{ForEach, ForEachInOrder} {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int32
		err := run(ctx, 2, 10, func(ctx context.Context, i int) error {
			if calls.Add(1) == 1 {
				cancel()
			}
			<-ctx.Done()
			return ctx.Err()
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("returned %v, want context.Canceled", err)
		}
		if n := calls.Load(); n > 2 {
			t.Errorf("%d calls after the parent context was cancelled by the first", n)
		}
	}
}
