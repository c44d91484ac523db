package phantom

import (
	"math"
	"math/rand/v2"

	"sscscore/model/internal/scalar"
)

// sect is a horizontal cross-section: a superellipse centred at (cx, cy)
// with half width a, half depths bF (front, y < cy) and bB (back), their
// exponents, and a flare that widens the back.
type sect struct {
	cx, cy, a, bF, bB, pF, pB, flare float64
}

// sd returns an approximate signed distance (mm) from (x, y).
func (s *sect) sd(x, y float64) float64 {
	dy := y - s.cy
	b, p := s.bB, s.pB
	if dy < 0 {
		b, p = s.bF, s.pF
	}
	a := s.a * (1 + s.flare*scalar.Clamp(dy/b, -1, 1))
	u := math.Abs(x-s.cx) / a
	v := math.Abs(dy) / b
	if u < 1e-9 && v < 1e-9 {
		return -math.Min(a, b)
	}
	lu, lv := math.Log(u+1e-12), math.Log(v+1e-12)
	up, vp := math.Exp(p*lu), math.Exp(p*lv)
	sum := up + vp
	F := math.Exp(math.Log(sum) / p)
	// |grad F| = F^(1-p) * |(u^(p-1)/a, v^(p-1)/b)|
	g1 := up / (u + 1e-12) / a
	g2 := vp / (v + 1e-12) / b
	gm := F / sum * math.Hypot(g1, g2)
	return (F - 1) / gm
}

// boundary returns the point of the section at angle th from the back
// midline (0 = posterior midline, pi/2 = the side's lateral point, pi =
// anterior midline), on side s (-1 right, +1 left).
func (s *sect) boundary(side, th float64) (x, y float64) {
	c, sn := math.Cos(th), math.Sin(th)
	b, p := s.bB, s.pB
	if c < 0 {
		b, p = s.bF, s.pF
	}
	ey := math.Copysign(math.Pow(math.Abs(c), 2/p), c)
	a := s.a * (1 + s.flare*scalar.Clamp(ey, -1, 1))
	x = s.cx + side*a*math.Pow(math.Abs(sn), 2/p)
	y = s.cy + b*ey
	return
}

// vertebra is one vertebral body with its disc below.
type vertebra struct {
	zc, hh float64 // centre and half height of the body
	a, b   float64 // body semi-axes (x, y)
	lumbar bool
	ribs   bool
	canalR float64
}

// heartModel holds the heart: the left and right atria, the ventricular
// mass (both ventricles with the septum) and the four blood pools.
type heartModel struct {
	la, ra, vent       ellipsoid // outer (myocardial) surfaces
	lac, rac, lvc, rvc ellipsoid // blood pools
	fat                float64   // epicardial fat thickness
	base, apex         vec
}

// myo returns the signed distance to the outer myocardial surface.
func (h *heartModel) myo(p vec) float64 {
	d1, _ := h.la.sd(p)
	d2, _ := h.ra.sd(p)
	d3, _ := h.vent.sd(p)
	return smin(smin(d1, d2, 10), d3, 24)
}

// zRange returns the z extent of the heart.
func (h *heartModel) zRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, e := range []*ellipsoid{&h.la, &h.ra, &h.vent} {
		a, b := e.zRange()
		lo, hi = math.Min(lo, a), math.Max(hi, b)
	}
	return lo - h.fat - 2, hi + h.fat + 2
}

// xyBox returns the xy extent of the heart.
func (h *heartModel) xyBox() (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, e := range []*ellipsoid{&h.la, &h.ra, &h.vent} {
		hx, hy := e.xyHalf()
		x0, x1 = math.Min(x0, e.c.X-hx), math.Max(x1, e.c.X+hx)
		y0, y1 = math.Min(y0, e.c.Y-hy), math.Max(y1, e.c.Y+hy)
	}
	m := h.fat + 3
	return x0 - m, y0 - m, x1 + m, y1 + m
}

// organ is an ellipsoidal organ with a wall and contents.
type organ struct {
	e        ellipsoid
	kind     int
	zlo, zhi float64
	hx, hy   float64
}

const (
	orgThyroid = iota
	orgBreast
	orgThymus
	orgStomach
	orgSpleen
	orgKidney
	orgGallbladder
	orgHumHead
)

func newOrgan(e ellipsoid, kind int) organ {
	o := organ{e: e, kind: kind}
	o.zlo, o.zhi = e.zRange()
	o.hx, o.hy = e.xyHalf()
	return o
}

// plate is a bony plate of the scapula: in each slice a thick line from
// the medial to the lateral border.
type scapula struct {
	side       float64
	zTop, zBot float64
	mx, my     float64 // medial border point (top)
	dirX, dirY float64 // unit direction of the blade (lateral-anterior)
	width      float64 // blade width at the top
	thick      float64
}

// anatomy is the built geometry of a phantom (everything but the
// peripheral vessel trees).
type anatomy struct {
	a   *Anatomy
	rng *rand.Rand

	verts  []vertebra
	heart  heartModel
	tubes  tubeSet // large tubes (mediastinum, bones)
	trees  tubeSet // peripheral vessel and airway trees (built lazily)
	organs []organ
	scaps  []scapula

	// diaphragm surface height on a local grid
	dg struct {
		x0, y0, h float64
		nx, ny    int
		z, g      []float64 // height and 1/sqrt(1+|grad|^2)
	}
	rightDomeTop float64
	// major fissures (right, left): planes n.p = c
	fiss struct {
		n [2]vec
		c [2]float64
	}
	caps [2]struct{ e ellipsoid }

	// trachea and bronchi
	carinaP    vec
	trachTop   float64
	bronchi    [][2]vec // main bronchi axes (start, end) for the carina test
	bronchR    [2]float64
	lumenTrach float64

	archTop float64
	laZ     float64
	levels  [5]float64

	// sternum
	zJug, zAngle, zXiph, zXiphEnd float64

	// tree roots
	roots []treeRoot

	// thymic fat and other envelope ellipsoids
	envEll []ellipsoid

	lesions  []lesion
	severity float64
	growth   float64 // lesion size factor (1 + Options.Growth)

	env      tubeSet    // envelope members of tubes, for the lung surface
	rpa, lpa []vec      // right and left pulmonary artery centre lines
	paR      [2]float64 // their end radii
}

