// Package jobs runs a bounded number of calls at once, with the error
// reporting of a sequential loop.
package jobs

import (
	"cmp"
	"context"
	"errors"
	"sync"
)

// ForEach calls f(ctx, i) for every i in [0, n), at most jobs at a time.
// After a failure no new call starts and the context of running ones is
// cancelled. The error returned is that of the lowest index that failed for
// a reason of its own (not the cancellation), so the message does not
// depend on timing.
func ForEach(ctx context.Context, jobs, n int, f func(ctx context.Context, i int) error) error {
	return runJobs(ctx, jobs, n, false, nil, f)
}

// ForEachInOrder is ForEach with the outcome of a sequential loop that
// stops at the first failure: a failure at index k cancels (or never
// starts) the calls for indexes after k, while those before k run to
// completion. The error returned is the lowest index's.
func ForEachInOrder(ctx context.Context, jobs, n int, f func(ctx context.Context, i int) error) error {
	return runJobs(ctx, jobs, n, true, nil, f)
}

// ForEachWeighted is ForEach where call i takes weight(i) of the slots
// (at least 1, at most slots) and the calls running at once take at most
// slots in all: many light calls, or fewer heavy ones. Calls start in
// index order.
func ForEachWeighted(ctx context.Context, slots, n int, weight func(i int) int, f func(ctx context.Context, i int) error) error {
	return runJobs(ctx, slots, n, false, weight, f)
}

func runJobs(ctx context.Context, jobs, n int, inOrder bool, weight func(int) int, f func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	errs := make([]error, n)
	cancels := make([]context.CancelFunc, n)
	var mu sync.Mutex
	failed := n // the lowest index that failed so far
	slots := max(jobs, 1)
	sem := make(chan struct{}, slots)
	// Only this loop takes slots, one call's all at once before the next
	// call's: no two calls wait for each other's.
	acquire := func(w int) bool {
		for k := range w {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				release(sem, k)
				return false
			}
		}
		return true
	}
	var wg sync.WaitGroup
	for i := range n {
		w := 1
		if weight != nil {
			w = min(max(weight(i), 1), slots)
		}
		if !acquire(w) {
			errs[i] = ctx.Err()
			continue
		}
		mu.Lock()
		stop := failed < n && (!inOrder || failed < i)
		var cctx context.Context
		if !stop && ctx.Err() == nil {
			cctx, cancels[i] = context.WithCancel(ctx)
		}
		mu.Unlock()
		if cctx == nil {
			release(sem, w)
			errs[i] = cmp.Or(ctx.Err(), context.Canceled)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer release(sem, w)
			err := f(cctx, i)
			mu.Lock()
			defer mu.Unlock()
			cancels[i]()
			errs[i] = err
			if err == nil || i >= failed {
				return
			}
			failed = i
			for j, cancel := range cancels {
				if cancel != nil && (!inOrder || j > i) {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// release gives back w slots of sem.
func release(sem chan struct{}, w int) {
	for range w {
		<-sem
	}
}
