// Package synth pastes synthetic ground glass (GG) and reticulation (RET)
// into the lungs of a CT slice, the way Jia et al. (SPIE Medical Imaging
// 2022) balanced their training labels: each disease region is the union of
// one to three random ellipses inside the lung mask, its edges blurred with
// a 20-pixel box, GG a hazy attenuation increase of about +300 HU and RET a
// reticular texture, RET pasted first and GG on top. The labels are the
// areas of the region masks as percentages of the lung area:
//
//	TOT = |GG ∪ RET| / |lung|,  GG = |GG| / |lung|,  RET = |RET| / |lung|.
//
// The textures are made to look like the real thing: ground glass never
// becomes denser than soft tissue and spares the vessels (their values are
// left alone), sometimes with interlobular septal lines (crazy paving);
// reticulation is a network of fine lines or honeycomb cysts with walls,
// pasted preferentially near the pleura, with the image's own noise level
// restored where a texture replaces the pixels. The same textures are used
// in 3D by the phantom package.
package synth

import (
	"math"
	"math/rand/v2"
	"sort"

	"sscscore/model/internal/scalar"
)

// Labels are the disease extents on one slice, in percent of the lung area.
type Labels struct {
	TOT, GG, RET float64
}

// Mode selects what Paste draws.
type Mode int

// Paste modes.
const (
	ModeRandom Mode = iota // none, GG, RET or both, drawn from the rng
	ModeNone               // nothing (healthy)
	ModeGG                 // ground glass only
	ModeRET                // reticulation only
	ModeBoth               // reticulation, then ground glass on top
)

// Options controls Paste. The zero value follows the paper.
type Options struct {
	// PixelSpacing is the pixel size in mm (default 0.7); it scales the
	// textures.
	PixelSpacing float64
	// BlurPx is the side of the box that blurs the region edges (default
	// 20 pixels, as in the paper).
	BlurPx int
	// Mode selects the disease types.
	Mode Mode
	// Extent is the target total extent in (0, 1]; 0 draws it uniformly,
	// so that the labels cover 0-100 %.
	Extent float64
	// PHealthy is the probability of a healthy draw in ModeRandom
	// (default 0.08; negative for never).
	PHealthy float64
	// Noise is the image noise standard deviation (HU) restored where a
	// texture replaces pixels; 0 estimates it from the lung.
	Noise float64
}

// Masks are the binary disease masks of a paste (inside the lung).
type Masks struct {
	GG, RET []bool
}

// Measure returns the labels of masks gg and ret (either may be nil) on
// the lung mask: exact pixel counts.
func Measure(lung, gg, ret []bool) Labels {
	var nl, ng, nr, nt int
	for i, l := range lung {
		if !l {
			continue
		}
		nl++
		g := gg != nil && gg[i]
		r := ret != nil && ret[i]
		if g {
			ng++
		}
		if r {
			nr++
		}
		if g || r {
			nt++
		}
	}
	if nl == 0 {
		return Labels{}
	}
	pct := func(k int) float64 { return 100 * float64(k) / float64(nl) }
	return Labels{TOT: pct(nt), GG: pct(ng), RET: pct(nr)}
}