// yVB returns the y of the vertebral body centres at z (kyphosis).
func (an *anatomy) yVB(z float64) float64 {
	a := an.a
	zMid := a.ZT5 - 2*a.VertPitch
	u := (z - zMid) / 130
	return a.YVB - a.Kyphosis*u*u
}

// trachY returns the trachea centre at z (above the carina).
func (an *anatomy) trachXY(z float64) (x, y float64) {
	a := an.a
	y = an.yVB(z) - a.TrachGap - 0.12*(z-a.ZL2)
	x = -1.5 - 2.5*math.Exp(-sq((z-a.ZL1)/25))
	return
}

func sq(x float64) float64 { return x * x }

// bodySect returns the body outline at z.
func (an *anatomy) bodySect(z float64) sect {
	a := an.a
	w, df, db := a.BodyW, a.BodyD, a.BodyD
	// Upper chest: thinner front; shoulders above the apex.
	if z > a.ZL2 {
		t := scalar.Clamp((z-a.ZL2)/(a.ZShoulder-a.ZL2), 0, 1.4)
		df = a.BodyD * (1 - 0.22*t)
		ws := 0.94
		if a.ArmsDown {
			ws = 1.06
		}
		w = a.BodyW * scalar.Lerp(1, ws, smoothstep(0, 1, t))
	}
	// Neck above the shoulders.
	if z > a.ZShoulder {
		t := smoothstep(a.ZShoulder, a.ZShoulder+30, z)
		nr := 0.38 * a.BodyW
		w = scalar.Lerp(w, nr, t)
		df = scalar.Lerp(df, nr*0.9, t)
		db = scalar.Lerp(db, nr*0.9+0.15*a.BodyD, t)
	}
	// Lower chest and upper abdomen.
	if z < a.ZL3 {
		t := smoothstep(a.ZL3, a.ZDomeR-70, z)
		w = scalar.Lerp(w, a.AbdW, t)
		df = scalar.Lerp(df, 2*a.AbdD-a.BodyD, t)
	}
	return sect{cx: 0, cy: 0, a: w, bF: df, bB: db, pF: a.FrontExp, pB: a.BackExp}
}

// muscleSect returns the outline inside the subcutaneous fat.
func (an *anatomy) muscleSect(z float64) sect {
	a := an.a
	s := an.bodySect(z)
	fl, fa, fp := a.FatLat, a.FatAnt, a.FatPost
	if z > a.ZShoulder {
		t := smoothstep(a.ZShoulder, a.ZShoulder+30, z)
		fl, fa, fp = scalar.Lerp(fl, 4, t), scalar.Lerp(fa, 4, t), scalar.Lerp(fp, 5, t)
	}
	if z < a.ZL3 {
		// more abdominal fat
		t := smoothstep(a.ZL3, a.ZDomeR-70, z)
		fa = scalar.Lerp(fa, fa*1.4, t)
		fl = scalar.Lerp(fl, fl*1.2, t)
	}
	s.a -= fl
	s.bF -= fa
	s.bB -= fp
	return s
}

// cavSect returns the inside of the rib cage (the thoracic cavity, and the
// abdominal cavity below the diaphragm).
func (an *anatomy) cavSect(z float64) sect {
	a := an.a
	m := an.muscleSect(z)
	front := -m.bF + a.WallAnt
	back := an.yVB(z) + an.a.Gutter
	w := a.CavW
	if z > a.ZL2 {
		t := scalar.Clamp((z-a.ZL2)/(a.ZApex-a.ZL2), 0, 1.3)
		w *= 1 - 0.36*math.Pow(t, 1.7)
		front += 18 * math.Pow(scalar.Clamp(t, 0, 1.2), 1.5) // thoracic inlet slopes forward-down
	}
	if z < a.ZL3 {
		t := smoothstep(a.ZL3, a.ZDomeR, z)
		w *= 1 + 0.04*t
	}
	// Keep the lateral chest wall at least its thickness.
	w = math.Min(w, m.a-8)
	cy := (front + back) / 2
	hb := (back - front) / 2
	// Above the lung apices the cavity narrows to the visceral space of
	// the neck (trachea, oesophagus, thyroid, vessels); the rest is muscle.
	if z > a.ZApex {
		t := smoothstep(a.ZApex, a.ZApex+25, z)
		_, ty := an.trachXY(z)
		w = scalar.Lerp(w, 34, t)
		cy = scalar.Lerp(cy, ty+6, t)
		hb = scalar.Lerp(hb, 24, t)
	}
	return sect{cx: 0, cy: cy, a: w, bF: hb, bB: hb, pF: a.CavExp, pB: a.CavExp + 0.25, flare: a.CavFlare}
}

// diaph returns the height of the diaphragm surface at local (x, y) and
// cos of its slope, interpolated from the grid.
func (an *anatomy) diaph(x, y float64) (float64, float64) {
	d := &an.dg
	fx := (x - d.x0) / d.h
	fy := (y - d.y0) / d.h
	fx = scalar.Clamp(fx, 0, float64(d.nx-1)-1e-6)
	fy = scalar.Clamp(fy, 0, float64(d.ny-1)-1e-6)
	i, j := int(fx), int(fy)
	tx, ty := fx-float64(i), fy-float64(j)
	k := j*d.nx + i
	z := scalar.Lerp(scalar.Lerp(d.z[k], d.z[k+1], tx), scalar.Lerp(d.z[k+d.nx], d.z[k+d.nx+1], tx), ty)
	g := scalar.Lerp(scalar.Lerp(d.g[k], d.g[k+1], tx), scalar.Lerp(d.g[k+d.nx], d.g[k+d.nx+1], tx), ty)
	return z, g
}

// diaphParams holds the constants of the diaphragm surface.
type diaphParams struct {
	front, back, yR, aw, bw float64
}

func (an *anatomy) diaphParams() diaphParams {
	a := an.a
	c := an.cavSect(a.ZL3)
	return diaphParams{front: c.cy - c.bF, back: c.cy + c.bB, yR: c.cy - 0.12*c.bF, aw: 0.52 * a.CavW, bw: 0.78 * c.bF}
}

