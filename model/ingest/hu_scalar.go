//go:build !(goexperiment.simd && wasm)

package ingest

// le16ToHUVec is the vector kernel's twin without SIMD (and on native
// targets, where the scalar loops are faster): it converts nothing, and
// le16ToHU's scalar loops do all the work.
func le16ToHUVec(u []uint16, dst []int16, p le16Params) (done int, c huCounts) { return 0, c }
