package gemm

import "fmt"

// A micro-kernel computes np stacked MR×NR tiles of C from kc steps of packed A and
// offset-addressed B: for tile q (rows q·MR … q·MR+MR-1, A panel at a[q*as:])
//
//	c[(q*MR+i)*ldc+j] (+)= Σ_{k<kc} a[q*as+k*MR+i] · b[off[k]+j]     for i < MR, j < NR
//
// A holds MR values per k (one column of an MR-row panel). B row k is the NR contiguous values
// starting at b[off[k]]: a packed panel uses off[k] = k*NR, an implicit convolution uses the
// im2col offsets of its padded input, so that no im2col matrix is ever built. With acc false
// the tile is overwritten, otherwise added to. The caller guarantees that every b[off[k]+j]
// is in range (the driver checks it once per product); the kernels use unchecked loads on B.
// Stacking the tiles of one column strip in a call keeps the (costly under wasm) call overhead
// small when kc is short.
type kernFn[T Float] func(kc, np int, a []T, as int, b []T, off []int32, c []T, ldc int, acc bool)

// kernelInfo describes the float32 micro-kernel selected for this build and CPU.
type kernelInfo struct {
	name   string
	mr, nr int
	arep   int // A packed with arep copies of each value (1: plain)
	fn     kernFn[float32]
	simd   bool
}

// f32Kernel is the float32 micro-kernel. The portable register-blocked kernel is the default;
// the SIMD files (built with GOEXPERIMENT=simd) replace it in their init when the CPU allows.
var f32Kernel = kernelInfo{name: "portable-go 4x4", mr: 4, nr: 4, arep: 1, fn: kernPortable4x4[float32]}

// KernelInfo describes the micro-kernel used for float32 products.
type KernelInfo struct {
	Name   string // for example "avx512 4x64", "wasm-simd128 4x12", "portable-go 4x4"
	MR, NR int    // register tile: rows of A × columns of B
	SIMD   bool   // whether the kernel uses the simd package
}

// Kernel reports the float32 micro-kernel selected for this build and CPU.
func Kernel() KernelInfo {
	return KernelInfo{Name: f32Kernel.name, MR: f32Kernel.mr, NR: f32Kernel.nr, SIMD: f32Kernel.simd}
}

func (k KernelInfo) String() string { return fmt.Sprintf("%s (MR=%d, NR=%d)", k.Name, k.MR, k.NR) }

// kernelFor returns the micro-kernel for T: the selected float32 kernel, or the portable one
// for float64 (used for gradient checks, where speed matters little).
func kernelFor[T Float]() (mr, nr, arep int, fn kernFn[T]) {
	var z T
	switch any(z).(type) {
	case float32:
		return f32Kernel.mr, f32Kernel.nr, max(f32Kernel.arep, 1), any(f32Kernel.fn).(kernFn[T])
	default:
		return 4, 4, 1, kernPortable4x4[T]
	}
}

// kernPortable4x4 is the register-blocked portable kernel: 16 scalar accumulators, B rows
// read through the offset table with one bounds check per k.
func kernPortable4x4[T Float](kc, np int, a []T, as int, b []T, off []int32, c []T, ldc int, acc bool) {
	for q := 0; q < np; q++ {
		portable4x4(kc, a[q*as:], b, off, c[q*4*ldc:], ldc, acc)
	}
}

func portable4x4[T Float](kc int, a, b []T, off []int32, c []T, ldc int, acc bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	a = a[:kc*4]
	off = off[:kc]
	step := func(ak *[4]T, bk *[4]T) {
		b0, b1, b2, b3 := bk[0], bk[1], bk[2], bk[3]
		a0 := ak[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := ak[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := ak[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := ak[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	k := 0
	// Unrolled by 4: under js/wasm every loop iteration costs a jump through the function's
	// block dispatcher.
	for ; k+4 <= kc; k += 4 {
		a4 := (*[16]T)(a[k*4 : k*4+16])
		o := (*[4]int32)(off[k : k+4])
		step((*[4]T)(a4[0:4]), (*[4]T)(b[o[0]:o[0]+4]))
		step((*[4]T)(a4[4:8]), (*[4]T)(b[o[1]:o[1]+4]))
		step((*[4]T)(a4[8:12]), (*[4]T)(b[o[2]:o[2]+4]))
		step((*[4]T)(a4[12:16]), (*[4]T)(b[o[3]:o[3]+4]))
	}
	for ; k < kc; k++ {
		o := off[k]
		step((*[4]T)(a[k*4:k*4+4]), (*[4]T)(b[o:o+4]))
	}
	r0 := (*[4]T)(c[0:4])
	r1 := (*[4]T)(c[ldc : ldc+4])
	r2 := (*[4]T)(c[2*ldc : 2*ldc+4])
	r3 := (*[4]T)(c[3*ldc : 3*ldc+4])
	if acc {
		c00 += r0[0]
		c01 += r0[1]
		c02 += r0[2]
		c03 += r0[3]
		c10 += r1[0]
		c11 += r1[1]
		c12 += r1[2]
		c13 += r1[3]
		c20 += r2[0]
		c21 += r2[1]
		c22 += r2[2]
		c23 += r2[3]
		c30 += r3[0]
		c31 += r3[1]
		c32 += r3[2]
		c33 += r3[3]
	}
	*r0 = [4]T{c00, c01, c02, c03}
	*r1 = [4]T{c10, c11, c12, c13}
	*r2 = [4]T{c20, c21, c22, c23}
	*r3 = [4]T{c30, c31, c32, c33}
}
