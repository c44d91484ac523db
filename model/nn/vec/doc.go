// Package vec holds the float32 element-wise loops of the CNN engine's epilogues and
// pooling (bias, activations, per-channel affine, residual sums, 2×2 max pooling), written on
// Go 1.27's portable simd package when built with GOEXPERIMENT=simd (vec_simd.go: wasm
// SIMD128, AVX2 or AVX-512 as the CPU allows) and as plain loops otherwise (vec_scalar.go,
// the scalar twin). Both give identical results: every operation here is exact or a single
// rounding (no fused multiply-add), tested in both modes.
package vec
