package gemm

//go:generate go run ./internal/kerngen

import (
	"fmt"
	"math"
	"sync"

	"sscscore/model/parallel"
)

// Float is the element type of the products: float32 (training and inference) or float64
// (gradient checks).
type Float interface{ ~float32 | ~float64 }

// PackedA is an M×K matrix (the left operand) packed into panels of MR rows: for panel p and
// column k the MR values of rows p*MR … p*MR+MR-1 are contiguous, rows beyond M are zero.
// Convolution and linear weights are packed once and reused by every product.
type PackedA[T Float] struct {
	M, K int
	mr   int // rows per panel
	rep  int // copies of each value (kernels that load A pre-broadcast)
	data []T
}

// NewPackedA returns a zero M×K matrix in the packed layout of T's micro-kernel.
func NewPackedA[T Float](m, k int) *PackedA[T] {
	mr, _, rep, _ := kernelFor[T]()
	return &PackedA[T]{M: m, K: k, mr: mr, rep: rep, data: make([]T, ceilDiv(m, mr)*mr*rep*k)}
}

// PackA packs the m×k matrix op(A) (A row-major with leading dimension lda, transposed
// first when transA is set, that is A stored k×m).
func PackA[T Float](transA bool, m, k int, a []T, lda int) *PackedA[T] {
	p := NewPackedA[T](m, k)
	p.Pack(transA, a, lda)
	return p
}

// Pack overwrites p with op(A) (see PackA); the shape stays p.M×p.K.
func (p *PackedA[T]) Pack(transA bool, a []T, lda int) {
	m, k, mr, rep := p.M, p.K, p.mr, p.rep
	if m == 0 || k == 0 {
		return
	}
	if !transA {
		checkLen("A", len(a), (m-1)*lda+k)
	} else {
		checkLen("A", len(a), (k-1)*lda+m)
	}
	for ip := 0; ip*mr < m; ip++ {
		panel := p.data[ip*k*mr*rep : (ip+1)*k*mr*rep]
		rows := min(mr, m-ip*mr)
		if rows < mr {
			clear(panel)
		}
		if rep > 1 {
			for i := 0; i < rows; i++ {
				for kk := 0; kk < k; kk++ {
					var v T
					if !transA {
						v = a[(ip*mr+i)*lda+kk]
					} else {
						v = a[kk*lda+ip*mr+i]
					}
					dst := panel[(kk*mr+i)*rep : (kk*mr+i+1)*rep]
					for r := range dst {
						dst[r] = v
					}
				}
			}
			continue
		}
		if !transA {
			for i := 0; i < rows; i++ {
				src := a[(ip*mr+i)*lda : (ip*mr+i)*lda+k]
				for kk, v := range src {
					panel[kk*mr+i] = v
				}
			}
		} else {
			for kk := 0; kk < k; kk++ {
				copy(panel[kk*mr:kk*mr+rows], a[kk*lda+ip*mr:kk*lda+ip*mr+rows])
			}
		}
	}
}

// Bytes reports the memory held by the packed matrix.
func (p *PackedA[T]) Bytes() int {
	var z T
	return len(p.data) * int(sizeOf(z))
}

// panel returns the packed panel holding row i (a multiple of MR) from column k0 on.
func (p *PackedA[T]) panel(i, k0 int) []T {
	return p.data[(i/p.mr*p.K+k0)*p.mr*p.rep:]
}

func sizeOf[T Float](z T) uintptr {
	switch any(z).(type) {
	case float32:
		return 4
	default:
		return 8
	}
}

