package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// allKernels lists every float32 kernel this build can run on this CPU (the selected one and,
// on amd64 with SIMD, the narrower variants), so that each is tested against the reference.
func allKernels() []kernelInfo {
	ks := []kernelInfo{f32Kernel, {name: "portable-go 4x4", mr: 4, nr: 4, arep: 1, fn: kernPortable4x4[float32]}}
	return append(ks, extraKernels()...)
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, kinfo := range allKernels() {
		for _, kc := range []int{0, 1, 3, 4, 5, 8, 31, 37, 64, 100} {
			for _, acc := range []bool{false, true} {
				mr, nr := kinfo.mr, kinfo.nr
				rep := max(kinfo.arep, 1)
				a := randSlice[float32](r, max(kc*mr*rep, 1))
				for i := 0; i+rep <= len(a); i += rep {
					for q := 1; q < rep; q++ {
						a[i+q] = a[i]
					}
				}
				b := randSlice[float32](r, 4096)
				off := make([]int32, max(kc, 1))
				for i := range off {
					off[i] = int32(r.IntN(4096 - nr))
				}
				ldc := nr + 3
				c := randSlice[float32](r, mr*ldc)
				c0 := append([]float32(nil), c...)
				kinfo.fn(kc, 1, a, kc*mr*rep, b, off, c, ldc, acc)
				for i := 0; i < mr; i++ {
					for j := 0; j < ldc; j++ {
						if j >= nr {
							if c[i*ldc+j] != c0[i*ldc+j] {
								t.Fatalf("%s wrote outside its tile at (%d,%d), got %v, want %v", kinfo.name, i, j, c[i*ldc+j], c0[i*ldc+j])
							}
							continue
						}
						var s float64
						if acc {
							s = float64(c0[i*ldc+j])
						}
						for k := 0; k < kc; k++ {
							s += float64(a[(k*mr+i)*rep]) * float64(b[int(off[k])+j])
						}
						if math.Abs(float64(c[i*ldc+j])-s) > 1e-5 {
							t.Fatalf("%s kc=%d acc=%v: c[%d,%d] = %v, want %v", kinfo.name, kc, acc, i, j, c[i*ldc+j], s)
						}
					}
				}
			}
		}
	}
}
