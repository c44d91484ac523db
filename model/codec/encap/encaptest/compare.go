package encaptest

import (
	"testing"

	"sscscore/model/codec"
)

// Decode decodes every frame of a test file (path relative to the test data
// directory) with dec and returns the frames and the file.
func Decode(tb testing.TB, rel string, dec codec.Decoder) ([][]int32, *File) {
	tb.Helper()
	f := Load(tb, rel)
	frames, err := f.Frames()
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	out := make([][]int32, len(frames))
	for i, fr := range frames {
		dst := make([]int32, f.Info.Len())
		if err := dec.Decode(fr, f.Info, dst); err != nil {
			tb.Fatalf("%s: frame %d: %v", rel, i, err)
		}
		out[i] = dst
	}
	return out, f
}

// Reference returns the native frames of a test file.
func Reference(tb testing.TB, rel string) [][]int32 {
	tb.Helper()
	frames, err := Load(tb, rel).NativeFrames()
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return frames
}

// Compare fails the test unless got and want have the same frames and every
// sample differs by at most tol. It returns the largest difference.
func Compare(tb testing.TB, name string, got, want [][]int32, tol int32) int32 {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d frames, want %d", name, len(got), len(want))
	}
	var maxd int32
	for k := range got {
		if len(got[k]) != len(want[k]) {
			tb.Fatalf("%s: frame %d has %d samples, want %d", name, k, len(got[k]), len(want[k]))
		}
		bad := 0
		for i := range got[k] {
			d := got[k][i] - want[k][i]
			if d < 0 {
				d = -d
			}
			maxd = max(maxd, d)
			if d > tol {
				if bad < 5 {
					tb.Errorf("%s: frame %d sample %d = %d, want %d", name, k, i, got[k][i], want[k][i])
				}
				bad++
			}
		}
		if bad > 0 {
			tb.Fatalf("%s: frame %d: %d samples differ by more than %d", name, k, bad, tol)
		}
	}
	return maxd
}

// Hash returns the FNV-1a 64-bit hash of the samples of all frames (each
// sample as 4 little-endian bytes), to compare against values decoded by an
// independent decoder.
func Hash(frames [][]int32) uint64 {
	h := uint64(14695981039346656037)
	for _, fr := range frames {
		for _, v := range fr {
			u := uint32(v)
			for i := 0; i < 4; i++ {
				h ^= uint64(byte(u >> (8 * i)))
				h *= 1099511628211
			}
		}
	}
	return h
}

// Mean returns the mean sample value over all frames.
func Mean(frames [][]int32) float64 {
	var sum float64
	n := 0
	for _, fr := range frames {
		for _, v := range fr {
			sum += float64(v)
		}
		n += len(fr)
	}
	return sum / float64(max(n, 1))
}
