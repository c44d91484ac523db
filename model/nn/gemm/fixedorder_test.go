package gemm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestFixedOrderThreads checks that products with FixedOrder give the same bits for 1, 2, 3
// and 4 threads, including the narrow, long-k shapes that would otherwise be split by k (the
// forward convolutions of both networks on one scan), and that the result is correct.
func TestFixedOrderThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	nr := Kernel().NR
	tests := []struct {
		name    string
		m, n, k int
	}{
		{"levels-like", 64, 667, 432},
		{"scores-like", 64, 75, 576},
		{"two-tiles", 8, nr + 1, 3000},
		{"one-tile", 8, nr, 3000},
		{"wide", 24, 3000, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, uint64(tc.n)))
			a := randSlice[float32](r, tc.m*tc.k)
			b := randSlice[float32](r, tc.k*tc.n)
			pa := PackA(false, tc.m, tc.k, a, tc.k)
			run := func(threads int) []float32 {
				c := make([]float32, tc.m*tc.n)
				Run(&Problem[float32]{A: pa, N: tc.n, Threads: threads, FixedOrder: true,
					PackB: func(dst []float32, nr, k0, kc, j0, nc int) {
						PackB(dst, false, b, tc.n, nr, k0, kc, j0, nc)
					},
					Store: func(cb []float32, ldc, j0, nc int) {
						for i := 0; i < tc.m; i++ {
							copy(c[i*tc.n+j0:i*tc.n+j0+nc], cb[i*ldc:i*ldc+nc])
						}
					}})
				return c
			}
			one := run(1)
			want := refGemm(false, false, tc.m, tc.n, tc.k, a, tc.k, b, tc.n, 0, nil, tc.n)
			for i, v := range one {
				if math.Abs(float64(v)-want[i]) > 1e-5*math.Sqrt(float64(tc.k)) {
					t.Fatalf("C[%d] = %v, want %v", i, v, want[i])
				}
			}
			for _, th := range []int{2, 3, 4} {
				got := run(th)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(one[i]) {
						t.Fatalf("%d threads: C[%d] = %v, want %v (1 thread)", th, i, got[i], one[i])
					}
				}
			}
		})
	}
}
