package engine

import (
	"context"
	"sync"

	"sscscore/model/volume"
)

// readAhead is a volume.Source for one sequential pass over a series (the
// cascade's pass that builds the levels grid, or the reformat's): it reads
// the slices of order ahead of their use, up to depth at once, so that the
// waits for the browser's file reads overlap each other and the work on
// the slices before them. Each slice of the pass is decoded once and
// handed, in order, to visit (the coronal reformat) and to the caller.
// Reads of other slices, or out of order, go to other.
type readAhead struct {
	src   volume.Source
	other volume.Source
	order []int
	visit func(k int, hu []int16, err error)

	mu   sync.Mutex
	next int // index in order of the next slice of the pass

	slots  []chan fetched // one per entry of order
	free   chan []int16   // buffers not in use
	cancel context.CancelFunc
}

type fetched struct {
	buf []int16
	err error
}

// newReadAhead starts reading the slices of order from src (at most depth
// at a time, never more than depth slices held); other serves the reads
// outside the pass (nil: src). Close stops it.
func newReadAhead(ctx context.Context, src, other volume.Source, order []int, depth int, visit func(k int, hu []int16, err error)) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	depth = max(depth, 1)
	if other == nil {
		other = src
	}
	r := &readAhead{src: src, other: other, order: order, visit: visit, cancel: cancel,
		slots: make([]chan fetched, len(order)), free: make(chan []int16, depth)}
	n := src.Geometry().SliceLen()
	for range depth {
		r.free <- make([]int16, n)
	}
	for i := range r.slots {
		r.slots[i] = make(chan fetched, 1)
	}
	go func() {
		for i, k := range order {
			var buf []int16
			select {
			case buf = <-r.free:
			case <-ctx.Done():
				return
			}
			go func() {
				err := src.Slice(ctx, k, buf)
				r.slots[i] <- fetched{buf, err}
			}()
		}
	}()
	return r
}

// Geometry implements volume.Source.
func (r *readAhead) Geometry() *volume.Geometry { return r.src.Geometry() }

// Slice implements volume.Source.
func (r *readAhead) Slice(ctx context.Context, k int, dst []int16) error {
	r.mu.Lock()
	i := r.next
	seq := i < len(r.order) && r.order[i] == k
	if seq {
		r.next++
	}
	r.mu.Unlock()
	if !seq {
		return r.other.Slice(ctx, k, dst)
	}
	var f fetched
	select {
	case f = <-r.slots[i]:
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.err == nil {
		copy(dst, f.buf)
	}
	if r.visit != nil {
		r.visit(k, f.buf, f.err)
	}
	r.free <- f.buf
	return f.err
}

// Close stops the reads not yet started.
func (r *readAhead) Close() { r.cancel() }

// sliceCache is a volume.Source that keeps the last few slices read, so
// that the slices the cascade scored are not decoded again to be shown.
type sliceCache struct {
	src  volume.Source
	keep int

	mu    sync.Mutex
	order []int
	hu    map[int][]int16
}

func newSliceCache(src volume.Source, keep int) *sliceCache {
	return &sliceCache{src: src, keep: keep, hu: map[int][]int16{}}
}

// Geometry implements volume.Source.
func (c *sliceCache) Geometry() *volume.Geometry { return c.src.Geometry() }

// Slice implements volume.Source.
func (c *sliceCache) Slice(ctx context.Context, k int, dst []int16) error {
	c.mu.Lock()
	hu, ok := c.hu[k]
	c.mu.Unlock()
	if ok {
		copy(dst, hu)
		return nil
	}
	if err := c.src.Slice(ctx, k, dst); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.hu[k]; !ok {
		if len(c.order) >= c.keep {
			delete(c.hu, c.order[0])
			c.order = c.order[1:]
		}
		c.order = append(c.order, k)
		c.hu[k] = append([]int16(nil), dst[:c.src.Geometry().SliceLen()]...)
	}
	return nil
}
