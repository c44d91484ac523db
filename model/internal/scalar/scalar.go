// Package scalar holds the scalar functions that the procedural generators
// (model/phantom, model/synth) share: a splitmix64 hash, the hash of an
// integer cell and its value in [0, 1), clamping and linear interpolation.
package scalar

// Hash64 mixes x (the splitmix64 finaliser).
func Hash64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// CellHash hashes the integer cell (i, j, k) with seed.
func CellHash(seed uint64, i, j, k int) uint64 {
	return Hash64(seed ^ Hash64(uint64(int64(i))*0x9e3779b1+uint64(int64(j))*0x85ebca77+uint64(int64(k))*0xc2b2ae3d))
}

// Unit maps a hash to [0, 1) (its top 53 bits).
func Unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// Clamp returns x limited to [lo, hi].
func Clamp(x, lo, hi float64) float64 {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// Lerp interpolates linearly from a (t = 0) to b (t = 1).
func Lerp(a, b, t float64) float64 { return a + (b-a)*t }
