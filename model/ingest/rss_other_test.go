//go:build !linux && !darwin

package ingest

import "time"

// maxRSS is not available on this platform (js/wasm: the Go runtime's
// total memory is the linear memory the browser holds).
func maxRSS() int64 { return 0 }

// cpuTime is not available on this platform.
func cpuTime() time.Duration { return 0 }
