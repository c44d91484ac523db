//go:build !linux

package jpeg2000

// processCPU is not measured on this platform.
func processCPU() int64 { return 0 }
