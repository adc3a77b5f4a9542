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
	return runJobs(ctx, jobs, n, false, f)
}

// ForEachInOrder is ForEach with the outcome of a sequential loop that
// stops at the first failure: a failure at index k cancels (or never
// starts) the calls for indexes after k, while those before k run to
// completion. The error returned is the lowest index's.
func ForEachInOrder(ctx context.Context, jobs, n int, f func(ctx context.Context, i int) error) error {
	return runJobs(ctx, jobs, n, true, f)
}

func runJobs(ctx context.Context, jobs, n int, inOrder bool, f func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	errs := make([]error, n)
	cancels := make([]context.CancelFunc, n)
	var mu sync.Mutex
	failed := n // the lowest index that failed so far
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
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
			<-sem
			errs[i] = cmp.Or(ctx.Err(), context.Canceled)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
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
