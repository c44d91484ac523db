package heatmap

import (
	"math"
	"slices"

	"sscscore/model/cascade"
)

// Healthy-lung texture parameters (see HealthyTexture).
const (
	// donorQuantile selects the donor blocks: those whose mean density
	// plus donorRoughness standard deviations is at most this quantile of
	// the blocks inside the lung (the roughness term keeps reticulation
	// and honeycombing, whose cysts are as dark as normal lung, out).
	donorQuantile  = 0.25
	donorRoughness = 1.0
	// diseasedLevelHU is the donor median above which the slice's lowest
	// density lung is taken to be diseased itself; the donor texture is
	// then shifted down to healthyLevelHU.
	diseasedLevelHU = -750.0
	healthyLevelHU  = -850.0
)

// HealthyTexture returns the healthy-lung texture the occlusion and
// gradient maps replace lung with, on the score network's input grid
// (SliceSide² values of the image channel, in the network's units).
//
// It is synthesised from the slice's own lowest-density lung, so that it
// carries the slice's noise, kernel sharpness and vessels: the square
// blocks of 24 mm (16 input pixels; 12 mm if none fits) that lie wholly
// inside the lung are ranked by mean density plus one standard deviation
// (smooth, dark lung first: reticulation and honeycombing are rough), the
// quarter ranked lowest are the donors, and the input grid is tiled with donor blocks chosen
// and mirrored by a hash of the tile position (deterministic). If even the
// donors' median is denser than -750 HU (a slice diseased throughout),
// the texture is shifted so that its median is -850 HU, a normal lung
// density. Without any block inside the lung the texture is -850 HU with
// the lung's noise level.
func HealthyTexture(in *cascade.SliceInput) []float32 {
	side := cascade.SliceSide
	n := side * side
	x, lung := in.X[:n], in.X[n:2*n]
	out := make([]float32, n)
	for _, b := range []int{16, 8} {
		donors := donorBlocks(x, lung, side, b)
		if len(donors) == 0 {
			continue
		}
		var vals []float32
		for _, d := range donors {
			for y := 0; y < b; y++ {
				vals = append(vals, x[(d[1]+y)*side+d[0]:(d[1]+y)*side+d[0]+b]...)
			}
		}
		shift := float32(0)
		if med := median(vals); huOf(med) > diseasedLevelHU {
			shift = cascade.NormSliceHU(healthyLevelHU) - med
		}
		for ty := 0; ty*b < side; ty++ {
			for tx := 0; tx*b < side; tx++ {
				h := hash64(uint64(ty)<<32 | uint64(tx))
				d := donors[h%uint64(len(donors))]
				flip := h >> 40
				for y := 0; y < b && ty*b+y < side; y++ {
					for xx := 0; xx < b && tx*b+xx < side; xx++ {
						sy, sx := y, xx
						if flip&1 != 0 {
							sx = b - 1 - sx
						}
						if flip&2 != 0 {
							sy = b - 1 - sy
						}
						if flip&4 != 0 {
							sx, sy = sy, sx
						}
						out[(ty*b+y)*side+tx*b+xx] = x[(d[1]+sy)*side+d[0]+sx] + shift
					}
				}
			}
		}
		return out
	}
	// No block fits: a normal lung level with the lung's noise.
	var vals []float32
	for i, l := range lung {
		if l >= 0.999 {
			vals = append(vals, x[i])
		}
	}
	sigma := float32(0.02) // 10 HU
	if len(vals) > 10 {
		m := median(vals)
		dev := make([]float32, len(vals))
		for i, v := range vals {
			dev[i] = float32(math.Abs(float64(v - m)))
		}
		sigma = 1.4826 * median(dev)
	}
	level := cascade.NormSliceHU(healthyLevelHU)
	for i := range out {
		out[i] = level + sigma*float32(gauss(uint64(i)))
	}
	return out
}

// donorBlocks returns the top-left corners of the b×b blocks (on a grid
// of step b/4) that lie wholly inside the lung and whose mean plus
// donorRoughness standard deviations is at most the donorQuantile of
// those blocks', lowest first.
func donorBlocks(x, lung []float32, side, b int) [][2]int {
	// integral images of the lung coverage test, the values and their
	// squares
	inside := make([]float64, (side+1)*(side+1))
	sum := make([]float64, (side+1)*(side+1))
	sq := make([]float64, (side+1)*(side+1))
	for y := 0; y < side; y++ {
		var ri, rs, rq float64
		for xx := 0; xx < side; xx++ {
			i := y*side + xx
			if lung[i] >= 0.999 {
				ri++
			}
			v := float64(x[i])
			rs += v
			rq += v * v
			inside[(y+1)*(side+1)+xx+1] = inside[y*(side+1)+xx+1] + ri
			sum[(y+1)*(side+1)+xx+1] = sum[y*(side+1)+xx+1] + rs
			sq[(y+1)*(side+1)+xx+1] = sq[y*(side+1)+xx+1] + rq
		}
	}
	box := func(t []float64, x0, y0 int) float64 {
		w := side + 1
		return t[(y0+b)*w+x0+b] - t[y0*w+x0+b] - t[(y0+b)*w+x0] + t[y0*w+x0]
	}
	type cand struct {
		x, y int
		mean float64
	}
	var cs []cand
	step := max(1, b/4)
	for y := 0; y+b <= side; y += step {
		for xx := 0; xx+b <= side; xx += step {
			if box(inside, xx, y) < float64(b*b) {
				continue
			}
			m := box(sum, xx, y) / float64(b*b)
			sd := math.Sqrt(math.Max(0, box(sq, xx, y)/float64(b*b)-m*m))
			cs = append(cs, cand{xx, y, m + donorRoughness*sd})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	slices.SortStableFunc(cs, func(a, c cand) int {
		switch {
		case a.mean < c.mean:
			return -1
		case a.mean > c.mean:
			return 1
		}
		return 0
	})
	k := max(1, int(math.Ceil(donorQuantile*float64(len(cs)))))
	out := make([][2]int, k)
	for i := range out {
		out[i] = [2]int{cs[i].x, cs[i].y}
	}
	return out
}

// huOf converts the network's image units back to Hounsfield units.
func huOf(v float32) float64 { return float64(v)*500 - 300 }

func median(v []float32) float32 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func hash64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// gauss returns a deterministic standard normal deviate for index i.
func gauss(i uint64) float64 {
	a := float64(hash64(2*i+1)>>11)/(1<<53) + 1e-300
	b := float64(hash64(2*i+2)>>11) / (1 << 53)
	return math.Sqrt(-2*math.Log(a)) * math.Cos(2*math.Pi*b)
}

// healthyInput returns in.X with the lung replaced by texture h in
// proportion to the lung coverage (the image channel; the lung channel is
// kept).
func healthyInput(in *cascade.SliceInput, h []float32) []float32 {
	n := cascade.SliceSide * cascade.SliceSide
	x := slices.Clone(in.X)
	for i, l := range in.X[n : 2*n] {
		if l > 0 {
			x[i] += l * (h[i] - x[i])
		}
	}
	return x
}
