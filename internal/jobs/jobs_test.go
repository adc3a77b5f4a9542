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

// TestForEachWeighted runs light (weight 1) and heavy (weight 4) calls in
// 8 slots: all run, the weights running at once never exceed 8, light
// calls do run 8 at once, and heavy ones at most 2.
func TestForEachWeighted(t *testing.T) {
	t.Parallel()
	const n = 64
	heavy := func(i int) bool { return i%4 == 0 }
	var mu sync.Mutex
	var load, peak, heavyNow, heavyPeak, ran int
	err := ForEachWeighted(t.Context(), 8, n, func(i int) int {
		if heavy(i) {
			return 4
		}
		return 1
	}, func(_ context.Context, i int) error {
		w := 1
		if heavy(i) {
			w = 4
		}
		mu.Lock()
		load += w
		peak = max(peak, load)
		if heavy(i) {
			heavyNow++
			heavyPeak = max(heavyPeak, heavyNow)
		}
		ran++
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		load -= w
		if heavy(i) {
			heavyNow--
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if ran != n || peak > 8 || heavyPeak > 2 {
		t.Fatalf("ran %d of %d calls, peak weight %d (of 8 slots), %d heavy at once (at most 2)", ran, n, peak, heavyPeak)
	}
	if peak < 5 {
		t.Errorf("peak weight %d: light calls did not share the slots", peak)
	}
}

// TestForEachWeightedCancelled stops starting calls when the context ends,
// with weights larger than the slots clamped to them.
func TestForEachWeightedCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var ran atomic.Int64
	err := ForEachWeighted(ctx, 2, 10, func(int) int { return 5 }, func(_ context.Context, i int) error {
		ran.Add(1)
		if i == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || ran.Load() < 2 || ran.Load() > 3 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 2 or 3", err, ran.Load())
	}
}
