//go:build !goexperiment.simd

package vec

// SIMD reports whether the loops use the simd package.
const SIMD = false

// AddBias sets dst[i] = src[i] + b.
func AddBias(dst, src []float32, b float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v + b
	}
}

// AddBiasReLU sets dst[i] = max(src[i] + b, 0).
func AddBiasReLU(dst, src []float32, b float32) {
	src = src[:len(dst)]
	for i, v := range src {
		v += b
		if v < 0 {
			v = 0
		}
		dst[i] = v
	}
}

// AddBiasLeaky sets dst[i] = v if v > 0, else slope·v, with v = src[i] + b (0 ≤ slope ≤ 1).
func AddBiasLeaky(dst, src []float32, b, slope float32) {
	src = src[:len(dst)]
	for i, v := range src {
		v += b
		if w := v * slope; w > v {
			v = w
		}
		dst[i] = v
	}
}

// ScaleShift sets dst[i] = src[i]·s + t (multiply, then add: two roundings).
func ScaleShift(dst, src []float32, s, t float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v*s + t
	}
}

// Add sets dst[i] = a[i] + b[i].
func Add(dst, a, b []float32) {
	a = a[:len(dst)]
	b = b[:len(dst)]
	for i, v := range a {
		dst[i] = v + b[i]
	}
}

// MaxPool2 sets dst[i] to the maximum of r0[2i], r0[2i+1], r1[2i], r1[2i+1] (2×2 max pooling
// of two input rows).
func MaxPool2(dst, r0, r1 []float32) {
	maxPool2Fast(dst, r0, r1)
}

// Max sets dst[i] = max(a[i], b[i]).
func Max(dst, a, b []float32) {
	a = a[:len(dst)]
	b = b[:len(dst)]
	for i, v := range a {
		if w := b[i]; w > v {
			v = w
		}
		dst[i] = v
	}
}
