//go:build !linux && !darwin

package ingest

// maxRSS is not available on this platform (js/wasm: the Go runtime's
// total memory is the linear memory the browser holds).
func maxRSS() int64 { return 0 }