// diaphRaw is the analytic diaphragm height: two domes (the right one
// higher) joined smoothly over the central tendon, never below the
// costophrenic recesses, which are deeper at the back.
func (an *anatomy) diaphRaw(x, y float64, q *diaphParams) float64 {
	a := an.a
	rr := sq((x+0.42*a.CavW)/q.aw) + sq((y-q.yR)/q.bw)
	rl := sq((x-0.44*a.CavW)/q.aw) + sq((y-q.yR)/q.bw)
	zr := a.ZDomeR - 30*(rr+0.35*rr*rr)
	zl := a.ZDomeL - 30*(rl+0.35*rl*rl)
	z := smax(zr, zl, 18)
	floor := a.ZDomeR - a.RecessAnt - (a.RecessPost-a.RecessAnt)*smoothstep(q.front, q.back, y)
	return math.Max(z, floor)
}

func (an *anatomy) buildDiaph() {
	d := &an.dg
	d.h = 2
	d.x0, d.y0 = -260, -260
	d.nx, d.ny = 261, 261
	d.z = make([]float64, d.nx*d.ny)
	d.g = make([]float64, d.nx*d.ny)
	q := an.diaphParams()
	for j := 0; j < d.ny; j++ {
		for i := 0; i < d.nx; i++ {
			d.z[j*d.nx+i] = an.diaphRaw(d.x0+float64(i)*d.h, d.y0+float64(j)*d.h, &q)
		}
	}
	for j := 0; j < d.ny; j++ {
		for i := 0; i < d.nx; i++ {
			i0, i1 := max(i-1, 0), min(i+1, d.nx-1)
			j0, j1 := max(j-1, 0), min(j+1, d.ny-1)
			gx := (d.z[j*d.nx+i1] - d.z[j*d.nx+i0]) / (float64(i1-i0) * d.h)
			gy := (d.z[j1*d.nx+i] - d.z[j0*d.nx+i]) / (float64(j1-j0) * d.h)
			d.g[j*d.nx+i] = 1 / math.Sqrt(1+gx*gx+gy*gy)
		}
	}
	// Right dome top: the highest point right of the midline.
	top := math.Inf(-1)
	for j := 0; j < d.ny; j++ {
		for i := 0; i < d.nx; i++ {
			if d.x0+float64(i)*d.h < -10 {
				top = math.Max(top, d.z[j*d.nx+i])
			}
		}
	}
	an.rightDomeTop = top
}

// diaphSD returns the signed distance to the half space below the
// diaphragm surface (positive below it, i.e. outside the lungs).
func (an *anatomy) diaphSD(x, y, z float64) float64 {
	zd, g := an.diaph(x, y)
	return (zd - z) * g
}

// capSD returns the signed distance to the lung apex of one side: the
// upper half of an ellipsoid whose equator is wider than the lung, so that
// it shapes only the dome of the apex.
func (an *anatomy) capSD(side, x, y, z float64) float64 {
	i := 0
	if side > 0 {
		i = 1
	}
	c := &an.caps[i]
	if z <= c.e.c.Z {
		return -big
	}
	d, _ := c.e.sd(vec{x, y, z})
	return d
}

func (an *anatomy) buildCaps() {
	a := an.a
	c := an.cavSect(a.ZL2)
	for i, side := range []float64{-1, 1} {
		top := a.ZApex
		if side < 0 {
			top += 2
		}
		h := a.ApexH
		an.caps[i].e = axisEllipsoid(vec{side * 0.5 * c.a, c.cy + 0.15*c.bB, top - h}, 0.6*c.a, 0.8*c.bB, h)
	}
}

// splitX is the x of the line where the two lungs meet (the anterior and
// posterior junction lines).
func (an *anatomy) splitX(y float64) float64 { return 4 - 0.02*y }

// build constructs the anatomy of a.
func buildAnatomy(a *Anatomy, rng *rand.Rand) *anatomy {
	an := &anatomy{a: a, rng: rng}
	an.buildSpine()
	an.buildCaps()
	an.buildDiaph()
	an.buildHeart()
	an.buildFissures()
	an.buildAirways()
	an.buildVessels()
	an.buildBones()
	an.buildOrgans()
	for _, s := range an.tubes.segs {
		if s.env {
			an.env.segs = append(an.env.segs, s)
		}
	}
	an.env.index()
	an.clearRibs()
	an.tubes.index()
	an.computeLevels()
	return an
}

func (an *anatomy) buildSpine() {
	a := an.a
	rng := an.rng
	// T1..T12, L1..L4: index 0 = T1. Pitch grows down the spine.
	z := a.ZT5 + 4*a.VertPitch*0.94
	for k := 0; k < 16; k++ {
		pitch := a.VertPitch * (0.86 + 0.028*float64(k))
		if k >= 12 {
			pitch = a.VertPitch * 1.28
		}
		disc := 0.2 * pitch
		if k >= 12 {
			disc = 0.28 * pitch
		}
		v := vertebra{
			zc: z, hh: (pitch - disc) / 2,
			a:      15 + 0.75*float64(k) + uni(rng, -1, 1),
			b:      12.5 + 0.5*float64(k) + uni(rng, -1, 1),
			lumbar: k >= 12, ribs: k < 12,
			canalR: 8,
		}
		an.verts = append(an.verts, v)
		next := a.VertPitch * (0.86 + 0.028*float64(k+1))
		if k+1 >= 12 {
			next = a.VertPitch * 1.28
		}
		z -= (pitch + next) / 2
	}
	// Cervical vertebrae C7 up to C4 above T1 (listed after the others so
	// that verts[k] stays T(k+1) for the ribs).
	t1 := an.verts[0]
	pc := 0.72 * a.VertPitch
	zc := t1.zc + t1.hh + 0.2*pc + pc/2
	for k := 0; k < 4; k++ {
		an.verts = append(an.verts, vertebra{zc: zc, hh: 0.38 * pc, a: 12.5 + uni(rng, -1, 1), b: 9 + uni(rng, -0.5, 0.5), canalR: 8.5})
		zc += pc
	}
	// Posterior elements: spinous processes sloping down over the next
	// level, and transverse processes (the neural arch is drawn per slice).
	for _, v := range an.verts {
		y := an.yVB(v.zc)
		yc := y + v.b + v.canalR + 1 // canal centre
		zt := v.zc + 0.3*v.hh
		lam := vec{0, yc + v.canalR + 4, zt}
		sp, drop := 30.0, 0.95*a.VertPitch
		if v.lumbar {
			sp, drop = 32, 0.2*a.VertPitch
		}
		an.tubes.chain([]vec{lam, {0, lam.Y + sp*0.6, zt - drop*0.5}, {0, lam.Y + sp, zt - drop}}, []float64{4.5, 4.5, 4}, grpBone, false, 0.4, 1.5)
		for _, s := range []float64{-1, 1} {
			root := vec{s * (v.canalR + 4), yc, zt}
			tipX := s * (v.a + 14)
			if v.lumbar {
				tipX = s * (v.a + 24)
			}
			tip := vec{tipX, yc + 9, zt - 1}
			an.tubes.chain([]vec{root, tip}, []float64{5, 4.5}, grpBone, false, 0.4, 1.5)
		}
	}
}

