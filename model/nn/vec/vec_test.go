package vec

import (
	"math/rand/v2"
	"testing"
)

func TestVec(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 4, 7, 16, 33, 100} {
		a := make([]float32, n)
		b := make([]float32, n)
		for i := range a {
			a[i] = float32(r.NormFloat64())
			b[i] = float32(r.NormFloat64())
		}
		bias, slope, s, sh := float32(0.3), float32(0.1), float32(1.7), float32(-0.2)
		check := func(name string, got []float32, want func(i int) float32) {
			for i := range got {
				if got[i] != want(i) {
					t.Fatalf("%s n=%d: [%d] = %v, want %v", name, n, i, got[i], want(i))
				}
			}
		}
		d := make([]float32, n)
		AddBias(d, a, bias)
		check("AddBias", d, func(i int) float32 { return a[i] + bias })
		AddBiasReLU(d, a, bias)
		check("AddBiasReLU", d, func(i int) float32 { return max(a[i]+bias, 0) })
		AddBiasLeaky(d, a, bias, slope)
		check("AddBiasLeaky", d, func(i int) float32 {
			v := a[i] + bias
			if v < 0 {
				return v * slope
			}
			return v
		})
		ScaleShift(d, a, s, sh)
		check("ScaleShift", d, func(i int) float32 { p := a[i] * s; return p + sh })
		Add(d, a, b)
		check("Add", d, func(i int) float32 { return a[i] + b[i] })
		Max(d, a, b)
		check("Max", d, func(i int) float32 { return max(a[i], b[i]) })
		if n%2 == 0 {
			h := make([]float32, n/2)
			MaxPool2(h, a, b)
			check("MaxPool2", h, func(i int) float32 { return max(a[2*i], a[2*i+1], b[2*i], b[2*i+1]) })
		}
		if n >= 1 {
			h := make([]float32, (n-1)/2)
			MaxWin3S2(h, a)
			check("MaxWin3S2", h, func(i int) float32 { return max(a[2*i], a[2*i+1], a[2*i+2]) })
		}
		// In place.
		c := append([]float32(nil), a...)
		AddBiasReLU(c, c, bias)
		check("AddBiasReLU in place", c, func(i int) float32 { return max(a[i]+bias, 0) })
	}
}
