//go:build !goexperiment.simd || !wasm

package vec

func maxPool2Fast(dst, r0, r1 []float32) { maxPool2(dst, r0, r1) }