// buildFissures places the major (oblique) fissures: from the back at
// about the level of the carina down and forward to the anterior
// diaphragm, their lateral parts further back.
func (an *anatomy) buildFissures() {
	a := an.a
	rng := an.rng
	c := an.cavSect(a.ZL3)
	for s, side := range []float64{-1, 1} {
		yb, yf := c.cy+c.bB, c.cy-c.bF+uni(rng, 25, 45)
		zb := a.ZL2 + uni(rng, -5, 20)
		zf := a.ZDomeR + uni(rng, -15, 5)
		if side > 0 {
			zb += uni(rng, 0, 15) // the left fissure starts higher
		}
		// plane through (0, yb, zb) and (0, yf, zf), tilted so that its
		// lateral part lies further back
		t := vec{0, yf - yb, zf - zb}.norm()
		lat := vec{1, 0.45 * side, 0}.norm()
		n := lat.cross(t).norm()
		an.fiss.n[s] = n
		an.fiss.c[s] = n.dot(vec{0, yb, zb})
	}
}

// clearRibs moves every rib and costal cartilage point out of the lungs
// (the necks of the ribs must pass behind the paravertebral gutters),
// keeping a pleural gap.
func (an *anatomy) clearRibs() {
	for i := range an.tubes.segs {
		s := &an.tubes.segs[i]
		if s.grp != grpRib && s.grp != grpCart {
			continue
		}
		s.a = an.pushOut(s.a, s.ra+1.5)
		s.b = an.pushOut(s.b, s.rb+1.5)
		s.finish()
	}
}

// pushOut moves p along the lung distance gradient until it is at least
// m mm outside the lungs.
func (an *anatomy) pushOut(p vec, m float64) vec {
	for it := 0; it < 8; it++ {
		d := an.lungSD(p)
		if d >= m {
			return p
		}
		g := an.lungGrad(p)
		g.Z = 0
		g = g.norm()
		p = p.add(g.mul(m - d + 0.5))
	}
	return p
}

// vertAt returns the vertebra whose body or lower disc contains z.
func (an *anatomy) vertAt(z float64) (int, bool) {
	for i := range an.verts {
		v := &an.verts[i]
		if z <= v.zc+v.hh+0.5 && z >= v.zc-v.hh-0.5 {
			return i, true
		}
	}
	return -1, false
}

func (an *anatomy) buildHeart() {
	a := an.a
	rng := an.rng
	s := a.HeartScale
	h := &an.heart
	id := [3]vec{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}
	zMid := (a.ZL3 + a.ZDomeR) / 2
	c := an.cavSect(zMid)
	front := c.cy - c.bF
	yv := an.yVB(a.ZL3)
	vbB := 14.0
	if i, ok := an.vertAt(a.ZL3); ok {
		vbB = an.verts[i].b
	}
	// Left atrium: posterior, in front of the oesophagus and the spine, at L3.
	laR := [3]float64{31 * s, 19 * s, 21 * s}
	la := vec{4 + 0.3*a.HeartShift, yv - vbB - 9 - laR[1], a.ZL3}
	h.la = newEllipsoid(la, laR, id)
	h.lac = newEllipsoid(la, [3]float64{laR[0] - 2.5, laR[1] - 2.5, laR[2] - 2.5}, id)
	// Ventricles: from the base (atrioventricular plane, in front of the
	// left atrium) to the apex, which lies left, anterior and low on the
	// left dome.
	B := vec{la.X - 8, la.Y - laR[1] - 12, a.ZL3 - 14}
	ax := 0.55*c.a + 0.5*a.HeartShift
	ay := front + uni(rng, 14, 24)
	zd, _ := an.diaph(ax, ay)
	A := vec{ax, ay, zd + 10}
	u := A.sub(B).norm()
	L := A.sub(B).len()
	w := u.cross(vec{0, 0, 1}).norm() // horizontal, perpendicular to the long axis
	if w.Y < 0 {
		w = w.mul(-1) // points backwards
	}
	v := w.cross(u).norm()
	M := B.add(u.mul(L * 0.5))
	semW := math.Min(46*s, (M.Y-front)*1.02/math.Max(0.3, math.Abs(w.Y)))
	semV := 41 * s
	h.vent = newEllipsoid(M, [3]float64{L/2 + 12, semW, semV}, [3]vec{u, w, v})
	h.lvc = newEllipsoid(M.add(u.mul(5)).add(w.mul(0.25*semW)), [3]float64{L/2 + 2, 0.48 * semW, 0.5 * semV}, [3]vec{u, w, v})
	h.rvc = newEllipsoid(M.sub(u.mul(4)).sub(w.mul(0.58*semW)), [3]float64{L/2 - 2, 0.3 * semW, 0.8 * semV}, [3]vec{u, w, v})
	// Right atrium: right of the ventricles, down to the diaphragm.
	raH := math.Max(30, (a.ZL3-a.ZDomeR)/2+12)
	ra := vec{B.X - 0.24*c.a - 8, B.Y + 6, zMid - 4}
	h.ra = newEllipsoid(ra, [3]float64{27 * s, 27 * s, raH}, id)
	h.rac = newEllipsoid(ra, [3]float64{25 * s, 25 * s, raH - 2}, id)
	h.fat = uni(rng, 1.5, 6)
	h.base, h.apex = B, A
	an.laZ = a.ZL3
}