// Paste draws disease into the lungs of slice hu (nx x ny, HU, modified in
// place) with lung mask lung, and returns the labels and masks.
func Paste(hu []int16, nx, ny int, lung []bool, rng *rand.Rand, opt Options) (Labels, Masks) {
	n := nx * ny
	if opt.PixelSpacing <= 0 {
		opt.PixelSpacing = 0.7
	}
	if opt.BlurPx <= 0 {
		opt.BlurPx = 20
	}
	if opt.PHealthy == 0 {
		opt.PHealthy = 0.08
	}
	mode := opt.Mode
	if mode == ModeRandom {
		switch u := rng.Float64(); {
		case u < opt.PHealthy:
			mode = ModeNone
		case u < opt.PHealthy+(1-opt.PHealthy)*0.38:
			mode = ModeGG
		case u < opt.PHealthy+(1-opt.PHealthy)*0.66:
			mode = ModeRET
		default:
			mode = ModeBoth
		}
	}
	var idx []int32
	for i := 0; i < n; i++ {
		if lung[i] {
			idx = append(idx, int32(i))
		}
	}
	var m Masks
	if len(idx) == 0 || mode == ModeNone {
		return Labels{}, m
	}
	ext := opt.Extent
	if ext <= 0 {
		ext = rng.Float64()
	}
	ext = scalar.Clamp(ext, 0.005, 1)
	dist := chamfer(lung, nx, ny)
	var sub []int32 // pixels within 25 mm of the pleura
	lim := 25 / opt.PixelSpacing
	for _, i := range idx {
		if float64(dist[i]) <= lim {
			sub = append(sub, i)
		}
	}
	ps := opt.PixelSpacing
	sigma := opt.Noise
	if sigma <= 0 {
		sigma = estimateNoise(hu, nx, lung)
	}
	u := rng.Float64
	tmp := make([]float32, n)
	var retAlpha, ggAlpha []float32
	if mode == ModeRET || mode == ModeBoth {
		t := ext
		if mode == ModeBoth {
			t = ext * scalar.Lerp(0.35, 1, u())
		}
		var reg []bool
		m.RET, reg = region(lung, nx, ny, idx, sub, t, 0.75, rng)
		retAlpha = blurMask(reg, nx, ny, opt.BlurPx, tmp)
	}
	if mode == ModeGG || mode == ModeBoth {
		t := ext
		if mode == ModeBoth {
			t = ext * scalar.Lerp(0.5, 1, u())
		}
		var reg []bool
		m.GG, reg = region(lung, nx, ny, idx, sub, t, 0.3, rng)
		ggAlpha = blurMask(reg, nx, ny, opt.BlurPx, tmp)
	}
	nseed := rng.Uint64()
	if retAlpha != nil {
		ret := RandomReticulation(u)
		for _, i := range idx {
			a := float64(retAlpha[i])
			if a <= 0 {
				continue
			}
			x, y := float64(int(i)%nx)*ps, float64(int(i)/nx)*ps
			w := ret.At2(x, y, ps)
			v := float64(hu[i])
			out := ret.ApplyRET(v, a, w)
			// restore the noise where the texture replaced the pixel
			rep := a * taper(v) * math.Max(w, boolF(ret.Honeycomb)*(1-w)*0.8)
			out += sigma * rep * gauss(nseed, uint64(i))
			hu[i] = toHU(out)
		}
	}
	if ggAlpha != nil {
		gg := RandomGroundGlass(u)
		for _, i := range idx {
			a := float64(ggAlpha[i])
			if a <= 0 {
				continue
			}
			x, y := float64(int(i)%nx)*ps, float64(int(i)/nx)*ps
			hu[i] = toHU(gg.ApplyGG(float64(hu[i]), a, x, y, 0, ps))
		}
	}
	return Measure(lung, m.GG, m.RET), m
}

