package phantom

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"sscscore/model/internal/scalar"
	"sscscore/model/synth"
	"sscscore/model/volume"
)

// lesion is one 3D disease region: an ellipsoid intersected with the lung
// and, for subpleural lesions, with the band of lung within Band mm of the
// pleura. Its edges fade over about 14 mm (the paper's 20-pixel box).
type lesion struct {
	ret      bool
	e        ellipsoid
	band     float64 // subpleural depth limit (mm); 0 means none
	rt       synth.Reticulation
	gg       synth.GroundGlass
	zlo, zhi float64
	hx, hy   float64
}

// lesionFade is the width (mm) of a lesion's soft edge.
const lesionFade = 14.0

// placeDisease places lesions with basal and subpleural predominance, as
// in systemic-sclerosis interstitial lung disease (mostly non-specific
// interstitial pneumonia: ground glass and fine reticulation in the lower
// zones, at the periphery). severity in (0, 1] scales their number and
// size; 0 draws it. growth (Options.Growth) scales every lesion's size
// after all draws, so that the lesions stay where the seed put them.
func (an *anatomy) placeDisease(rng *rand.Rand, severity, growth float64) {
	a := an.a
	an.growth = 1 + max(growth, -0.9)
	if severity <= 0 {
		severity = rng.Float64()
	}
	severity = scalar.Clamp(severity, 0.02, 1)
	an.severity = severity
	u := rng.Float64
	n := 2 + int(math.Round(12*severity))
	zTop := a.ZApex - 15
	zBot := a.ZDomeR - 0.5*a.RecessPost
	for i := 0; i < n; i++ {
		var l lesion
		l.ret = u() < 0.45
		// craniocaudal position: basal predominance, spreading up with
		// severity
		t := math.Pow(u(), 2.6-1.6*severity)
		z := zBot + t*(zTop-zBot)
		// a point in the lung, preferably near the pleura and posterior
		var p vec
		found := false
		for try := 0; try < 300 && !found; try++ {
			c := an.cavSect(z)
			q := vec{uni(rng, -c.a, c.a), uni(rng, c.cy-c.bF, c.cy+c.bB), z}
			d := an.lungSD(q)
			if d > -3 {
				continue
			}
			depth := -d
			post := smoothstep(c.cy-c.bF, c.cy+c.bB, q.Y)
			w := math.Exp(-depth/18) * (0.4 + 0.6*post)
			if u() < w {
				p, found = q, true
			}
		}
		if !found {
			continue
		}
		sc := (0.55 + 0.9*severity) * an.growth
		r := [3]float64{uni(rng, 18, 55) * sc, uni(rng, 18, 55) * sc, uni(rng, 22, 70) * sc}
		th := u() * math.Pi
		ax := [3]vec{{math.Cos(th), math.Sin(th), 0}, {-math.Sin(th), math.Cos(th), 0}, {0, 0, 1}}
		l.e = newEllipsoid(p, r, ax)
		if l.ret {
			l.band = (uni(rng, 10, 30) + 20*severity) * an.growth
			l.rt = synth.RandomReticulation(u)
			// honeycombing is a lower-zone finding
			for l.rt.Honeycomb && t > 0.45 {
				l.rt = synth.RandomReticulation(u)
			}
		} else {
			if u() < 0.5 {
				l.band = uni(rng, 25, 50) * an.growth
			}
			l.gg = synth.RandomGroundGlass(u)
		}
		lo, hi := l.e.zRange()
		l.zlo, l.zhi = lo-lesionFade/2, hi+lesionFade/2
		hx, hy := l.e.xyHalf()
		l.hx, l.hy = hx+lesionFade/2, hy+lesionFade/2
		an.lesions = append(an.lesions, l)
	}
}