func (an *anatomy) buildAirways() {
	a := an.a
	rng := an.rng
	rt := a.TrachR
	wall := 1.6
	lumen := (rt - wall) / rt
	an.lumenTrach = rt - wall
	// Main bronchi: the right one steeper, shorter and wider.
	rR, rL := rt*uni(rng, 0.72, 0.8), rt*uni(rng, 0.62, 0.7)
	angR := uni(rng, 20, 32) * math.Pi / 180
	angL := uni(rng, 38, 52) * math.Pi / 180
	dR := vec{-math.Sin(angR), 0.18, -math.Cos(angR)}.norm()
	dL := vec{math.Sin(angL), 0.22, -math.Cos(angL)}.norm()
	// Depth below the bifurcation point at which the lumens part (see
	// computeLevels); used to put the carina near the sampled level.
	lr, ll := rR-wall*0.8, rL-wall*0.8
	est := (lr/math.Abs(dR.Z) + ll/math.Abs(dL.Z)) / (math.Abs(dR.X/dR.Z) + math.Abs(dL.X/dL.Z))
	est = math.Max(est, an.lumenTrach*0.9)
	px, py := an.trachXY(a.ZL2 + est)
	P := vec{px, py, a.ZL2 + est}
	an.carinaP = P
	an.bronchR = [2]float64{rR, rL}
	// Trachea from above the scan down to P.
	var ctrl []vec
	for z := a.ZApex + 160; z > P.Z+1; z -= 20 {
		x, y := an.trachXY(z)
		ctrl = append(ctrl, vec{x, y, z})
	}
	ctrl = append(ctrl, P)
	an.tubes.spline(ctrl, rt, rt*0.97, 3, grpAirway, true, lumen, wall)
	an.trachTop = ctrl[0].Z
	wb := 1.3
	rmbLen := uni(rng, 16, 24)
	lmbLen := uni(rng, 40, 50)
	rmbEnd := P.add(dR.mul(rmbLen))
	lmbEnd := P.add(dL.mul(lmbLen))
	an.tubes.chain([]vec{P, rmbEnd}, []float64{rR, rR * 0.92}, grpAirway, true, (rR-wb)/rR, wb)
	// Left main bronchus curves slightly down under the arch.
	lmid := P.add(dL.mul(lmbLen * 0.5)).add(vec{0, 2, 1})
	an.tubes.chain([]vec{P, lmid, lmbEnd}, []float64{rL, rL * 0.95, rL * 0.9}, grpAirway, true, (rL-wb)/rL, wb)
	an.bronchi = [][2]vec{{P, rmbEnd}, {P, lmid}}

	// Lobar bronchi (airway + tree roots).
	lob := func(from vec, dir vec, r, l float64, side float64, lobe int, env bool) vec {
		dir = dir.norm()
		end := from.add(dir.mul(l))
		an.tubes.chain([]vec{from, end}, []float64{r, r * 0.92}, grpAirway, env, (r-1.1)/r, 1.0)
		an.roots = append(an.roots, treeRoot{p: end, d: dir, r: r * 0.92, side: side, airway: true, lobe: lobe})
		return end
	}
	// Right: upper lobe, bronchus intermedius -> middle, lower.
	lob(rmbEnd, vec{-0.85, 0.1, 0.5}, rR*0.75, 12, -1, lobeRUL, true)
	biEnd := rmbEnd.add(vec{-0.22, 0.22, -1}.norm().mul(uni(rng, 20, 28)))
	an.tubes.chain([]vec{rmbEnd, biEnd}, []float64{rR * 0.85, rR * 0.8}, grpAirway, true, (rR*0.85-1.2)/(rR*0.85), 1.2)
	lob(biEnd, vec{-0.35, -0.85, -0.35}, rR*0.55, 12, -1, lobeRML, false)
	lob(biEnd, vec{-0.25, 0.35, -1}, rR*0.8, 12, -1, lobeRLL, false)
	// Left: upper lobe, lingula, lower lobe.
	lulEnd := lob(lmbEnd, vec{0.55, -0.35, 0.6}, rL*0.85, 10, 1, lobeLUL, true)
	_ = lulEnd
	lob(lmbEnd, vec{0.45, -0.8, -0.35}, rL*0.6, 14, 1, lobeLing, false)
	lob(lmbEnd, vec{0.25, 0.35, -1}, rL*0.9, 14, 1, lobeLLL, false)
}

// Lobes (for the tree roots).
const (
	lobeRUL = iota
	lobeRML
	lobeRLL
	lobeLUL
	lobeLing
	lobeLLL
)

