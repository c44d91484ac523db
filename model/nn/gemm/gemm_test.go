package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is the textbook triple loop in float64.
func refGemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func randSlice[T Float](r *rand.Rand, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(r.Float64()*2 - 1)
	}
	return s
}

func checkGemm[T Float](t *testing.T, r *rand.Rand, transA, transB bool, m, n, k int, beta T, tol float64) {
	t.Helper()
	lda, ldb, ldc := k+3, n+1, n+5
	if transA {
		lda = m + 2
	}
	if transB {
		ldb = k + 1
	}
	arows, brows := m, k
	if transA {
		arows = k
	}
	if transB {
		brows = n
	}
	a := randSlice[T](r, max(arows*lda, 1))
	b := randSlice[T](r, max(brows*ldb, 1))
	c := randSlice[T](r, max(m*ldc, 1))
	want := refGemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	Gemm(transA, transB, m, n, k, a, lda, b, ldb, beta, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			got, w := float64(c[i*ldc+j]), want[i*n+j]
			if math.Abs(got-w) > tol*(1+math.Sqrt(float64(k))) {
				t.Fatalf("tA=%v tB=%v m=%d n=%d k=%d beta=%v: C[%d,%d] = %v, want %v", transA, transB, m, n, k, beta, i, j, got, w)
			}
		}
	}
}

var gemmShapes = [][3]int{
	{1, 1, 1}, {4, 4, 4}, {3, 5, 7}, {17, 33, 9}, {64, 64, 64}, {5, 200, 3}, {130, 70, 300},
	{16, 1000, 144}, {33, 13, 1100}, {2, 3, 0},
}

func TestGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	t.Logf("kernel: %v, threads %d", Kernel(), Threads())
	for _, sh := range gemmShapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, beta := range []float64{0, 1, 0.5} {
				m, n, k := sh[0], sh[1], sh[2]
				checkGemm[float32](t, r, tr[0], tr[1], m, n, k, float32(beta), 2e-6)
				checkGemm[float64](t, r, tr[0], tr[1], m, n, k, beta, 1e-13)
			}
		}
	}
}

// TestThreadsDeterministic checks that column-split products do not depend on the thread
// count, and that the k-split mode is correct.
func TestThreadsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sh := range [][3]int{{24, 3000, 200}, {8, 20, 5000}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := randSlice[float32](r, m*k)
		b := randSlice[float32](r, k*n)
		var outs [][]float32
		for _, th := range []int{1, 2, 3} {
			prev := SetThreads(th)
			c := make([]float32, m*n)
			Gemm(false, false, m, n, k, a, k, b, n, 0, c, n)
			SetThreads(prev)
			outs = append(outs, c)
		}
		want := refGemm(false, false, m, n, k, a, k, b, n, 0, nil, n)
		for ti, c := range outs {
			for i, v := range c {
				if math.Abs(float64(v)-want[i]) > 1e-5*math.Sqrt(float64(k)) {
					t.Fatalf("%v threads=%d: C[%d] = %v, want %v", sh, ti+1, i, v, want[i])
				}
			}
		}
		if n >= 8*Kernel().NR*2 {
			for ti := 1; ti < len(outs); ti++ {
				for i := range outs[0] {
					if outs[ti][i] != outs[0][i] {
						t.Fatalf("%v: result with %d threads differs from 1 thread at %d, got %v, want %v", sh, ti+1, i, outs[ti][i], outs[0][i])
					}
				}
			}
		}
	}
}

// TestImplicit runs a product whose B is read through an offset table, as convolutions do.
func TestImplicit(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	_, nr, _, _ := kernelFor[float32]()
	m, n, k := 10, 77, 13
	data := randSlice[float32](r, 2000)
	off := make([]int32, k)
	for i := range off {
		off[i] = int32(r.IntN(2000 - n - nr))
	}
	a := randSlice[float32](r, m*k)
	c := make([]float32, m*n)
	Run(&Problem[float32]{
		A: PackA(false, m, k, a, k), N: n, B: data, BOff: off,
		Store: func(cb []float32, ldc, j0, nc int) {
			for i := 0; i < m; i++ {
				copy(c[i*n+j0:i*n+j0+nc], cb[i*ldc:i*ldc+nc])
			}
		},
	})
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[i*k+p]) * float64(data[int(off[p])+j])
			}
			if math.Abs(float64(c[i*n+j])-s) > 1e-5 {
				t.Fatalf("C[%d,%d] = %v, want %v", i, j, c[i*n+j], s)
			}
		}
	}
}

func TestImplicitBoundsChecked(t *testing.T) {
	defer func() {
		r := recover()
		if _, ok := r.(ShapeError); !ok {
			t.Fatalf("got panic %v (%T), want a ShapeError for out-of-range offsets", r, r)
		}
	}()
	Run(&Problem[float32]{A: NewPackedA[float32](4, 2), N: 8, B: make([]float32, 10), BOff: []int32{0, 5},
		Store: func([]float32, int, int, int) {}})
}

func ExampleGemm() {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	c := make([]float32, 4)
	Gemm(false, false, 2, 2, 3, a, 3, b, 2, 0, c, 2)
	fmt.Println(c)
	// Output: [4 5 10 11]
}
