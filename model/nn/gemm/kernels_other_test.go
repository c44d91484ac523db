//go:build !goexperiment.simd || !amd64

package gemm

func extraKernels() []kernelInfo { return nil }
