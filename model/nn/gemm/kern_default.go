//go:build !goexperiment.simd || !(amd64 || wasm)

package gemm

// Without GOEXPERIMENT=simd (or on an architecture without a SIMD kernel) the portable
// register-blocked kernel of kernel.go stays selected; this file is the scalar twin of
// kern_amd64_simd.go and kern_wasm_simd.go.
var _ = f32Kernel
