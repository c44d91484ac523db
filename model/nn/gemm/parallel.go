package gemm

import (
	"runtime"
	"sync"
	"sync/atomic"

	"sscscore/model/parallel"
)

// threadLimit is the goroutine count set by SetThreads (0: follow GOMAXPROCS).
var threadLimit atomic.Int32

// Threads returns how many goroutines products and convolutions use: GOMAXPROCS unless
// SetThreads set a limit. Under js/wasm GOMAXPROCS is 1, so everything runs on the calling
// goroutine.
func Threads() int {
	if n := int(threadLimit.Load()); n > 0 {
		return min(n, runtime.GOMAXPROCS(0))
	}
	return runtime.GOMAXPROCS(0)
}

// SetThreads limits the goroutines used by products (n ≤ 0 restores the default) and returns
// the previous limit.
func SetThreads(n int) int {
	return int(threadLimit.Swap(int32(max(n, 0))))
}

// ParallelRange splits [0, n) into at most Threads() contiguous chunks of at least grain
// elements and runs f on each concurrently.
func ParallelRange(n, grain int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := min(Threads(), max(1, n/max(grain, 1)))
	if t <= 1 {
		f(0, n)
		return
	}
	chunk := ceilDiv(n, t)
	parallel.Do(ceilDiv(n, chunk), func(i int) {
		f(i*chunk, min(n, (i+1)*chunk))
	})
}

// Scratch buffers for packed B blocks and C blocks, reused across products.
var pools sync.Map // element size -> *sync.Pool of *[]T

func getScratch[T Float](n int) []T {
	var z T
	pl, _ := pools.LoadOrStore(sizeOf(z), &sync.Pool{})
	if v := pl.(*sync.Pool).Get(); v != nil {
		if s := *(v.(*[]T)); cap(s) >= n {
			return s[:n]
		}
	}
	return make([]T, n)
}

func putScratch[T Float](s []T) {
	var z T
	pl, _ := pools.LoadOrStore(sizeOf(z), &sync.Pool{})
	pl.(*sync.Pool).Put(&s)
}
