package engine

import (
	"context"
	"errors"
	"sync"
	"testing"

	"sscscore/model/volume"
)

// countingSource is a 4x4-pixel series whose slice k holds k everywhere,
// counting the reads of each slice; slice bad fails.
type countingSource struct {
	g     volume.Geometry
	bad   int
	mu    sync.Mutex
	reads map[int]int
}

func newCountingSource(nz, bad int) *countingSource {
	g := volume.Geometry{Nz: nz, Ny: 4, Nx: 4, Spacing: [3]float64{1, 1, 1}}
	for k := range nz {
		g.SliceZ = append(g.SliceZ, float64(-k))
	}
	return &countingSource{g: g, bad: bad, reads: map[int]int{}}
}

func (s *countingSource) Geometry() *volume.Geometry { return &s.g }

func (s *countingSource) Slice(ctx context.Context, k int, dst []int16) error {
	s.mu.Lock()
	s.reads[k]++
	s.mu.Unlock()
	if k == s.bad {
		return errors.New("broken slice")
	}
	for i := range dst[:16] {
		dst[i] = int16(k)
	}
	return nil
}

func TestReadAhead(t *testing.T) {
	src := newCountingSource(50, 7)
	var visited []int
	order := make([]int, 50)
	for k := range order {
		order[k] = k
	}
	ra := newReadAhead(context.Background(), src, nil, order, 3, func(k int, hu []int16, err error) {
		visited = append(visited, k)
		if (err != nil) != (k == 7) || (err == nil && hu[5] != int16(k)) {
			t.Errorf("visit %d: got err %v, value %d; want an error only for slice 7, else value %d", k, err, hu[5], k)
		}
	})
	defer ra.Close()
	buf := make([]int16, 16)
	for k := range 50 {
		err := ra.Slice(context.Background(), k, buf)
		if (err != nil) != (k == 7) || (err == nil && buf[15] != int16(k)) {
			t.Fatalf("slice %d: got err %v, value %d; want an error only for slice 7, else value %d", k, err, buf[15], k)
		}
		if k == 20 { // an out-of-order read in the middle of the pass
			if err := ra.Slice(context.Background(), 3, buf); err != nil || buf[0] != 3 {
				t.Fatalf("out-of-order read of slice 3: got %v, %d; want nil, 3", err, buf[0])
			}
		}
	}
	if len(visited) != 50 {
		t.Fatalf("%d visits, want 50", len(visited))
	}
	for i, k := range visited {
		if k != i {
			t.Fatalf("visit %d: got slice %d, want %d", i, k, i)
		}
	}
	for k := range 50 {
		want := 1
		if k == 3 {
			want = 2
		}
		if src.reads[k] != want {
			t.Errorf("slice %d read %d times, want %d", k, src.reads[k], want)
		}
	}
}

func TestReadAheadCancel(t *testing.T) {
	src := newCountingSource(100, -1)
	ctx, cancel := context.WithCancel(context.Background())
	ra := newReadAhead(ctx, src, nil, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 2, nil)
	buf := make([]int16, 16)
	if err := ra.Slice(ctx, 0, buf); err != nil {
		t.Fatalf("ra.Slice: got error %v, want nil", err)
	}
	cancel()
	ra.Close()
	// Slices not yet fetched are not waited for.
	for k := 1; k < 10; k++ {
		if err := ra.Slice(ctx, k, buf); err == nil && k > 3 {
			t.Fatalf("slice %d after the cancel: got it read, want an error", k)
		}
	}
}

func TestSliceCache(t *testing.T) {
	src := newCountingSource(10, 9)
	c := newSliceCache(src, 3)
	buf := make([]int16, 16)
	for _, k := range []int{1, 2, 1, 3, 1, 4, 1, 2} {
		if err := c.Slice(context.Background(), k, buf); err != nil || buf[3] != int16(k) {
			t.Fatalf("slice %d: got %v, %d; want nil, %d", k, err, buf[3], k)
		}
	}
	// 1, 2, 3 cached; 4 evicts 1 (the oldest), then 1 evicts 2.
	want := map[int]int{1: 2, 2: 2, 3: 1, 4: 1}
	for k, n := range want {
		if src.reads[k] != n {
			t.Errorf("slice %d read %d times, want %d", k, src.reads[k], n)
		}
	}
	if err := c.Slice(context.Background(), 9, buf); err == nil {
		t.Errorf("broken slice read: got nil error, want an error")
	}
}

func TestDownsample(t *testing.T) {
	// 4x4 map, step 2: blocks average their lung pixels; the block without
	// lung takes its neighbours' mean.
	v := []float32{
		1, 3, 0, 0,
		5, 7, 0, 0,
		2, 2, 4, 4,
		2, 2, 4, 4,
	}
	lung := []bool{
		true, true, false, false,
		true, false, false, false,
		true, true, true, true,
		true, true, true, true,
	}
	got, w, h := downsample(v, lung, 4, 4, 2)
	want := []float32{3, 3, 2, 4}
	if w != 2 || h != 2 {
		t.Fatalf("downsample: got %dx%d, want 2x2", w, h)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("downsample %v, want %v", got, want)
		}
	}
	if heatStep(512) != 2 || heatStep(256) != 1 || heatStep(100) != 1 || heatStep(1024) != 4 {
		t.Errorf("heatStep(512, 256, 100, 1024): got %d %d %d %d, want 2 1 1 4", heatStep(512), heatStep(256), heatStep(100), heatStep(1024))
	}
}