func (an *anatomy) buildVessels() {
	a := an.a
	rng := an.rng
	yvb := an.yVB
	tx, ty := an.trachXY(a.ZL1)
	_ = tx
	h := &an.heart
	// Aorta: root in the heart, ascending right-anterior, arch over the left
	// main bronchus with its top at L1, descending left of the spine.
	rA, rArch, rD := a.AscR, a.ArchR, a.DescR
	archTopZ := a.ZL1 - rArch
	B := an.heart.base
	root := vec{B.X + 2, B.Y - 4, B.Z + 6}
	aCtrl := []vec{
		root,
		{-6, ty - 40, a.ZL3 + 12},
		{-14, ty - 38, a.ZL2 - 2},
		{-12, ty - 32, archTopZ - 14},
		{-2, ty - 22, archTopZ - 3},
		{9, ty - 9, archTopZ},
		{20, ty + 6, archTopZ - 5},
		{25, yvb(archTopZ-25) - 24, archTopZ - 24},
		{24, yvb(a.ZL3) - 21, a.ZL3},
		{14, yvb(a.ZDomeR-20) - 24, a.ZDomeR - 20},
		{4, yvb(a.ZDomeR-140) - 26, a.ZDomeR - 140},
		{2, yvb(a.ZDomeR-260) - 28, a.ZDomeR - 260},
	}
	pts := catmull(aCtrl, 6)
	rs := make([]float64, len(pts))
	for i, p := range pts {
		// radius: ascending -> arch -> descending
		switch {
		case i < 3*6:
			rs[i] = rA
		case i < 6*6:
			rs[i] = scalar.Lerp(rA, rArch, float64(i-18)/18)
		case i < 8*6:
			rs[i] = scalar.Lerp(rArch, rD, float64(i-36)/12)
		default:
			rs[i] = rD * (1 - 0.1*scalar.Clamp((a.ZDomeR-p.Z)/150, 0, 1))
		}
	}
	an.tubes.chain(pts, rs, grpAorta, true, 0, 0)
	// Arch samples for the truth (the outer top).
	an.archTop = math.Inf(-1)
	var apex vec
	for i, p := range pts {
		if p.Z+rs[i] > an.archTop {
			an.archTop = p.Z + rs[i]
			apex = p
		}
	}
	zt := an.archTop
	topZ := a.ZApex + 160
	// Great vessels arise from the top of the arch.
	bct := []vec{apex.add(vec{-12, -12, -rArch * 0.5}), {-10, ty - 26, zt + 8}, {-15, ty - 22, zt + 28}}
	an.tubes.spline(bct, 7, 6.2, 4, grpAorta, true, 0, 0)
	bTop := bct[2]
	// right subclavian over the apex to the arm, right common carotid up
	an.tubes.spline([]vec{bTop, {-32, ty - 14, zt + 40}, {-62, ty - 4, a.ZApex + 10}, {-a.BodyW + 10, ty - 6, a.ZApex + 4}}, 4.8, 4.3, 5, grpAorta, true, 0, 0)
	an.tubes.spline([]vec{bTop, {-19, ty - 18, zt + 50}, {-24, ty - 14, topZ}}, 4.2, 3.8, 4, grpAorta, true, 0, 0)
	lcca := []vec{apex.add(vec{0, -4, -rArch * 0.4}), {7, ty - 18, zt + 10}, {16, ty - 16, zt + 45}, {22, ty - 14, topZ}}
	an.tubes.spline(lcca, 4.4, 3.8, 4, grpAorta, true, 0, 0)
	lsca := []vec{apex.add(vec{11, 10, -rArch * 0.5}), {20, ty + 2, zt + 10}, {27, ty + 4, zt + 30}, {58, ty + 6, a.ZApex + 12}, {a.BodyW - 10, ty - 2, a.ZApex + 6}}
	an.tubes.spline(lsca, 5, 4.3, 5, grpAorta, true, 0, 0)

	// Veins: brachiocephalic veins, SVC into the right atrium, jugulars.
	svcR := uni(rng, 8, 11)
	raTop := an.heart.ra.c.add(vec{0, 0, an.heart.ra.r[2] - 8})
	svcTop := vec{-30, ty - 30, zt + 4}
	an.tubes.spline([]vec{svcTop, {-32, ty - 33, a.ZL2 - 5}, raTop}, svcR, svcR, 5, grpSysVein, true, 0, 0)
	an.tubes.spline([]vec{{62, ty - 26, zt + 42}, {30, ty - 36, zt + 24}, {0, ty - 40, zt + 14}, svcTop}, 5.5, 6.5, 5, grpSysVein, true, 0, 0)
	an.tubes.spline([]vec{{-60, ty - 20, zt + 48}, {-40, ty - 28, zt + 24}, svcTop}, 6, 7, 4, grpSysVein, true, 0, 0)
	for _, s := range []float64{-1, 1} {
		an.tubes.spline([]vec{{s * 45, ty - 22, zt + 40}, {s * 34, ty - 12, zt + 70}, {s * 32, ty - 8, topZ}}, 6, 6.5, 4, grpSysVein, true, 0, 0)
	}
	// Azygos: up the right side of the spine, arching over the right main
	// bronchus into the SVC.
	yv := yvb(a.ZL2)
	an.tubes.spline([]vec{{-8, yvb(a.ZDomeR-100) - 10, a.ZDomeR - 100}, {-9, yvb(a.ZL3) - 12, a.ZL3}, {-10, yv - 12, a.ZL2 + 8}, {-22, ty + 6, a.ZL2 + 16}, {-31, ty - 24, a.ZL2 + 12}}, 3.5, 5, 5, grpSysVein, true, 0, 0)
	// IVC from the abdomen into the right atrium.
	raBot := an.heart.ra.c.add(vec{0, 4, -an.heart.ra.r[2] + 10})
	an.tubes.spline([]vec{{-20, yvb(a.ZDomeR-200) - 28, a.ZDomeR - 200}, {-22, yvb(a.ZDomeR-60) - 34, a.ZDomeR - 60}, {-26, yvb(a.ZDomeR) - 38, a.ZDomeR - 10}, raBot}, 11, 12, 5, grpIVC, true, 0, 0)

	// Pulmonary trunk from the right ventricular outflow, bifurcating just
	// below the carina; right and left pulmonary arteries to the hila.
	pr := a.PAR
	rvot := an.heart.rvc.c.add(vec{6, -2, 16})
	bif := vec{10, ty - 26, a.ZL2 - uni(rng, 3, 14)}
	an.tubes.spline([]vec{rvot, {16, ty - 46, (rvot.Z + bif.Z) / 2}, bif}, pr, pr, 5, grpPA, true, 0, 0)
	rpa := pr * uni(rng, 0.72, 0.8)
	lpa := pr * uni(rng, 0.7, 0.78)
	an.rpa = []vec{bif, {-10, ty - 16, bif.Z - 3}, {-34, ty - 8, bif.Z - 6}, {-50, ty + 2, bif.Z - 12}}
	an.tubes.spline(an.rpa, rpa, rpa*0.9, 5, grpPA, true, 0, 0)
	an.lpa = []vec{bif, {28, ty - 10, bif.Z + 5}, {44, ty + 8, bif.Z + 3}, {52, ty + 22, bif.Z - 12}}
	an.tubes.spline(an.lpa, lpa, lpa*0.9, 5, grpPA, true, 0, 0)
	an.paR = [2]float64{rpa * 0.9, lpa * 0.9}

	// Pulmonary veins: four trunks entering the left atrium at L3.
	type pv struct {
		ost, mid, out vec
		dir           vec
		side          float64
	}
	lac := an.heart.la.c
	lr := an.heart.la.r
	pvs := make([]pv, 0, 4)
	for _, side := range []float64{-1, 1} {
		for _, sup := range []float64{1, -1} {
			dy := -4.0
			if sup < 0 {
				dy = 7
			}
			ost := lac.add(vec{side * (lr[0] - 3), dy, sup * 8})
			mid := ost.add(vec{side * 20, dy * 0.8, sup * 6})
			out := ost.add(vec{side * 36, dy * 1.2, sup * 11})
			dir := vec{side * 0.6, dy / 10, sup * 0.75}
			pvs = append(pvs, pv{ost, mid, out, dir, side})
		}
	}
	for i, v := range pvs {
		r := uni(rng, 6, 8)
		an.tubes.spline([]vec{v.ost, v.mid, v.out}, r, r*0.9, 4, grpPV, true, 0, 0)
		an.roots = append(an.roots, treeRoot{p: v.out, d: v.dir.norm(), r: r * 0.85, side: v.side, vein: true, lobe: i})
	}
	_ = h

	// Esophagus: behind the trachea, left of midline, in front of the
	// spine, to the stomach under the left dome.
	var ectrl []vec
	for z := a.ZApex + 160; z > a.ZL3-10; z -= 25 {
		x, y := an.trachXY(z)
		ectrl = append(ectrl, vec{x + 5, math.Min(y+a.TrachR+7, yvb(z)-a.TrachR-3), z})
	}
	ectrl = append(ectrl, vec{10, yvb(a.ZDomeR) - 28, a.ZDomeR}, vec{30, yvb(a.ZDomeL-30) - 34, a.ZDomeL - 30})
	// A patulous, air-filled oesophagus is common in systemic sclerosis.
	er, lum := 8.0, 0.25
	if a.EsoDilated {
		er, lum = uni(rng, 11, 16), 0.7
	}
	an.tubes.spline(ectrl, er, er*1.05, 3, grpEso, true, lum, 3)
}

