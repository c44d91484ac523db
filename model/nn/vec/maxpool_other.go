//go:build !goexperiment.simd || !wasm

package vec

func maxPool2Fast(dst, r0, r1 []float32) { maxPool2(dst, r0, r1) }

func maxWin3S2Fast(dst, src []float32) { maxWin3S2(dst, src) }
