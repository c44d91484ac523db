package lungmask_test

import (
	"testing"

	"sscscore/model/lungmask"
	"sscscore/model/phantom"
)

// BenchmarkSlice512 segments the lungs of a 512x512 phantom slice.
func BenchmarkSlice512(b *testing.B) {
	p := phantom.New(4, phantom.Options{SliceSpacing: phantom.Range{Min: 1.25, Max: 1.25}})
	g := p.SliceGrid()
	hu := make([]int16, g.Nx*g.Ny)
	if err := p.RenderSlice(p.Levels()[phantom.L3], g, hu, nil); err != nil {
		b.Fatalf("p.RenderSlice: got error %v, want nil", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lungmask.Slice(hu, g.Nx, g.Ny, [2]float64{g.DX, g.DY}, lungmask.Options{})
	}
}