func (an *anatomy) buildBones() {
	a := an.a
	rng := an.rng
	// Sternum: manubrium from the jugular notch, body to the xiphoid.
	an.zJug = a.ZL1 + uni(rng, 8, 32)
	an.zAngle = an.zJug - uni(rng, 42, 55)
	an.zXiph = a.ZDomeR + uni(rng, -25, 12)
	an.zXiphEnd = an.zXiph - uni(rng, 25, 45)

	// Ribs: rib k starts at vertebra k, follows the outside of the cavity
	// and descends anteriorly.
	for k := 0; k < 12; k++ {
		v := an.verts[k]
		for _, side := range []float64{-1, 1} {
			z0 := v.zc + v.hh*0.6
			yv := an.yVB(z0)
			// Ribs slope down toward their anterior ends: the front of a
			// mid rib lies 3-4 vertebral levels below its head.
			drop := 50 + 6.5*float64(k)
			thEnd := 2.55 - 0.035*float64(k) // anterior end (rad from the back)
			switch {
			case k == 0:
				drop, thEnd = 28, 2.7
			case k >= 10:
				thEnd = 1.55 + 0.15*float64(11-k)
				drop = 45
			case k >= 7:
				thEnd = 2.3 - 0.08*float64(k-7)
			}
			drop *= uni(rng, 0.85, 1.15)
			r := 4.3
			if k <= 1 {
				r = 5.2
			}
			pts := []vec{{side * (v.a + 2), yv + 4, z0}, {side * (v.a + 15), yv + a.Gutter, z0 + 2}}
			n := 18
			for i := 1; i <= n; i++ {
				t := float64(i) / float64(n)
				th := scalar.Lerp(0.42, thEnd, t)
				z := z0 + 2 - drop*math.Pow(t, 1.4)
				c := an.cavSect(z)
				x, y := c.boundary(side, th)
				// push outward along the normal of the section
				const h = 0.5
				nx := c.sd(x+h, y) - c.sd(x-h, y)
				ny := c.sd(x, y+h) - c.sd(x, y-h)
				nl := math.Hypot(nx, ny)
				off := r + 2 - c.sd(x, y)
				pts = append(pts, vec{x + nx/nl*off, y + ny/nl*off, z})
			}
			rs := make([]float64, len(pts))
			for i := range rs {
				rs[i] = r
			}
			an.tubes.chain(pts, rs, grpRib, false, (r-1.6)/r, 1.2)
			// Costal cartilage to the sternum for ribs 1-10.
			end := pts[len(pts)-1]
			if k < 10 {
				var zs float64
				switch {
				case k == 0:
					zs = an.zJug - 8
				case k < 7:
					zs = scalar.Lerp(an.zAngle, an.zXiph, float64(k-1)/6)
				default:
					zs = an.zXiph - 4
				}
				c := an.cavSect(zs)
				sy := c.cy - c.bF - 6
				sx := side * 14
				if k == 0 {
					sx = side * 20
				}
				var cc []vec
				if k < 7 {
					mid := vec{scalar.Lerp(end.X, sx, 0.5), math.Min(scalar.Lerp(end.Y, sy, 0.5), sy) - 2, scalar.Lerp(end.Z, zs, 0.6)}
					cc = []vec{end, mid, {sx, sy, zs}}
				} else {
					// lower cartilages run up and medially along the costal margin
					c2 := an.cavSect(end.Z + 25)
					mx, my := c2.boundary(side, thEnd+0.25)
					cc = []vec{end, {mx + side*6, my - 4, end.Z + 22}, {side * 22, sy + 6, zs}}
				}
				an.tubes.spline(cc, r*0.95, r*0.9, 4, grpCart, false, 0, 0)
			}
		}
	}
	// Clavicles: from the sternoclavicular joint to the acromion.
	for _, side := range []float64{-1, 1} {
		c := an.cavSect(an.zJug)
		y0 := c.cy - c.bF - 10
		m := an.muscleSect(a.ZShoulder - 10)
		pts := []vec{
			{side * 20, y0, an.zJug + 2},
			{side * 50, y0 - 8, an.zJug + 10},
			{side * 90, y0, an.zJug + 18},
			{side * (m.a - 12), y0 + 30, a.ZShoulder - 8},
		}
		an.tubes.spline(pts, 7.5, 5.5, 5, grpBone, false, 0.6, 1.8)
	}
	// Scapulae.
	for _, side := range []float64{-1, 1} {
		zTop := a.ZShoulder - uni(rng, 5, 15)
		c := an.cavSect(a.ZL2)
		mx, my := c.boundary(side, 0.55)
		sc := scapula{
			side: side, zTop: zTop, zBot: zTop - uni(rng, 135, 165),
			mx: mx + side*4, my: my + 14,
			width: uni(rng, 90, 110), thick: uni(rng, 3, 4.5),
		}
		ang := uni(rng, 0.45, 0.75) // from the x axis toward anterior
		sc.dirX, sc.dirY = side*math.Cos(ang), -math.Sin(ang)
		an.scaps = append(an.scaps, sc)
	}
	// Arms and humeri.
	for _, side := range []float64{-1, 1} {
		m := an.bodySect(a.ZL2)
		if a.ArmsDown {
			ra := uni(rng, 38, 52)
			cx := side * (m.a + ra + uni(rng, 2, 15))
			cy := uni(rng, -10, 25)
			top := vec{side * (m.a + 5), cy, a.ZShoulder - 5}
			pts := []vec{top, {cx, cy, a.ZShoulder - 60}, {cx * 1.02, cy + 10, a.ZL3 - 40}, {cx * 1.05, cy + 5, a.ZDomeR - 200}}
			an.tubes.spline(pts, ra*0.9, ra*0.75, 4, grpArm, false, 0.86, 5)
			head := vec{side * (m.a - 10), cy - 5, a.ZShoulder - 22}
			an.organs = append(an.organs, newOrgan(axisEllipsoid(head, 23, 23, 24), orgHumHead))
			hpts := []vec{head, {cx - side*2, cy + 2, a.ZShoulder - 70}, {cx * 1.02, cy + 10, a.ZL3 - 40}, {cx * 1.05, cy + 5, a.ZDomeR - 180}}
			an.tubes.spline(hpts, 12, 9, 4, grpBone, false, 0.55, 2.5)
		} else {
			// Arms raised: only the proximal humerus and the axillary soft
			// tissue reach into the top of the field.
			ra := uni(rng, 36, 46)
			base := vec{side * (m.a - 10), 5, a.ZShoulder - 30}
			dir := vec{side * 0.45, 0.1, 1}.norm()
			an.tubes.spline([]vec{base, base.add(dir.mul(120))}, ra, ra*0.9, 2, grpArm, false, 0.85, 5)
			head := base.add(dir.mul(22)).add(vec{-side * 8, 0, 0})
			an.organs = append(an.organs, newOrgan(axisEllipsoid(head, 22, 22, 22), orgHumHead))
			an.tubes.spline([]vec{head, head.add(dir.mul(150))}, 11, 10, 2, grpBone, false, 0.55, 2.5)
		}
	}
}

