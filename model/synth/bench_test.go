package synth_test

import (
	"math/rand/v2"
	"testing"

	"sscscore/model/phantom"
	"sscscore/model/synth"
)

// BenchmarkPaste512 pastes random disease into a 512x512 phantom slice.
func BenchmarkPaste512(b *testing.B) {
	p := phantom.New(4, phantom.Options{SliceSpacing: phantom.Range{Min: 1.25, Max: 1.25}})
	g := p.SliceGrid()
	n := g.Nx * g.Ny
	hu := make([]int16, n)
	fl := make([]uint8, n)
	if err := p.RenderSlice(p.Levels()[phantom.L4], g, hu, fl); err != nil {
		b.Fatalf("p.RenderSlice: got error %v, want nil", err)
	}
	lung := make([]bool, n)
	for i, f := range fl {
		lung[i] = f&phantom.MaskLung != 0
	}
	rng := rand.New(rand.NewPCG(1, 1))
	work := make([]int16, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		copy(work, hu)
		synth.Paste(work, g.Nx, g.Ny, lung, rng, synth.Options{Mode: synth.ModeBoth, Extent: 0.5, PixelSpacing: g.DX})
	}
}
