//go:build linux

package jpeg2000

import "syscall"

// processCPU returns the user+system CPU time of the process in
// nanoseconds, so that benchmarks can report CPU time per operation, which
// stays meaningful on a machine shared with other work.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
