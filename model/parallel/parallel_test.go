package parallel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestForEveryItemOnce: every item runs once, on a worker index below
// Workers, for any count of items and workers.
func TestForEveryItemOnce(t *testing.T) {
	for _, c := range []struct{ n, workers int }{
		{0, 4}, {1, 4}, {5, 1}, {5, 0}, {7, 3}, {100, 8}, {3, 10},
	} {
		t.Run(fmt.Sprintf("n=%d,workers=%d", c.n, c.workers), func(t *testing.T) {
			counts := make([]atomic.Int32, c.n)
			nw := Workers(c.n, c.workers)
			err := For(context.Background(), c.n, c.workers, func(w, i int) error {
				if w < 0 || w >= nw {
					t.Errorf("got worker %d, want one in [0, %d)", w, nw)
				}
				counts[i].Add(1)
				return nil
			})
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			for i := range counts {
				if got := counts[i].Load(); got != 1 {
					t.Errorf("item %d: got %d calls, want 1", i, got)
				}
			}
		})
	}
}

// TestForOneWorkerInOrder: with one worker the items run in order on the
// calling goroutine (worker 0).
func TestForOneWorkerInOrder(t *testing.T) {
	var got []int
	if err := For(context.Background(), 5, 1, func(w, i int) error {
		if w != 0 {
			t.Errorf("got worker %d, want 0", w)
		}
		got = append(got, i)
		return nil
	}); err != nil {
		t.Fatalf("For: got error %v, want nil", err)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Errorf("got order %v, want [0 1 2 3 4]", got)
	}
}

// TestForLowestError: the error of the lowest failing item is returned,
// and items are no longer handed out after a failure.
func TestForLowestError(t *testing.T) {
	for _, workers := range []int{1, 4} {
		var ran atomic.Int32
		err := For(context.Background(), 1000, workers, func(_, i int) error {
			ran.Add(1)
			if i == 3 || i == 5 {
				return fmt.Errorf("item %d", i)
			}
			return nil
		})
		if err == nil || err.Error() != "item 3" {
			t.Errorf("workers %d: got error %v, want item 3", workers, err)
		}
		if n := ran.Load(); n >= 1000 {
			t.Errorf("workers %d: got %d items run, want fewer after the failure", workers, n)
		}
	}
}

// TestForCancelled: a cancelled context stops the loop and is returned.
func TestForCancelled(t *testing.T) {
	for _, workers := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		var ran atomic.Int32
		err := For(ctx, 1000, workers, func(_, i int) error {
			if ran.Add(1) == 10 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("workers %d: got error %v, want context.Canceled", workers, err)
		}
		if n := ran.Load(); n >= 1000 {
			t.Errorf("workers %d: got %d items run, want the loop stopped", workers, n)
		}
	}
}

// TestForPanic: a panic in a worker is raised on the calling goroutine.
func TestForPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("got panic %v, want boom", r)
		}
	}()
	_ = For(context.Background(), 100, 4, func(w, i int) error {
		if i == 50 {
			panic("boom")
		}
		return nil
	})
	t.Error("For returned, want a panic")
}

// TestDoConcurrent: Do runs its n tasks at the same time (each waits for
// all the others to start).
func TestDoConcurrent(t *testing.T) {
	const n = 4
	var started sync.WaitGroup
	started.Add(n)
	Do(n, func(int) {
		started.Done()
		started.Wait()
	})
}
