// Package parallel runs the items of a loop on several goroutines: the one
// worker pool of the model packages and tools (decoding slices, rendering
// phantoms, matrix products, occlusion batches...).
package parallel

import (
	"context"
	"sync"
	"sync/atomic"
)

// Workers returns the number of goroutines For uses for n items and a
// limit of workers: min(n, workers), at least 1.
func Workers(n, workers int) int {
	return max(1, min(n, workers))
}

// For calls fn(w, i) once for every item i in [0, n) on Workers(n, workers)
// goroutines: the calling one (w = 0) and the others (w = 1, 2, ...); w
// names the goroutine, for scratch that each keeps. Items are handed out in
// increasing order; with one worker they all run on the calling goroutine,
// in order.
//
// For stops handing out items once ctx is cancelled or fn returns an
// error, and returns when the items handed out are done: the error of the
// lowest item that failed (all items below it ran), else ctx.Err(). A
// panic in fn is raised again on the calling goroutine once the others
// have stopped.
func For(ctx context.Context, n, workers int, fn func(w, i int) error) error {
	nw := Workers(n, workers)
	if nw == 1 {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return ctx.Err()
	}
	var (
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		errAt    = n // the lowest item that failed
		firstErr error
		panicked bool
		panicVal any
	)
	run := func(w int) {
		defer func() {
			if r := recover(); r != nil {
				mu.Lock()
				if !panicked {
					panicked, panicVal = true, r
				}
				mu.Unlock()
				stop.Store(true)
			}
		}()
		for !stop.Load() {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			if ctx.Err() != nil {
				stop.Store(true)
				return
			}
			if err := fn(w, i); err != nil {
				mu.Lock()
				if i < errAt {
					errAt, firstErr = i, err
				}
				mu.Unlock()
				stop.Store(true)
			}
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < nw; w++ {
		wg.Go(func() { run(w) })
	}
	run(0)
	wg.Wait()
	if panicked {
		panic(panicVal)
	}
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// Do calls fn(i) for every i in [0, n) on n goroutines (For with as many
// workers as items, the calling goroutine one of them) and returns when
// all are done: a fork and join of tasks that need no context and return
// no error, such as the parts of a matrix product.
func Do(n int, fn func(i int)) {
	_ = For(context.Background(), n, n, func(_, i int) error {
		fn(i)
		return nil
	})
}
