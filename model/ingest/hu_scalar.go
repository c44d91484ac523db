//go:build !goexperiment.simd

package ingest

// le16ToHUVec is the vector kernel's twin without SIMD: it converts
// nothing, and le16ToHU's scalar loops do all the work.
func le16ToHUVec(u []uint16, dst []int16, p le16Params) (done int, c huCounts) { return 0, c }