// diseaseSub applies the lesions to the sub-slice at z in r.buf and, when
// record is set, stores the binary masks of the slab in r.mgg / r.mret.
func (r *renderer) diseaseSub(z float64, record bool) {
	an := r.an
	if len(an.lesions) == 0 {
		return
	}
	n := r.g.Nx * r.g.Ny
	if record {
		if len(r.mgg) != n {
			r.mgg = make([]bool, n)
			r.mret = make([]bool, n)
		}
		for i := range r.mgg {
			r.mgg[i], r.mret[i] = false, false
		}
	}
	var act []*lesion
	for i := range an.lesions {
		l := &an.lesions[i]
		if z >= l.zlo && z <= l.zhi {
			act = append(act, l)
		}
	}
	if len(act) == 0 {
		return
	}
	// bbox of the active lesions
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, l := range act {
		x0, x1 = math.Min(x0, l.e.c.X-l.hx), math.Max(x1, l.e.c.X+l.hx)
		y0, y1 = math.Min(y0, l.e.c.Y-l.hy), math.Max(y1, l.e.c.Y+l.hy)
	}
	i0, j0, i1, j1, ok := r.pixBox(x0, y0, x1, y1)
	if !ok {
		return
	}
	px := r.g.DX
	w := r.w
	for j := j0; j < j1; j++ {
		y := r.oy + float64(j)*r.g.DY
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			ld := r.sample(chLung, i, j)
			if ld >= w/2 {
				continue
			}
			lc := cover(ld, w) // lung fraction of this pixel
			depth := -ld
			x := r.ox + float64(i)*r.g.DX
			p := vec{x, y, z}
			k := row + i
			var aRet, aGG float64
			var ret, gg *lesion
			inRet, inGG := false, false
			for _, l := range act {
				d, _ := l.e.sd(p)
				if d > lesionFade/2 {
					continue
				}
				a := scalar.Clamp(0.5-d/lesionFade, 0, 1)
				in := d < 0
				if l.band > 0 {
					a *= scalar.Clamp(0.5-(depth-l.band)/6, 0, 1)
					in = in && depth < l.band
				}
				if l.ret {
					if a > aRet {
						aRet, ret = a, l
					}
					inRet = inRet || in
				} else {
					if a > aGG {
						aGG, gg = a, l
					}
					inGG = inGG || in
				}
			}
			if record {
				r.mret[k] = inRet
				r.mgg[k] = inGG
			}
			if ret == nil && gg == nil {
				continue
			}
			v := float64(r.buf[k])
			// Only the lung part of the pixel changes.
			orig := v
			if ret != nil {
				wall := ret.rt.At3(x, y, z, px)
				v = ret.rt.ApplyRET(v, aRet, wall)
			}
			if gg != nil {
				v = gg.gg.ApplyGG(v, aGG, x, y, z, px)
			}
			r.buf[k] = float32(orig + (v-orig)*lc)
		}
	}
}

// applyDisease returns the disease masks recorded during the last slab.
func (r *renderer) applyDisease(z float64) (gg, ret []bool) {
	if len(r.an.lesions) == 0 {
		return nil, nil
	}
	return r.mgg, r.mret
}

// LevelLabels returns the disease labels (percent of the lung area) that
// would be measured on the slices of grid g nearest the five levels, and
// the z of those slices. Without disease every label is zero.
func (p *Phantom) LevelLabels(ctx context.Context, g volume.Geometry) ([5]synth.Labels, [5]float64, error) {
	var out [5]synth.Labels
	var zs [5]float64
	sg := GridOf(g)
	n := g.Nx * g.Ny
	hu := make([]int16, n)
	fl := make([]uint8, n)
	lung := make([]bool, n)
	gg := make([]bool, n)
	ret := make([]bool, n)
	for i, z := range p.Levels() {
		if err := ctx.Err(); err != nil {
			return out, zs, err
		}
		k, inside := g.NearestSlice(z)
		if !inside {
			return out, zs, fmt.Errorf("phantom: level L%d (z=%.1f) outside the grid", i+1, z)
		}
		zs[i] = g.SliceZ[k]
		if err := p.RenderSlice(zs[i], sg, hu, fl); err != nil {
			return out, zs, err
		}
		for j, f := range fl {
			lung[j], gg[j], ret[j] = f&MaskLung != 0, f&MaskGG != 0, f&MaskRET != 0
		}
		out[i] = synth.Measure(lung, gg, ret)
	}
	return out, zs, nil
}