// Problem is one product C = A·B with A packed and B either read in place through an offset
// table (implicit GEMM: B[k][j] = B[BOff[k]+j], contiguous in j) or packed block by block by
// PackB. The result is handed to Store block by block, so that callers apply their epilogue
// (bias, activation, layout change) while the block is still in cache.
type Problem[T Float] struct {
	A *PackedA[T]
	N int // columns of B and C

	// Implicit B: row k of B starts at B[BOff[k]]; all of B[BOff[k] : BOff[k]+N+NR-1] must
	// be addressable (callers leave NR-1 elements of slack after their data).
	B    []T
	BOff []int32
	// SegLen and SegStride, when SegLen > 0, split the columns into segments: column j lives
	// at B position (j/SegLen)·SegStride + j%SegLen. SegLen must be a multiple of NR (tiles
	// never straddle segments). Convolutions use one segment per output slice to skip the
	// padding rows of small planes.
	SegLen, SegStride int

	// PackB, when set, is used instead of B/BOff. It writes columns j0 … j0+nc-1 and rows
	// k0 … k0+kc-1 of B into dst as ceil(nc/nr) panels of kc×nr values
	// (dst[(q*kc+k)*nr+j] = B[k0+k][j0+q*nr+j]), zero beyond column nc.
	PackB func(dst []T, nr, k0, kc, j0, nc int)

	// Store receives the finished block C[0:M, j0:j0+nc] in c with row stride ldc (rows
	// beyond M hold padding). Calls for disjoint column ranges may run concurrently.
	Store func(c []T, ldc, j0, nc int)

	// Threads bounds the goroutines used; 0 means Threads().
	Threads int

	// FixedOrder keeps every element's sum in the same order whatever the thread count: a
	// narrow product is split by columns (at least one NR tile per goroutine), never by k
	// (a single tile runs on one goroutine). Forward convolutions set it, so that inference
	// gives the same bits on any number of cores (batch scoring runs one thread per scan, a
	// single scan all cores).
	FixedOrder bool
}

// blocking returns the k-block, n-block and m-block sizes for a product.
func blocking[T Float](m, n, k, mr, nr, rep int) (kc, nc, mc int) {
	var z T
	es := int(sizeOf(z))
	// The B micro-panel (kc × NR) stays in L1 across the MR panels of A.
	kc = max(64, min(512, 24576/(nr*es)))
	if k <= kc+kc/4 { // one block when it costs little extra cache
		kc = k
	}
	kc = max(kc, 1)
	mp := roundUp(m, mr)
	// The C block (M × nc) and the B block (kc × nc) stay in L2.
	nc = 262144 / es / max(mp, kc)
	nc = max(nr, min(nc, 4096)/nr*nr)
	if nc >= n {
		nc = roundUp(n, nr)
	}
	// A block of mc rows × kc (streamed per NR tile) in L2 too.
	mc = max(mr, min(mp, 262144/es/rep/max(kc, 1)/mr*mr))
	return kc, nc, mc
}

