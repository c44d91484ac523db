package phantom

import (
	"math"

	"sscscore/model/internal/scalar"
)

// treeRoot is where a peripheral tree starts: a lobar bronchus (with its
// artery alongside) or a pulmonary vein trunk.
type treeRoot struct {
	p, d   vec
	r      float64
	side   float64
	airway bool // bronchovascular: artery + bronchus
	vein   bool
	lobe   int
}

// branch is a growing tip of a tree.
type branch struct {
	p, d, n vec // position, direction, normal of the last bifurcation plane
	r       float64
	id      uint64
	airway  bool
	grp     uint8
	depth   int
}

// Tree limits.
const (
	treeRMin    = 0.42 // mm: smallest vessel radius generated
	treeMaxSegs = 60000
	airwayRMin  = 0.9 // mm: smallest artery radius that still has a visible bronchus
)

// envSD returns the signed distance to the mediastinal envelope at p:
// a smooth union of the heart, the great vessels, the airways, the
// oesophagus, thymic fat and the spine, which the lungs wrap around.
func (an *anatomy) envSD(p vec) float64 {
	const k = 12.0
	e := 1e3
	h := &an.heart
	if lo, hi := h.zRange(); p.Z >= lo-k && p.Z <= hi+k {
		d := h.myo(p) - h.fat
		zd, g := an.diaph(p.X, p.Y)
		d = math.Max(d, (zd-6-p.Z)*g)
		e = smin(e, d, k)
	}
	an.env.near(p.Z, k, func(s *seg) {
		d, t := segDist(p, s.a, s.b)
		d -= scalar.Lerp(s.ra, s.rb, t)
		e = smin(e, d, k)
	})
	for i := range an.envEll {
		d, _ := an.envEll[i].sd(p)
		e = smin(e, d, k)
	}
	e = smin(e, an.spineSD(p.X, p.Y, p.Z), 10)
	return e
}

// spineSD is the signed distance to the spinal column block (vertebral
// body with its paravertebral margin and everything behind it).
func (an *anatomy) spineSD(x, y, z float64) float64 {
	yv := an.yVB(z)
	a, b := 19.0, 15.0
	if i, ok := an.vertAt(z); ok {
		a, b = an.verts[i].a, an.verts[i].b
	}
	d1 := ellipse2(x, y, 0, yv, a+3, b+3)
	// block behind the body: |x| < a, y > yv
	d2 := math.Max(math.Abs(x)-(a+1), yv-y)
	return math.Min(d1, d2)
}

// lungSD returns the signed distance to the lungs at p given the envelope
// distance e, and which lung is nearer (-1 right, +1 left).
func (an *anatomy) lungSDWith(x, y, z float64, cav, e float64) (float64, float64) {
	const gap = 1.5
	common := math.Max(cav, gap-e)
	common = math.Max(common, an.diaphSD(x, y, z))
	sx := an.splitX(y)
	dR := math.Max(common, x-(sx-1.2))
	dR = math.Max(dR, an.capSD(-1, x, y, z))
	dL := math.Max(common, (sx+1.2)-x)
	dL = math.Max(dL, an.capSD(1, x, y, z))
	if dR < dL {
		return dR, -1
	}
	return dL, 1
}

// lungSD evaluates the lung distance at a point (slow; for tree growth and
// tests).
func (an *anatomy) lungSD(p vec) float64 {
	c := an.cavSect(p.Z)
	d, _ := an.lungSDWith(p.X, p.Y, p.Z, c.sd(p.X, p.Y), an.envSD(p))
	return d
}