func (an *anatomy) buildOrgans() {
	a := an.a
	rng := an.rng
	tx, ty := an.trachXY(a.ZApex + 30)
	// Thyroid lobes beside the trachea above the thoracic inlet.
	for _, s := range []float64{-1, 1} {
		e := axisEllipsoid(vec{tx + s*(a.TrachR+9), ty + 2, a.ZApex + uni(rng, 35, 55)}, 10, 12, 22)
		an.organs = append(an.organs, newOrgan(e, orgThyroid))
	}
	// Thymic fat in front of the great vessels.
	_, ty1 := an.trachXY(a.ZL1)
	th := axisEllipsoid(vec{2, ty1 - 45, a.ZL1 - 5}, uni(rng, 10, 22), uni(rng, 5, 10), 30)
	an.envEll = append(an.envEll, th)
	// Breasts.
	if a.Female && a.BreastSize > 0 {
		for _, s := range []float64{-1, 1} {
			b := an.bodySect(a.ZL3)
			sz := a.BreastSize
			// supine: flattened against the chest and falling to the side
			e := axisEllipsoid(vec{s * b.a * uni(rng, 0.45, 0.6), -b.bF + 12 + 6*sz, a.ZL3 + uni(rng, -15, 10)}, 55+25*sz, 12+26*sz, 48+18*sz)
			an.organs = append(an.organs, newOrgan(e, orgBreast))
		}
	}
	c := an.cavSect(a.ZDomeR - 40)
	// Stomach under the left dome (fundus and body).
	fund := axisEllipsoid(vec{0.45 * c.a, c.cy + 0.05*c.bB, a.ZDomeL - uni(rng, 38, 48)}, uni(rng, 38, 50), uni(rng, 35, 48), uni(rng, 38, 50))
	an.organs = append(an.organs, newOrgan(fund, orgStomach))
	body := axisEllipsoid(vec{0.3 * c.a, c.cy - 0.4*c.bF, a.ZDomeL - uni(rng, 85, 110)}, uni(rng, 35, 48), uni(rng, 25, 35), uni(rng, 45, 60))
	an.organs = append(an.organs, newOrgan(body, orgStomach))
	// Spleen: posterolateral left, along the ribs.
	u := vec{0.55, 0.83, -0.2}.norm()
	w := vec{0, 0, 1}
	v := w.cross(u).norm()
	w = u.cross(v)
	sp := newEllipsoid(vec{0.68 * c.a, c.cy + 0.55*c.bB, a.ZDomeL - uni(rng, 40, 55)}, [3]float64{uni(rng, 50, 65), uni(rng, 18, 26), uni(rng, 42, 55)}, [3]vec{u, v, w})
	an.organs = append(an.organs, newOrgan(sp, orgSpleen))
	// Kidneys: upper poles in the lowest slices.
	for _, s := range []float64{-1, 1} {
		z := a.ZDomeR - uni(rng, 95, 125)
		if s < 0 {
			z -= uni(rng, 5, 20)
		}
		ku := vec{s * 0.25, -0.35, 1}.norm()
		kv := vec{1, 0, 0}
		kv = kv.sub(ku.mul(kv.dot(ku))).norm()
		kw := ku.cross(kv)
		k := newEllipsoid(vec{s * uni(rng, 62, 75), an.yVB(z) + uni(rng, 0, 12), z}, [3]float64{uni(rng, 50, 60), 28, 24}, [3]vec{ku, kv, kw})
		an.organs = append(an.organs, newOrgan(k, orgKidney))
	}
	// Gallbladder under the liver, sometimes.
	if rng.Float64() < 0.6 {
		g := axisEllipsoid(vec{-0.35 * c.a, c.cy - 0.5*c.bF, a.ZDomeR - uni(rng, 80, 120)}, 15, 18, 35)
		an.organs = append(an.organs, newOrgan(g, orgGallbladder))
	}
}

// liverSD returns the signed distance to the liver (approximate).
func (an *anatomy) liverSD(x, y, z float64, c *sect) float64 {
	a := an.a
	zd, g := an.diaph(x, y)
	d1 := (z - (zd - 5)) * g
	// left boundary: the left lobe reaches across the midline anteriorly
	front, back := c.cy-c.bF, c.cy+c.bB
	t := scalar.Clamp((y-front)/(back-front), 0, 1)
	depth := a.ZDomeR - z
	xl := scalar.Lerp(0.45*c.a, -0.1*c.a, t) - 0.35*math.Max(0, depth-30)
	d2 := (x - xl) * 0.8
	d3 := c.sd(x, y) + 3
	d4 := (a.ZDomeR - 190) - z
	return math.Max(math.Max(d1, d2), math.Max(d3, d4))
}