// Run computes the product described by p. Natively it splits the columns (or, for narrow
// products, the k range) across goroutines; under js/wasm it runs on the calling goroutine.
// The split never changes how an element is summed, except in the k-split mode, so results
// are identical for any thread count when N ≥ 8·NR·threads or p.FixedOrder is set.
func Run[T Float](p *Problem[T]) {
	mr, nr, rep, kern := kernelFor[T]()
	a := p.A
	if a.mr != mr || a.rep != rep {
		panic(ShapeError(fmt.Sprintf("gemm: PackedA packed for MR=%d, kernel has MR=%d", a.mr, mr)))
	}
	m, n, k := a.M, p.N, a.K
	if m == 0 || n == 0 {
		return
	}
	kc, nc, mc := blocking[T](m, n, k, mr, nr, rep)
	mp := roundUp(m, mr)
	implicit := p.PackB == nil
	if implicit {
		if len(p.BOff) < k {
			panic(ShapeError(fmt.Sprintf("gemm: BOff has %d offsets, need %d", len(p.BOff), k)))
		}
		lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
		for _, o := range p.BOff[:k] {
			lo, hi = min(lo, o), max(hi, o)
		}
		last := roundUp(n, nr) - nr // first column of the last tile
		if p.SegLen > 0 {
			if p.SegLen%nr != 0 {
				panic(ShapeError(fmt.Sprintf("gemm: segment length %d is not a multiple of NR=%d", p.SegLen, nr)))
			}
			last = last/p.SegLen*p.SegStride + last%p.SegLen
		}
		if k > 0 && (lo < 0 || int(hi)+last+nr > len(p.B)) {
			panic(ShapeError(fmt.Sprintf("gemm: implicit B needs offsets in [0, %d], have [%d, %d]", len(p.B)-last-nr, lo, hi)))
		}
	}
	threads := p.Threads
	if threads <= 0 {
		threads = Threads()
	}
	r := &runner[T]{p: p, kern: kern, mr: mr, nr: nr, m: m, mp: mp, k: k, kc: kc, mc: mc, implicit: implicit, as: k * mr * rep}

	switch {
	case threads > 1 && (n >= 8*nr*threads || p.FixedOrder && n > nr):
		// Column split: each worker owns a contiguous, NR-aligned column range.
		cols := roundUp(ceilDiv(n, threads), nr)
		workers := ceilDiv(n, cols)
		parallel.Do(workers, func(w int) {
			j0, j1 := w*cols, min(n, (w+1)*cols)
			r.columns(j0, j1, nc, 0, k, true, nil)
		})
	case threads > 1 && !p.FixedOrder && k >= 2*kc*threads && mp*roundUp(n, nr) <= 1<<20:
		// k split for narrow products (weight gradients): private partial sums, added in
		// worker order.
		ncAll := roundUp(n, nr)
		blocks := ceilDiv(k, kc)
		per := ceilDiv(blocks, threads)
		workers := ceilDiv(blocks, per)
		parts := make([][]T, workers)
		parallel.Do(workers, func(w int) {
			k0, k1 := w*per*kc, min(k, (w+1)*per*kc)
			parts[w] = make([]T, mp*ncAll)
			r.columns(0, n, ncAll, k0, k1, false, parts[w])
		})
		sum := parts[0]
		for _, part := range parts[1:] {
			for i, v := range part {
				sum[i] += v
			}
		}
		p.Store(sum, ncAll, 0, n)
	default:
		r.columns(0, n, nc, 0, k, true, nil)
	}
}

type runner[T Float] struct {
	p        *Problem[T]
	kern     kernFn[T]
	mr, nr   int
	m, mp, k int
	kc, mc   int
	implicit bool
	as       int // stride between A panels
}

// identOff holds the offsets of a packed B panel (k*NR) for the largest kc and NR in use.
var identOff sync.Map // nr -> []int32

func identityOffsets(nr, kc int) []int32 {
	if v, ok := identOff.Load(nr); ok {
		if o := v.([]int32); len(o) >= kc {
			return o[:kc]
		}
	}
	o := make([]int32, max(kc, 1024))
	for i := range o {
		o[i] = int32(i * nr)
	}
	identOff.Store(nr, o)
	return o[:kc]
}

// columns computes C[:, j0:j1] over the k range [k0, k1). When store is set each finished
// block goes to Store; otherwise the whole range accumulates in out (row stride nc, which
// must then cover j1-j0).
func (r *runner[T]) columns(j0, j1, nc, k0, k1 int, store bool, out []T) {
	p := r.p
	mr, nr, mp, kc, mc := r.mr, r.nr, r.mp, r.kc, r.mc
	cbuf := out
	if cbuf == nil {
		cbuf = getScratch[T](mp * nc)
		defer putScratch(cbuf)
	}
	var bpack []T
	var ident []int32
	if !r.implicit {
		bpack = getScratch[T](kc * nc)
		defer putScratch(bpack)
		ident = identityOffsets(nr, kc)
	}
	ldc := nc
	for jc := j0; jc < j1; jc += nc {
		ncur := min(nc, j1-jc)
		ncp := roundUp(ncur, nr)
		if k1 <= k0 {
			if !store {
				continue
			}
			clear(cbuf[:mp*ldc])
		}
		for pc := k0; pc < k1; pc += kc {
			kcur := min(kc, k1-pc)
			first := pc == k0
			var off []int32
			if r.implicit {
				off = p.BOff[pc : pc+kcur]
			} else {
				p.PackB(bpack, nr, pc, kcur, jc, ncur)
				off = ident[:kcur]
			}
			for ic := 0; ic < mp; ic += mc {
				iend := min(mp, ic+mc)
				for jr := 0; jr < ncp; jr += nr {
					var b []T
					if r.implicit {
						col := jc + jr
						if p.SegLen > 0 {
							col = col/p.SegLen*p.SegStride + col%p.SegLen
						}
						b = p.B[col:]
					} else {
						b = bpack[jr*kcur:]
					}
					r.kern(kcur, (iend-ic)/mr, p.A.panel(ic, pc), r.as, b, off, cbuf[ic*ldc+jr:], ldc, !first)
				}
			}
		}
		if store {
			p.Store(cbuf, ldc, jc, ncur)
		}
	}
}

