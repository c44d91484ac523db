package heatmap

import (
	"context"
	"sync"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/lungmask"
	"sscscore/model/phantom"
)

// benchLevels are the five level slices of a diseased phantom at the
// scanner's full resolution (512², about 0.7 mm), prepared for the score
// network.
var benchLevels struct {
	once   sync.Once
	in     [5]*cascade.SliceInput
	nx, ny int
	err    error
}

func levelSlices(b *testing.B) ([5]*cascade.SliceInput, int, int) {
	b.Helper()
	l := &benchLevels
	l.once.Do(func() {
		p := phantom.New(3_900_002, phantom.Options{Disease: true})
		g := p.SliceGrid()
		l.nx, l.ny = g.Nx, g.Ny
		sp := [2]float64{g.DX, g.DY}
		for i, z := range p.Levels() {
			hu := make([]int16, g.Nx*g.Ny)
			if l.err = p.RenderSlice(z, g, hu, nil); l.err != nil {
				return
			}
			lung := lungmask.Slice(hu, g.Nx, g.Ny, sp, lungmask.Options{})
			l.in[i] = cascade.PrepareSliceWithLung(hu, lung, g.Nx, g.Ny, sp)
		}
	})
	if l.err != nil {
		b.Fatalf("level slices: got error %v, want nil", l.err)
	}
	return l.in, l.nx, l.ny
}

func benchCascade(b *testing.B) *cascade.Cascade {
	c, err := cascade.Default()
	if err != nil {
		b.Skip("no shipped weights:", err)
	}
	return c
}

// BenchmarkGradient5Levels computes the gradient maps of the five levels
// (three scores each): the budget is 1.5 s in headless Chromium.
func BenchmarkGradient5Levels(b *testing.B) {
	c := benchCascade(b)
	ins, nx, ny := levelSlices(b)
	ctx := context.Background()
	if _, err := Gradient(ctx, c, ins[0], nx, ny); err != nil { // plans compiled once
		b.Fatalf("Gradient: got error %v, want nil", err)
	}
	b.ResetTimer()
	for b.Loop() {
		for _, in := range ins {
			if _, err := Gradient(ctx, c, in, nx, ny); err != nil {
				b.Fatalf("Gradient: got error %v, want nil", err)
			}
		}
	}
}

// BenchmarkOcclusion computes the occlusion maps of one level (L3; three
// scores, the paper's 64-pixel windows with stride 16): the issue's
// budget is 10 s in headless Chromium.
func BenchmarkOcclusion(b *testing.B) {
	c := benchCascade(b)
	ins, nx, ny := levelSlices(b)
	ctx := context.Background()
	var windows int
	for b.Loop() {
		m, err := Occlusion(ctx, c, ins[2], nx, ny, Options{})
		if err != nil {
			b.Fatalf("Occlusion: got error %v, want nil", err)
		}
		windows = m.Windows
	}
	b.ReportMetric(float64(windows), "windows")
}

// BenchmarkDense5Levels computes the network's own maps of the five
// levels.
func BenchmarkDense5Levels(b *testing.B) {
	c := benchCascade(b)
	ins, nx, ny := levelSlices(b)
	ctx := context.Background()
	for b.Loop() {
		for _, in := range ins {
			if _, err := Dense(ctx, c, in, nx, ny); err != nil {
				b.Fatalf("Dense: got error %v, want nil", err)
			}
		}
	}
}