// growTrees grows the pulmonary arterial, venous and airway trees.
func (an *anatomy) growTrees(seed uint64) {
	a := an.a
	ts := &an.trees
	nseg := 0
	var queue []branch
	for i, rt := range an.roots {
		id := scalar.Hash64(seed ^ uint64(i+1)*0x9e37)
		n, _ := orthonormal(rt.d)
		if rt.vein {
			queue = append(queue, branch{p: rt.p, d: rt.d, n: n, r: rt.r * 0.76, id: id, grp: grpPV})
			continue
		}
		// Artery alongside the lobar bronchus, fed from the pulmonary artery.
		off := rt.d.cross(vec{0, 1, 0})
		if off.len() < 0.2 {
			off = rt.d.cross(vec{1, 0, 0})
		}
		off = off.norm()
		if off.Z < 0 {
			off = off.mul(-1)
		}
		ra := rt.r * 0.88
		ap := rt.p.add(off.mul(rt.r + ra + 1))
		var pa []vec
		var rpa float64
		if rt.side < 0 {
			pa, rpa = an.rpa, an.paR[0]
		} else {
			pa, rpa = an.lpa, an.paR[1]
		}
		end := pa[len(pa)-1]
		mid := end.lerp(ap, 0.5).add(off.mul(3))
		an.tubes.spline([]vec{end, mid, ap}, rpa*0.8, ra, 3, grpPA, false, 0, 0)
		queue = append(queue, branch{p: ap, d: rt.d, n: n, r: ra, id: id, grp: grpPA, airway: true})
	}
	for len(queue) > 0 && nseg < treeMaxSegs {
		b := queue[0]
		queue = queue[1:]
		h := b.id
		rnd := func() float64 {
			h = scalar.Hash64(h)
			return float64(h>>11) / (1 << 53)
		}
		L := scalar.Clamp(b.r*scalar.Lerp(5.5, 9, rnd()), 3, 28)
		d := b.d
		end := b.p.add(d.mul(L))
		margin := b.r + 1.5
		// Near the hilum the first generations run through the
		// mediastinal envelope before they enter the lung.
		if b.depth >= 3 && an.lungSD(end) > -margin {
			// steer back into the lung, shorter
			g := an.lungGrad(end)
			ok := false
			for _, k := range [...]float64{0.7, 1.4, 2.5} {
				d2 := d.sub(g.mul(k)).norm()
				for _, f := range [...]float64{0.75, 0.5} {
					e2 := b.p.add(d2.mul(L * f))
					if an.lungSD(e2) <= -margin*0.8 {
						d, end, ok = d2, e2, true
						break
					}
				}
				if ok {
					break
				}
			}
			if !ok {
				continue
			}
		}
		r1 := b.r * 0.97
		ts.add(seg{a: b.p, b: end, ra: b.r, rb: r1, grp: b.grp})
		nseg++
		if b.airway && b.r >= airwayRMin {
			rb := b.r * 1.08
			wall := math.Max(0.35, 0.17*rb)
			o := d.cross(b.n).norm()
			off := o.mul(b.r + rb + 0.5)
			ts.add(seg{a: b.p.add(off), b: end.add(off), ra: rb, rb: rb * 0.97, grp: grpAirway, lumen: (rb - wall) / rb, wallMin: wall})
			nseg++
		}
		if r1 < treeRMin*1.15 {
			continue
		}
		// Bifurcation (Murray's law: r^3 = r1^3 + r2^3) with angles from
		// the minimum-work optimum.
		alpha := scalar.Lerp(0.5, 0.88, rnd())
		r0 := b.r
		ra := r0 * math.Cbrt(alpha)
		rb := r0 * math.Cbrt(1-alpha)
		cos1 := (math.Pow(r0, 4) + math.Pow(ra, 4) - math.Pow(rb, 4)) / (2 * r0 * r0 * ra * ra)
		cos2 := (math.Pow(r0, 4) + math.Pow(rb, 4) - math.Pow(ra, 4)) / (2 * r0 * r0 * rb * rb)
		th1 := math.Acos(scalar.Clamp(cos1, -1, 1)) + 0.1*(rnd()-0.5)
		th2 := math.Acos(scalar.Clamp(cos2, -1, 1)) + 0.2*(rnd()-0.5)
		// Try three orientations of the bifurcation plane; keep the one
		// whose children have the most room.
		best, bestScore := vec{}, math.Inf(1)
		var bd1, bd2 vec
		for k := 0; k < 3; k++ {
			rot := math.Pi/2 + (float64(k)-1)*0.6 + 0.3*(rnd()-0.5)
			n := rotateAbout(b.n, d, rot).norm()
			d1 := rotateAbout(d, n, th1).norm()
			d2 := rotateAbout(d, n, -th2).norm()
			s := an.lungSD(end.add(d1.mul(ra*8))) + an.lungSD(end.add(d2.mul(rb*8)))
			if s < bestScore {
				best, bestScore, bd1, bd2 = n, s, d1, d2
			}
		}
		queue = append(queue,
			branch{p: end, d: bd1, n: best, r: ra, id: scalar.Hash64(b.id*2 + 1), airway: b.airway, grp: b.grp, depth: b.depth + 1},
			branch{p: end, d: bd2, n: best, r: rb, id: scalar.Hash64(b.id*2 + 2), airway: b.airway, grp: b.grp, depth: b.depth + 1},
		)
	}
	_ = a
	ts.index()
}

// lungGrad returns the (unit) gradient of the lung distance at p.
func (an *anatomy) lungGrad(p vec) vec {
	const h = 1.5
	gx := an.lungSD(p.add(vec{h, 0, 0})) - an.lungSD(p.add(vec{-h, 0, 0}))
	gy := an.lungSD(p.add(vec{0, h, 0})) - an.lungSD(p.add(vec{0, -h, 0}))
	gz := an.lungSD(p.add(vec{0, 0, h})) - an.lungSD(p.add(vec{0, 0, -h}))
	return vec{gx, gy, gz}.norm()
}
