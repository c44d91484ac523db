//go:build goexperiment.simd && amd64

package gemm

import "simd/archsimd"

func extraKernels() []kernelInfo {
	var ks []kernelInfo
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		ks = append(ks, avx2Kernel())
	}
	return ks
}
