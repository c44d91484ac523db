package gemm

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// BenchmarkGEMM times C = A·B for square float32 matrices (packing of both operands included)
// and reports GFLOP/s = 2·n³ per product. "512" uses Threads() goroutines (all cores natively,
// one under js/wasm); "512_1thread" pins one.
func BenchmarkGEMM(b *testing.B) {
	for _, tc := range []struct {
		n       int
		threads int
		name    string
	}{{512, 0, "512"}, {512, 1, "512_1thread"}} {
		b.Run(tc.name, func(b *testing.B) {
			n := tc.n
			r := rand.New(rand.NewPCG(1, 1))
			a := randSlice[float32](r, n*n)
			bm := randSlice[float32](r, n*n)
			c := make([]float32, n*n)
			if tc.threads > 0 {
				defer SetThreads(SetThreads(tc.threads))
			}
			warmUp(func() { Gemm(false, false, n, n, n, a, n, bm, n, 0, c, n) })
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Gemm(false, false, n, n, n, a, n, bm, n, 0, c, n)
			}
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// warmUp runs f until it has run twice and for two seconds under js/wasm (V8 compiles hot
// wasm functions with its optimising tier in the background during the first seconds), once
// natively.
func warmUp(f func()) {
	f()
	if runtime.GOOS != "js" {
		return
	}
	t0 := time.Now()
	for n := 1; n < 2 || time.Since(t0) < 2*time.Second; n++ {
		f()
	}
}