func boolF(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func toHU(v float64) int16 {
	v = math.Round(v)
	if v < -1024 {
		return -1024
	}
	if v > 3071 {
		return 3071
	}
	return int16(v)
}

// gauss returns a deterministic approximately normal variate for (seed, i).
func gauss(seed, i uint64) float64 {
	h := scalar.Hash64(seed ^ scalar.Hash64(i))
	s := float64(h&0xffff) + float64(h>>16&0xffff) + float64(h>>32&0xffff) + float64(h>>48)
	return (s - 2*65535) * 1.7320508075688772 / 65536
}

// region draws a union of 1-3 ellipses centred in the lung, scaled so that
// its part inside the lung covers about target of the lung area. With
// probability subFrac each centre is drawn near the pleura. It returns the
// mask inside the lung and the whole union.
func region(lung []bool, nx, ny int, idx, sub []int32, target, subFrac float64, rng *rand.Rand) ([]bool, []bool) {
	k := 1 + rng.IntN(3)
	type ell struct{ cx, cy, f, ratio, c, s float64 }
	es := make([]ell, k)
	for i := range es {
		pool := idx
		if len(sub) > 0 && rng.Float64() < subFrac {
			pool = sub
		}
		p := int(pool[rng.IntN(len(pool))])
		th := rng.Float64() * math.Pi
		es[i] = ell{cx: float64(p % nx), cy: float64(p / nx), f: scalar.Lerp(0.55, 1, rng.Float64()), ratio: scalar.Lerp(0.35, 1, rng.Float64()), c: math.Cos(th), s: math.Sin(th)}
	}
	mark := make([]uint16, nx*ny)
	gen := uint16(0)
	paint := func(scale float64, out []bool) int {
		gen++
		cnt := 0
		for _, e := range es {
			a := scale * e.f
			b := a * e.ratio
			x0, x1 := max(int(e.cx-a)-1, 0), min(int(e.cx+a)+2, nx)
			y0, y1 := max(int(e.cy-a)-1, 0), min(int(e.cy+a)+2, ny)
			ia, ib := 1/(a*a), 1/(b*b)
			for y := y0; y < y1; y++ {
				dy := float64(y) - e.cy
				for x := x0; x < x1; x++ {
					dx := float64(x) - e.cx
					u := dx*e.c + dy*e.s
					v := -dx*e.s + dy*e.c
					if u*u*ia+v*v*ib > 1 {
						continue
					}
					i := y*nx + x
					if mark[i] == gen {
						continue
					}
					mark[i] = gen
					if out != nil {
						out[i] = true
					}
					if lung[i] {
						cnt++
					}
				}
			}
		}
		return cnt
	}
	want := target * float64(len(idx))
	tol := 0.01 * float64(len(idx))
	lo, hi := 0.5, 2*math.Hypot(float64(nx), float64(ny))
	best := math.Sqrt(lo * hi)
	for it := 0; it < 14; it++ {
		mid := math.Sqrt(lo * hi)
		best = mid
		c := float64(paint(mid, nil))
		if math.Abs(c-want) <= tol {
			break
		}
		if c < want {
			lo = mid
		} else {
			hi = mid
		}
		if hi/lo < 1.01 {
			break
		}
	}
	union := make([]bool, nx*ny)
	paint(best, union)
	in := make([]bool, nx*ny)
	for _, i := range idx {
		in[i] = union[i]
	}
	return in, union
}

// blurMask box-blurs a binary mask with a b x b box; tmp is scratch.
func blurMask(mask []bool, nx, ny, b int, tmp []float32) []float32 {
	out := make([]float32, nx*ny)
	h0 := b / 2
	h1 := b - h0 - 1
	inv := float32(1) / float32(b)
	// rows
	for y := 0; y < ny; y++ {
		row := mask[y*nx : (y+1)*nx]
		var s float32
		for x := -h0; x <= h1-1; x++ {
			if x >= 0 && x < nx && row[x] {
				s++
			}
		}
		for x := 0; x < nx; x++ {
			if xa := x + h1; xa < nx && row[xa] {
				s++
			}
			tmp[y*nx+x] = s * inv
			if xr := x - h0; xr >= 0 && row[xr] {
				s--
			}
		}
	}
	// columns
	for x := 0; x < nx; x++ {
		var s float32
		for y := -h0; y <= h1-1; y++ {
			if y >= 0 && y < ny {
				s += tmp[y*nx+x]
			}
		}
		for y := 0; y < ny; y++ {
			if ya := y + h1; ya < ny {
				s += tmp[ya*nx+x]
			}
			out[y*nx+x] = s * inv
			if yr := y - h0; yr >= 0 {
				s -= tmp[yr*nx+x]
			}
		}
	}
	for i, v := range out {
		if v < 1e-4 {
			out[i] = 0
		} else if v > 1 {
			out[i] = 1
		}
	}
	return out
}

// chamfer returns the 3-4 chamfer distance (in pixels) of each mask pixel
// to the nearest pixel outside the mask.
func chamfer(mask []bool, nx, ny int) []float32 {
	const inf = 1 << 30
	d := make([]int32, nx*ny)
	for i, m := range mask {
		if m {
			d[i] = inf
		}
	}
	at := func(x, y int) int32 {
		if x < 0 || y < 0 || x >= nx || y >= ny {
			return 0
		}
		return d[y*nx+x]
	}
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			i := y*nx + x
			if d[i] == 0 {
				continue
			}
			v := d[i]
			v = min(v, at(x-1, y)+3, at(x, y-1)+3, at(x-1, y-1)+4, at(x+1, y-1)+4)
			d[i] = v
		}
	}
	for y := ny - 1; y >= 0; y-- {
		for x := nx - 1; x >= 0; x-- {
			i := y*nx + x
			if d[i] == 0 {
				continue
			}
			v := d[i]
			v = min(v, at(x+1, y)+3, at(x, y+1)+3, at(x+1, y+1)+4, at(x-1, y+1)+4)
			d[i] = v
		}
	}
	out := make([]float32, nx*ny)
	for i, v := range d {
		out[i] = float32(v) / 3
	}
	return out
}

// estimateNoise returns a robust estimate of the noise standard deviation
// from horizontal neighbour differences inside the lung.
func estimateNoise(hu []int16, nx int, lung []bool) float64 {
	var diffs []int
	for i := 0; i+1 < len(hu); i++ {
		if lung[i] && lung[i+1] && (i+1)%nx != 0 {
			d := int(hu[i+1]) - int(hu[i])
			if d < 0 {
				d = -d
			}
			diffs = append(diffs, d)
		}
	}
	if len(diffs) < 50 {
		return 10
	}
	sort.Ints(diffs)
	med := float64(diffs[len(diffs)/2])
	// |a-b| of two N(0, s) has median 0.954 s
	return med / 0.954
}
