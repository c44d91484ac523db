//go:build goexperiment.simd && wasm

package vec

import "simd/archsimd"

// maxPool2Fast pools two outputs per step with wasm SIMD: the maxima of the rows at offsets
// 2i and 2i+1 give max(x[2i], x[2i+1]) in lanes 0 and 2, read back with lane extracts.
func maxPool2Fast(dst, r0, r1 []float32) {
	n := len(dst)
	r0 = r0[:2*n]
	r1 = r1[:2*n]
	i := 0
	for ; 2*i+5 <= 2*n; i += 2 {
		a := archsimd.LoadFloat32x4Array((*[4]float32)(r0[2*i:])).Max(archsimd.LoadFloat32x4Array((*[4]float32)(r1[2*i:])))
		b := archsimd.LoadFloat32x4Array((*[4]float32)(r0[2*i+1:])).Max(archsimd.LoadFloat32x4Array((*[4]float32)(r1[2*i+1:])))
		m := a.Max(b)
		dst[i] = m.GetElem(0)
		dst[i+1] = m.GetElem(2)
	}
	maxPool2(dst[i:], r0[2*i:], r1[2*i:])
}

// maxWin3S2Fast computes two windows per step: lanes 0 and 2 of max(x[2i:], x[2i+1:],
// x[2i+2:]).
func maxWin3S2Fast(dst, src []float32) {
	n := len(dst)
	src = src[:2*n+1]
	i := 0
	for ; 2*i+6 <= 2*n+1; i += 2 {
		a := archsimd.LoadFloat32x4Array((*[4]float32)(src[2*i:]))
		b := archsimd.LoadFloat32x4Array((*[4]float32)(src[2*i+1:]))
		c := archsimd.LoadFloat32x4Array((*[4]float32)(src[2*i+2:]))
		m := a.Max(b).Max(c)
		dst[i] = m.GetElem(0)
		dst[i+1] = m.GetElem(2)
	}
	maxWin3S2(dst[i:], src[2*i:])
}
