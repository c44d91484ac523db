package cascade

import (
	"context"
	"testing"

	"sscscore/model/nn"
)

// BenchmarkLevelsNetwork runs the levels network on a 296 mm scan (74
// input slices with the padding), the size of A0002.
func BenchmarkLevelsNetwork(b *testing.B) {
	c := defaultCascade(b)
	d := 74
	x := make([]float32, d*LevelsXY*LevelsXY)
	for i := range x {
		x[i] = float32(i%17)/8 - 1
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.forward(c.levels, x, nn.Shape{1, 1, d, LevelsXY, LevelsXY}); err != nil {
			b.Fatalf("c.forward: got error %v, want nil", err)
		}
	}
}

// BenchmarkScoreNetwork runs the score network on one prepared slice.
func BenchmarkScoreNetwork(b *testing.B) {
	c := defaultCascade(b)
	x := make([]float32, 2*SliceSide*SliceSide)
	for i := range x {
		x[i] = float32(i%13)/6 - 1
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.forward(c.scores, x, nn.Shape{1, 2, SliceSide, SliceSide}); err != nil {
			b.Fatalf("c.forward: got error %v, want nil", err)
		}
	}
}

// BenchmarkBuildCoarse averages a 100-slice 512² scan onto the levels grid
// (the sequential pass, without decoding).
func BenchmarkBuildCoarse(b *testing.B) {
	src := newRamp(100, 3, 0.7)
	src.g.Nx, src.g.Ny = 512, 512
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := BuildCoarse(context.Background(), src, nil); err != nil {
			b.Fatalf("BuildCoarse: got error %v, want nil", err)
		}
	}
}
