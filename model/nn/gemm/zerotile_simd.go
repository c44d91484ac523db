//go:build goexperiment.simd && (amd64 || wasm)

package gemm

// zeroTile clears an mr×nr tile of c (the generated SIMD kernels' kc = 0
// case).
func zeroTile[T Float](c []T, ldc, mr, nr int) {
	for i := 0; i < mr; i++ {
		clear(c[i*ldc : i*ldc+nr])
	}
}