// Gemm computes C = op(A)·op(B) + beta·C for row-major matrices, where op(A) is m×k and
// op(B) is k×n (transA: A is stored k×m; transB: B is stored n×k). With beta = 0, C is
// only written, never read.
func Gemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkLen("C", len(c), (m-1)*ldc+n)
	if !transB {
		checkLen("B", len(b), (k-1)*ldb+n)
	} else {
		checkLen("B", len(b), (n-1)*ldb+k)
	}
	pa := PackA(transA, m, k, a, lda)
	GemmPacked(pa, transB, n, b, ldb, beta, c, ldc)
}

// GemmPacked is Gemm with op(A) already packed (see PackA).
func GemmPacked[T Float](pa *PackedA[T], transB bool, n int, b []T, ldb int, beta T, c []T, ldc int) {
	m := pa.M
	Run(&Problem[T]{
		A: pa,
		N: n,
		PackB: func(dst []T, nr, k0, kc, j0, nc int) {
			PackB(dst, transB, b, ldb, nr, k0, kc, j0, nc)
		},
		Store: func(cb []T, ldcb, j0, nc int) {
			for i := 0; i < m; i++ {
				src := cb[i*ldcb : i*ldcb+nc]
				dst := c[i*ldc+j0 : i*ldc+j0+nc]
				switch beta {
				case 0:
					copy(dst, src)
				case 1:
					for j, v := range src {
						dst[j] += v
					}
				default:
					for j, v := range src {
						dst[j] = v + beta*dst[j]
					}
				}
			}
		},
	})
}

// PackB writes rows k0…k0+kc-1 and columns j0…j0+nc-1 of op(B) (B row-major with leading
// dimension ldb, stored n×k when transB) into dst as NR-column panels (see Problem.PackB).
func PackB[T Float](dst []T, transB bool, b []T, ldb, nr, k0, kc, j0, nc int) {
	for q := 0; q*nr < nc; q++ {
		panel := dst[q*kc*nr : (q+1)*kc*nr]
		cols := min(nr, nc-q*nr)
		jj := j0 + q*nr
		if !transB {
			for k := 0; k < kc; k++ {
				row := panel[k*nr : k*nr+nr]
				n := copy(row[:cols], b[(k0+k)*ldb+jj:])
				clear(row[n:])
			}
			continue
		}
		if cols < nr {
			clear(panel)
		}
		for j := 0; j < cols; j++ {
			src := b[(jj+j)*ldb+k0 : (jj+j)*ldb+k0+kc]
			for k, v := range src {
				panel[k*nr+j] = v
			}
		}
	}
}

func checkLen(what string, have, need int) {
	if have < need {
		panic(ShapeError(fmt.Sprintf("gemm: %s has %d elements, needs %d", what, have, need)))
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// NR returns the column width of T's micro-kernel tile: implicit-GEMM callers leave NR-1
// readable elements after the last column they need.
func NR[T Float]() int {
	_, nr, _, _ := kernelFor[T]()
	return nr
}
