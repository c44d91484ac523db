package phantom

import (
	"math"
	"sort"

	"sscscore/model/internal/scalar"
	"sscscore/model/synth"
)

// SliceGrid is the sampling grid of one axial slice in patient coordinates
// (rows along +y, columns along +x).
type SliceGrid struct {
	Nx, Ny int
	// X0, Y0 are the patient x, y (mm) of the centre of pixel (0, 0).
	X0, Y0 float64
	// DX, DY are the column and row spacings (mm).
	DX, DY float64
	// Thickness is the width (mm) of the slab the slice averages.
	Thickness float64
}

// Field channels, sampled on a coarse 2D grid per sub-slice and
// interpolated to pixels.
const (
	chBody = iota
	chMus
	chCav
	chLung
	chLungHU
	chDia
	chAbd
	chEnv
	// organs (bbox-limited)
	chSac
	chMyo
	chLA
	chRA
	chLV
	chRV
	chLiver
	chStom
	chStomGas
	chSpleen
	chKid
	chKidIn
	chThy
	chBreast
	chGland
	chHum
	chHumIn
	chGB
	nChan
)

const big = 1e4

// renderer renders slices; one per goroutine.
type renderer struct {
	p      *Phantom
	an     *anatomy
	g      SliceGrid
	ox, oy float64 // local coords of pixel (0,0)

	fh       float64
	fnx, fny int
	fx0, fy0 float64 // local coords of node (0,0)
	pix      []int32 // node column of each pixel column
	ptx      []float32
	piy      []int32
	pty      []float32

	ch  [nChan][]float32
	box [nChan][4]int // node bbox (i0, j0, i1, j1), i1/j1 exclusive
	act [nChan]bool

	buf, acc, lung []float32
	covO, covI     []float32
	dirty          [4]int
	tmp, tmp2      []float32
	groups         [nGroups][]*seg
	mgg, mret      []bool    // disease masks of the current slab
	kx, ky         []float32 // scanner kernel
	half           *renderer // coarser renderer (Quality.Downsample)
	noise          []float32 // correlated noise tile
	pcols          map[[2]float64][]float64
	acols          map[float64][]float64
	bone           []float32 // bone coverage of the slab's central sub-slice
	rec            bool      // painting the central sub-slice
	w              float64   // in-plane ramp width (mm)
	dzs            float64   // sub-slab thickness
}

func newRenderer(p *Phantom, an *anatomy, g SliceGrid) *renderer {
	r := &renderer{p: p, an: an, g: g}
	r.ox, r.oy = p.local(g.X0, g.Y0)
	r.w = math.Max(g.DX, g.DY)
	// Field grid: about 2.5 mm, never finer than the pixels, aligned so
	// that pixels fall between nodes.
	fs := p.Quality.FieldStep
	if fs <= 0 {
		fs = 2.5
	}
	r.fh = math.Max(fs, math.Max(g.DX, g.DY))
	ex := float64(g.Nx-1) * g.DX
	ey := float64(g.Ny-1) * g.DY
	r.fnx = int(math.Ceil(ex/r.fh)) + 2
	r.fny = int(math.Ceil(ey/r.fh)) + 2
	r.fx0 = r.ox - (float64(r.fnx-1)*r.fh-ex)/2
	r.fy0 = r.oy - (float64(r.fny-1)*r.fh-ey)/2
	r.pix = make([]int32, g.Nx)
	r.ptx = make([]float32, g.Nx)
	for i := 0; i < g.Nx; i++ {
		f := (r.ox + float64(i)*g.DX - r.fx0) / r.fh
		k := min(int(f), r.fnx-2)
		r.pix[i], r.ptx[i] = int32(k), float32(f-float64(k))
	}
	r.piy = make([]int32, g.Ny)
	r.pty = make([]float32, g.Ny)
	for j := 0; j < g.Ny; j++ {
		f := (r.oy + float64(j)*g.DY - r.fy0) / r.fh
		k := min(int(f), r.fny-2)
		r.piy[j], r.pty[j] = int32(k), float32(f-float64(k))
	}
	nn := r.fnx * r.fny
	for c := range r.ch {
		r.ch[c] = make([]float32, nn)
	}
	n := g.Nx * g.Ny
	r.buf = make([]float32, n)
	r.acc = make([]float32, n)
	r.lung = make([]float32, n)
	r.covO = make([]float32, n)
	r.covI = make([]float32, n)
	r.tmp = make([]float32, n)
	r.tmp2 = make([]float32, n)
	r.bone = make([]float32, n)
	return r
}

// nodeX returns the local x of node column i.
func (r *renderer) nodeX(i int) float64 { return r.fx0 + float64(i)*r.fh }
func (r *renderer) nodeY(j int) float64 { return r.fy0 + float64(j)*r.fh }

// nodeBox converts a local bbox to node index ranges (clipped); ok false
// when empty.
func (r *renderer) nodeBox(x0, y0, x1, y1 float64) (i0, j0, i1, j1 int, ok bool) {
	i0 = max(int(math.Floor((x0-r.fx0)/r.fh)), 0)
	j0 = max(int(math.Floor((y0-r.fy0)/r.fh)), 0)
	i1 = min(int(math.Ceil((x1-r.fx0)/r.fh))+1, r.fnx)
	j1 = min(int(math.Ceil((y1-r.fy0)/r.fh))+1, r.fny)
	return i0, j0, i1, j1, i0 < i1 && j0 < j1
}

// pixBox converts a local bbox to pixel index ranges.
func (r *renderer) pixBox(x0, y0, x1, y1 float64) (i0, j0, i1, j1 int, ok bool) {
	i0 = max(int(math.Floor((x0-r.ox)/r.g.DX)), 0)
	j0 = max(int(math.Floor((y0-r.oy)/r.g.DY)), 0)
	i1 = min(int(math.Ceil((x1-r.ox)/r.g.DX))+1, r.g.Nx)
	j1 = min(int(math.Ceil((y1-r.oy)/r.g.DY))+1, r.g.Ny)
	return i0, j0, i1, j1, i0 < i1 && j0 < j1
}

// nodePixBox converts a node bbox to the pixels whose interpolation uses
// only nodes inside it.
func (r *renderer) nodePixBox(b [4]int) (i0, j0, i1, j1 int, ok bool) {
	i0, i1 = spanIn(r.pix, b[0], b[2])
	j0, j1 = spanIn(r.piy, b[1], b[3])
	return i0, j0, i1, j1, i0 < i1 && j0 < j1
}

// spanIn returns the range of pixels p (half open) whose node k = idx[p]
// satisfies lo <= k and k+1 < hi; idx is non-decreasing.
func spanIn(idx []int32, lo, hi int) (int, int) {
	a := sort.Search(len(idx), func(p int) bool { return int(idx[p]) >= lo })
	b := sort.Search(len(idx), func(p int) bool { return int(idx[p])+1 >= hi })
	return a, b
}

// sample interpolates channel c at pixel (i, j).
func (r *renderer) sample(c, i, j int) float64 {
	f := r.ch[c]
	k := int(r.piy[j])*r.fnx + int(r.pix[i])
	tx, ty := r.ptx[i], r.pty[j]
	a := f[k] + (f[k+1]-f[k])*tx
	b := f[k+r.fnx] + (f[k+r.fnx+1]-f[k+r.fnx])*tx
	return float64(a + (b-a)*ty)
}

// fill sets channel c to v over its bbox (or everywhere when all).
func (r *renderer) fill(c int, v float32) {
	f := r.ch[c]
	for i := range f {
		f[i] = v
	}
}

// renderSlab renders the slab centred at z into r.acc (clean HU, before
// the kernel and noise) and the lung coverage into r.lung.
func (r *renderer) renderSlab(z float64) {
	g := r.g
	T := g.Thickness
	if T <= 0 {
		T = math.Max(g.DX, g.DY)
	}
	step := math.Max(1.5, 0.6*math.Max(g.DX, g.DY))
	nsub := max(1, int(math.Ceil(T/step-0.01)))
	if m := r.p.Quality.MaxSubSlices; m > 0 {
		nsub = min(nsub, m)
	}
	r.dzs = T / float64(nsub)
	for i := range r.acc {
		r.acc[i] = 0
		r.lung[i] = 0
	}
	inv := float32(1 / float64(nsub))
	for s := 0; s < nsub; s++ {
		zs := z - T/2 + (float64(s)+0.5)*r.dzs
		r.rec = s == nsub/2
		if r.rec {
			for i := range r.bone {
				r.bone[i] = 0
			}
		}
		r.renderSub(zs)
		r.diseaseSub(zs, r.rec)
		for i, v := range r.buf {
			r.acc[i] += v * inv
		}
	}
	for i := range r.lung {
		r.lung[i] *= inv
	}
}

// renderSub renders one thin sub-slice at z into r.buf and adds the lung
// coverage to r.lung.
func (r *renderer) renderSub(z float64) {
	r.fields(z)
	r.paintBase(z)
	r.paintOrgans(z)
	r.paintTubes(z)
	r.paintSpine(z)
	r.paintSternum(z)
	r.paintScapulae(z)
	r.paintTable()
}

// fields computes the field channels at z.
func (r *renderer) fields(z float64) {
	an := r.an
	a := an.a
	body := an.bodySect(z)
	mus := an.muscleSect(z)
	cav := an.cavSect(z)
	for c := range r.act {
		r.act[c] = false
	}
	fb, fm, fc := r.ch[chBody], r.ch[chMus], r.ch[chCav]
	// breasts join the body outline
	var breasts []*organ
	for i := range an.organs {
		o := &an.organs[i]
		if o.kind == orgBreast && z > o.zlo-20 && z < o.zhi+20 {
			breasts = append(breasts, o)
		}
	}
	var rb, rm, rc sectRow
	for j := 0; j < r.fny; j++ {
		y := r.nodeY(j)
		r.rowOf(&body, y, &rb)
		r.rowOf(&mus, y, &rm)
		r.rowOf(&cav, y, &rc)
		for i := 0; i < r.fnx; i++ {
			k := j*r.fnx + i
			b := rb.sd(i)
			if len(breasts) > 0 {
				x := r.nodeX(i)
				for _, o := range breasts {
					d, _ := o.e.sd(vec{x, y, z})
					b = smin(b, d, 30)
				}
			}
			fb[k] = float32(b)
			if b > 15 {
				fm[k], fc[k] = big, big
				continue
			}
			m := rm.sd(i)
			fm[k] = float32(m)
			if m > 40 {
				fc[k] = big
				continue
			}
			fc[k] = float32(rc.sd(i))
		}
	}
	// Envelope and heart.
	fe := r.ch[chEnv]
	r.fill(chEnv, big)
	const k = 12.0
	env := func(x0, y0, x1, y1 float64, f func(x, y float64) float64, kk float64) {
		i0, j0, i1, j1, ok := r.nodeBox(x0, y0, x1, y1)
		if !ok {
			return
		}
		for j := j0; j < j1; j++ {
			y := r.nodeY(j)
			for i := i0; i < i1; i++ {
				n := j*r.fnx + i
				if fc[n] > 20 {
					continue
				}
				d := f(r.nodeX(i), y)
				fe[n] = float32(smin(float64(fe[n]), d, kk))
			}
		}
	}
	r.heartFields(z, env)
	an.env.near(z, k+4, func(s *seg) {
		x0, y0, x1, y1, ok := s.sliceBox(z, k+4)
		if !ok {
			return
		}
		env(x0, y0, x1, y1, func(x, y float64) float64 {
			d, t := segDist(vec{x, y, z}, s.a, s.b)
			return d - scalar.Lerp(s.ra, s.rb, t)
		}, k)
	})
	for i := range an.envEll {
		e := &an.envEll[i]
		lo, hi := e.zRange()
		if z < lo-k || z > hi+k {
			continue
		}
		hx, hy := e.xyHalf()
		env(e.c.X-hx-k, e.c.Y-hy-k, e.c.X+hx+k, e.c.Y+hy+k, func(x, y float64) float64 {
			d, _ := e.sd(vec{x, y, z})
			return d
		}, k)
	}
	yv := an.yVB(z)
	env(-45, yv-35, 45, yv+80, func(x, y float64) float64 { return an.spineSD(x, y, z) }, 10)

	// Lungs, diaphragm, parenchyma and abdominal texture.
	fl, fhu, fd, fa := r.ch[chLung], r.ch[chLungHU], r.ch[chDia], r.ch[chAbd]
	front, back := cav.cy-cav.bF, cav.cy+cav.bB
	seed := uint64(r.p.Seed)
	vox := math.Max(r.g.DX, r.dzs)
	amp1 := 12.0
	amp2 := 8.0 * scalar.Clamp(2.5/vox, 0, 1)
	for j := 0; j < r.fny; j++ {
		y := r.nodeY(j)
		grad := a.LungGrad * math.Pow(smoothstep(front, back, y), 1.5)
		for i := 0; i < r.fnx; i++ {
			n := j*r.fnx + i
			// every node gets a value, so that a reused renderer never
			// interpolates stale ones
			fhu[n] = float32(a.LungHU + grad)
			fa[n] = float32(a.FatHU)
			if fc[n] > 25 {
				fl[n], fd[n] = big, -big
				continue
			}
			x := r.nodeX(i)
			fd[n] = float32(an.diaphSD(x, y, z))
			if fc[n] > 8 {
				fl[n] = big
			} else {
				l, _ := an.lungSDWith(x, y, z, float64(fc[n]), float64(fe[n]))
				fl[n] = float32(l)
				if l < 6 {
					t := amp1*synth.Noise(seed, x/9, y/9, z/9) + amp2*synth.Noise(seed+1, x/3.5, y/3.5, z/3.5)
					fhu[n] = float32(a.LungHU + grad + t)
				}
			}
			if fd[n] > 0 {
				t := synth.Noise(seed+7, x/16, y/16, z/16) + 0.5*synth.Noise(seed+8, x/7, y/7, z/7)
				fa[n] = float32(scalar.Lerp(a.FatHU, 38, smoothstep(-0.05, 0.25, t)))
			}
		}
	}
}

// sectRow evaluates a section's signed distance along one row of the
// field grid: the row terms are computed once and |x|^p comes from a
// per-renderer column table, leaving one log and one exp per node.
type sectRow struct {
	r         *renderer
	cols, ax  []float64 // |x_i - cx|^p and |x_i - cx|
	invAp     float64   // a(y)^-p
	ay, vp, p float64
	g2        float64
	minAB     float64
}

// rowOf prepares row y of section s.
func (r *renderer) rowOf(s *sect, y float64, out *sectRow) {
	dy := y - s.cy
	b, p := s.bB, s.pB
	if dy < 0 {
		b, p = s.bF, s.pF
	}
	ay := s.a * (1 + s.flare*scalar.Clamp(dy/b, -1, 1))
	v := math.Abs(dy) / b
	vp := math.Pow(v, p)
	out.r = r
	out.cols, out.ax = r.powCols(s.cx, p)
	out.invAp = math.Pow(ay, -p)
	out.ay, out.vp, out.p = ay, vp, p
	out.g2 = 0
	if v > 1e-12 {
		out.g2 = vp / v / b
	}
	out.minAB = math.Min(ay, b)
}

// sd returns the signed distance at node column i.
func (w *sectRow) sd(i int) float64 {
	up := w.cols[i] * w.invAp
	sum := up + w.vp
	if sum < 1e-24 {
		return -w.minAB
	}
	F := math.Exp(math.Log(sum) / w.p)
	var g1 float64
	if u := w.ax[i] / w.ay; u > 1e-12 {
		g1 = up / u / w.ay
	}
	gm := F / sum * math.Sqrt(g1*g1+w.g2*w.g2)
	if gm == 0 {
		return -w.minAB
	}
	return (F - 1) / gm
}

// powCols returns |x_i - cx|^p and |x_i - cx| for the node columns.
func (r *renderer) powCols(cx, p float64) ([]float64, []float64) {
	key := [2]float64{cx, p}
	if c, ok := r.pcols[key]; ok {
		return c, r.acols[cx]
	}
	if r.pcols == nil {
		r.pcols = map[[2]float64][]float64{}
		r.acols = map[float64][]float64{}
	}
	ax, ok := r.acols[cx]
	if !ok {
		ax = make([]float64, r.fnx)
		for i := range ax {
			ax[i] = math.Abs(r.nodeX(i) - cx)
		}
		r.acols[cx] = ax
	}
	c := make([]float64, r.fnx)
	for i := range c {
		c[i] = math.Pow(ax[i], p)
	}
	r.pcols[key] = c
	return c, ax
}

// heartFields computes the heart channels and adds the heart to the
// envelope.
func (r *renderer) heartFields(z float64, env func(x0, y0, x1, y1 float64, f func(x, y float64) float64, kk float64)) {
	an := r.an
	h := &an.heart
	lo, hi := h.zRange()
	if z < lo-12 || z > hi+12 {
		return
	}
	bx0, by0, bx1, by1 := h.xyBox()
	i0, j0, i1, j1, ok := r.nodeBox(bx0-14, by0-14, bx1+14, by1+14)
	if !ok {
		return
	}
	chans := []int{chSac, chMyo, chLA, chRA, chLV, chRV}
	for _, c := range chans {
		r.act[c] = true
		r.box[c] = [4]int{i0, j0, i1, j1}
	}
	sac, myo := r.ch[chSac], r.ch[chMyo]
	la, ra, lv, rv := r.ch[chLA], r.ch[chRA], r.ch[chLV], r.ch[chRV]
	fe, fc := r.ch[chEnv], r.ch[chCav]
	for j := j0; j < j1; j++ {
		y := r.nodeY(j)
		for i := i0; i < i1; i++ {
			x := r.nodeX(i)
			n := j*r.fnx + i
			p := vec{x, y, z}
			zd, g := an.diaph(x, y)
			// the heart rests on the diaphragm and stays inside the cavity
			clip := math.Max((zd-z)*g, float64(fc[n])+1)
			m := math.Max(h.myo(p), clip)
			myo[n] = float32(m)
			s := m - h.fat
			sac[n] = float32(s)
			b1, _ := h.lac.sd(p)
			b2, _ := h.rac.sd(p)
			b3, _ := h.lvc.sd(p)
			b4, _ := h.rvc.sd(p)
			la[n] = float32(math.Max(b1, clip))
			ra[n] = float32(math.Max(b2, clip))
			lv[n] = float32(math.Max(b3, clip))
			rv[n] = float32(math.Max(b4, clip))
			fe[n] = float32(smin(float64(fe[n]), math.Max(s, (zd-6-z)*g), 12))
		}
	}
	_ = env
}

// paintBase paints air, body, muscle, cavity contents and lung parenchyma.
func (r *renderer) paintBase(z float64) {
	a := r.an.a
	g := r.g
	w := r.w
	air := -1000.0
	fat, mus := a.FatHU, a.MuscleHU
	skinHU := 35.0
	const skinT = 1.8
	for j := 0; j < g.Ny; j++ {
		row := j * g.Nx
		for i := 0; i < g.Nx; i++ {
			b := r.sample(chBody, i, j)
			if b >= w/2 {
				r.buf[row+i] = float32(air)
				continue
			}
			v := air
			cb := cover(b, w)
			v += (fat - v) * cb
			sk := cb - cover(b+skinT, w)
			v += (skinHU - v) * sk
			m := r.sample(chMus, i, j)
			if m < w/2 {
				v += (mus - v) * cover(m, w)
				c := r.sample(chCav, i, j)
				if c < w/2 {
					cc := cover(c, w)
					s := r.sample(chDia, i, j) // > 0 below the diaphragm surface
					interior := fat + 8
					if s > -w {
						fd := cover(-s, w)
						fa := cover(-(s - 5), w)
						abd := r.sample(chAbd, i, j)
						interior = interior*(1-fd) + mus*(fd-fa) + abd*fa
					}
					v += (interior - v) * cc
					l := r.sample(chLung, i, j)
					if l < w/2 {
						cl := cover(l, w)
						lv := r.sample(chLungHU, i, j)
						if l < -1 {
							lv += r.fissure(r.ox+float64(i)*r.g.DX, r.oy+float64(j)*r.g.DY, z)
						}
						v += (lv - v) * cl
						r.lung[row+i] += float32(cl)
					}
				}
			}
			r.buf[row+i] = float32(v)
		}
	}
	_ = z
}

// fissure returns the density added by the major fissures at (x, y, z):
// thin sheets (0.6 mm) seen with the partial volume of the voxel, so that
// they show as fine lines on thin slices and fade on thick ones.
func (r *renderer) fissure(x, y, z float64) float64 {
	f := &r.an.fiss
	var add float64
	for s := 0; s < 2; s++ {
		n := f.n[s]
		if (s == 0) != (x < 0) {
			continue
		}
		d := n.X*x + n.Y*y + n.Z*z - f.c[s]
		wn := math.Abs(n.X)*r.g.DX + math.Abs(n.Y)*r.g.DY + math.Abs(n.Z)*r.dzs
		if math.Abs(d) < wn/2 {
			add += 900 * math.Min(1, 0.6/wn)
		}
	}
	return add
}

// blend paints channel c (signed distance) over its pixel bbox with
// value val(i, j) or constant v.
func (r *renderer) blend(c int, hu float64) {
	if !r.act[c] {
		return
	}
	i0, j0, i1, j1, ok := r.nodePixBox(r.box[c])
	if !ok {
		return
	}
	w := r.w
	for j := j0; j < j1; j++ {
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			d := r.sample(c, i, j)
			if d >= w/2 {
				continue
			}
			cv := float32(cover(d, w))
			r.buf[row+i] += (float32(hu) - r.buf[row+i]) * cv
		}
	}
}

// blendBand paints a thin band of thickness t inside the surface of c.
func (r *renderer) blendBand(c int, hu, t, alpha float64) {
	if !r.act[c] {
		return
	}
	i0, j0, i1, j1, ok := r.nodePixBox(r.box[c])
	if !ok {
		return
	}
	w := r.w
	for j := j0; j < j1; j++ {
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			d := r.sample(c, i, j)
			if d >= w/2 || d < -t-w {
				continue
			}
			cv := float32(alpha * (cover(d, w) - cover(d+t, w)))
			r.buf[row+i] += (float32(hu) - r.buf[row+i]) * cv
		}
	}
}

// markChan records the bone coverage of channel c.
func (r *renderer) markChan(c int) {
	if !r.rec || !r.act[c] {
		return
	}
	i0, j0, i1, j1, ok := r.nodePixBox(r.box[c])
	if !ok {
		return
	}
	for j := j0; j < j1; j++ {
		for i := i0; i < i1; i++ {
			if d := r.sample(c, i, j); d < r.w/2 {
				r.markBone(j*r.g.Nx+i, cover(d, r.w))
			}
		}
	}
}

// organField computes channel c over the bbox of organ o with f.
func (r *renderer) organField(c int, x0, y0, x1, y1 float64, f func(x, y float64) float64) {
	i0, j0, i1, j1, ok := r.nodeBox(x0-r.fh, y0-r.fh, x1+r.fh, y1+r.fh)
	if !ok {
		return
	}
	r.act[c] = true
	r.box[c] = [4]int{i0, j0, i1, j1}
	ch := r.ch[c]
	for j := j0; j < j1; j++ {
		y := r.nodeY(j)
		for i := i0; i < i1; i++ {
			ch[j*r.fnx+i] = float32(f(r.nodeX(i), y))
		}
	}
}

// paintOrgans paints the heart and the abdominal and neck organs.
func (r *renderer) paintOrgans(z float64) {
	an := r.an
	a := an.a
	// Heart: epicardial fat, pericardium, myocardium, blood pools.
	if r.act[chSac] {
		r.blend(chSac, a.FatHU+10)
		r.blendBand(chSac, 30, 1.2, 0.7)
		r.blend(chMyo, a.MyoHU)
		left := a.AortaHU
		right := scalar.Lerp(a.PAHU, a.SVCHU, 0.25)
		if a.AortaHU == a.BloodHU {
			left, right = a.BloodHU, a.BloodHU
		}
		r.blend(chLA, left)
		r.blend(chLV, left)
		r.blend(chRA, right)
		r.blend(chRV, right)
	}
	// Liver, below the right dome.
	cav := an.cavSect(z)
	if z < a.ZDomeR+2 && z > a.ZDomeR-200 {
		r.organField(chLiver, -cav.a-5, cav.cy-cav.bF-5, cav.a*0.6, cav.cy+cav.bB+5, func(x, y float64) float64 {
			return an.liverSD(x, y, z, &cav)
		})
		r.blend(chLiver, a.LiverEnh)
	}
	for i := range an.organs {
		o := &an.organs[i]
		if z < o.zlo-3 || z > o.zhi+3 {
			continue
		}
		x0, y0, x1, y1 := o.e.c.X-o.hx-3, o.e.c.Y-o.hy-3, o.e.c.X+o.hx+3, o.e.c.Y+o.hy+3
		sd := func(x, y float64) float64 {
			d, _ := o.e.sd(vec{x, y, z})
			return d
		}
		belowDia := func(x, y float64) float64 {
			d, _ := o.e.sd(vec{x, y, z})
			zd, g := an.diaph(x, y)
			d = math.Max(d, (z-(zd-6))*g)
			return math.Max(d, cav.sd(x, y)+2)
		}
		switch o.kind {
		case orgThyroid:
			r.organField(chThy, x0, y0, x1, y1, sd)
			r.blend(chThy, 95+0.5*(a.LiverEnh-a.LiverHU))
		case orgBreast:
			r.organField(chGland, x0, y0, x1, y1, func(x, y float64) float64 {
				d, _ := o.e.sd(vec{x, y, z})
				t := synth.Noise(uint64(r.p.Seed)+11, x/6, y/6, z/6)
				return d + 12 + 8*t
			})
			r.blend(chGland, a.GlandHU)
		case orgStomach:
			r.organField(chStom, x0, y0, x1, y1, belowDia)
			r.blend(chStom, a.MuscleHU+0.3*(a.MyoHU-a.MuscleHU))
			r.organField(chStomGas, x0, y0, x1, y1, func(x, y float64) float64 { return belowDia(x, y) + 4 })
			top := o.e.c.Y - o.e.r[1]
			level := top + 2*o.e.r[1]*a.StomachGas
			r.blendContents(chStomGas, level, z)
		case orgSpleen:
			r.organField(chSpleen, x0, y0, x1, y1, belowDia)
			r.blend(chSpleen, a.SpleenEnh)
		case orgKidney:
			r.organField(chKid, x0, y0, x1, y1, belowDia)
			r.blend(chKid, a.KidneyHU)
			r.organField(chKidIn, x0, y0, x1, y1, func(x, y float64) float64 { return belowDia(x, y) + 9 })
			r.blend(chKidIn, scalar.Lerp(a.KidneyHU, 25, 0.6))
		case orgGallbladder:
			r.organField(chGB, x0, y0, x1, y1, belowDia)
			r.blend(chGB, 12)
		case orgHumHead:
			r.organField(chHum, x0, y0, x1, y1, sd)
			r.blend(chHum, a.CortexHU*0.8)
			r.markChan(chHum)
			r.organField(chHumIn, x0, y0, x1, y1, func(x, y float64) float64 { return sd(x, y) + 2.5 })
			r.blend(chHumIn, a.BoneHU)
		}
	}
}

// blendContents paints stomach contents: gas in front of the level (the
// patient lies supine), fluid or food behind it.
func (r *renderer) blendContents(c int, level, z float64) {
	if !r.act[c] {
		return
	}
	i0, j0, i1, j1, ok := r.nodePixBox(r.box[c])
	if !ok {
		return
	}
	w := r.w
	seed := uint64(r.p.Seed) + 21
	for j := j0; j < j1; j++ {
		row := j * r.g.Nx
		y := r.oy + float64(j)*r.g.DY
		gas := cover(y-level, w)
		for i := i0; i < i1; i++ {
			d := r.sample(c, i, j)
			if d >= w/2 {
				continue
			}
			x := r.ox + float64(i)*r.g.DX
			food := 15 + 35*synth.Noise(seed, x/5, y/5, z/5)
			hu := scalar.Lerp(food, -1000, gas)
			cv := float32(cover(d, w))
			r.buf[row+i] += (float32(hu) - r.buf[row+i]) * cv
		}
	}
}

// tubeHU returns the wall and lumen values of a group.
func (r *renderer) tubeHU(grp int) (outer, inner float64) {
	a := r.an.a
	switch grp {
	case grpArm:
		return a.FatHU, a.MuscleHU
	case grpEso:
		return a.MuscleHU + 0.3*(a.MyoHU-a.MuscleHU), a.EsoLumenHU
	case grpSysVein:
		return a.SVCHU, a.SVCHU
	case grpIVC:
		v := a.VeinHU
		if r.p.Scanner.Contrast == ContrastArterial {
			v = a.BloodHU + 20
		}
		return v, v
	case grpAorta:
		return a.AortaHU, a.AortaHU
	case grpPA:
		return a.PAHU, a.PAHU
	case grpPV:
		return scalar.Lerp(a.PAHU, a.AortaHU, 0.6), scalar.Lerp(a.PAHU, a.AortaHU, 0.6)
	case grpAirway:
		return 30, -1000
	case grpColon:
		return a.MuscleHU, -900
	case grpCart:
		return 110, 110
	case grpRib, grpBone:
		return a.CortexHU, a.BoneHU
	}
	return 0, 0
}

// paintTubes paints every tube group.
func (r *renderer) paintTubes(z float64) {
	an := r.an
	for g := range r.groups {
		r.groups[g] = r.groups[g][:0]
	}
	for _, ts := range []*tubeSet{&an.tubes, &an.trees} {
		ts.near(z, r.w+2, func(s *seg) {
			r.groups[s.grp] = append(r.groups[s.grp], s)
		})
	}
	for grp := 0; grp < nGroups; grp++ {
		if len(r.groups[grp]) == 0 {
			continue
		}
		r.dirty = [4]int{r.g.Nx, r.g.Ny, 0, 0}
		any := false
		for _, s := range r.groups[grp] {
			if r.rasterSeg(s, z) {
				any = true
			}
		}
		if !any {
			continue
		}
		outer, inner := r.tubeHU(grp)
		isBone := grp == grpRib || grp == grpBone
		d := r.dirty
		for j := d[1]; j < d[3]; j++ {
			row := j * r.g.Nx
			for i := d[0]; i < d[2]; i++ {
				k := row + i
				co, ci := r.covO[k], r.covI[k]
				if co == 0 {
					continue
				}
				if isBone {
					r.markBone(k, float64(co))
				}
				v := r.buf[k]
				v += (float32(outer) - v) * co
				v += (float32(inner) - v) * ci
				r.buf[k] = v
				r.covO[k], r.covI[k] = 0, 0
			}
		}
	}
}

// rasterSeg adds the coverage of segment s on plane z to covO/covI.
func (r *renderer) rasterSeg(s *seg, z float64) bool {
	w := r.w
	x0, y0, x1, y1, ok := s.sliceBox(z, w)
	if !ok {
		return false
	}
	i0, j0, i1, j1, ok := r.pixBox(x0, y0, x1, y1)
	if !ok {
		return false
	}
	dx, dy, dzs := r.g.DX, r.g.DY, r.dzs
	hit := false
	ab := s.b.sub(s.a)
	l2 := ab.dot(ab)
	for j := j0; j < j1; j++ {
		y := r.oy + float64(j)*dy
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			x := r.ox + float64(i)*dx
			p := vec{x, y, z}
			ap := p.sub(s.a)
			t := 0.0
			if l2 > 0 {
				t = scalar.Clamp(ap.dot(ab)/l2, 0, 1)
			}
			q := ap.sub(ab.mul(t))
			d := q.len()
			rad := s.ra + (s.rb-s.ra)*t
			// ramp width: the voxel's extent along the normal
			var wn float64
			if d > 1e-9 {
				wn = math.Abs(q.X)/d*dx + math.Abs(q.Y)/d*dy + math.Abs(q.Z)/d*dzs
			} else {
				wn = w
			}
			wn = math.Max(wn, 0.5*w)
			if d-rad >= wn/2 {
				continue
			}
			c := cover(d-rad, wn) * thin(rad, wn)
			k := row + i
			if float32(c) > r.covO[k] {
				r.covO[k] = float32(c)
			}
			if s.lumen > 0 {
				ri := s.innerR(rad)
				if ri > 0 {
					ci := cover(d-ri, wn) * thin(ri, wn)
					if float32(ci) > r.covI[k] {
						r.covI[k] = float32(ci)
					}
				}
			}
			hit = true
		}
	}
	if hit {
		r.dirty[0] = min(r.dirty[0], i0)
		r.dirty[1] = min(r.dirty[1], j0)
		r.dirty[2] = max(r.dirty[2], i1)
		r.dirty[3] = max(r.dirty[3], j1)
	}
	return hit
}

// markBone records bone coverage c at pixel k of the central sub-slice.
func (r *renderer) markBone(k int, c float64) {
	if r.rec && float32(c) > r.bone[k] {
		r.bone[k] = float32(c)
	}
}

// thin returns the factor that keeps the partial-volume coverage
// cover(d-r, w) of a tube of radius r on a voxel of width w mass
// preserving: the integral of the ramp over the cross-section is
// pi (r² + w²/12) for r >= w/2 and pi u³/(3w) with u = r + w/2 below, while
// the tube's true cross-section is pi r².
func thin(r, w float64) float64 {
	if r >= w/2 {
		return r * r / (r*r + w*w/12)
	}
	u := r + w/2
	return 3 * w * r * r / (u * u * u)
}

// paintSpine paints the vertebral bodies, discs, the canal and the cord.
func (r *renderer) paintSpine(z float64) {
	an := r.an
	a := an.a
	yv := an.yVB(z)
	// nearest vertebra
	best := -1
	bd := math.Inf(1)
	for i := range an.verts {
		d := math.Abs(an.verts[i].zc - z)
		if d < bd {
			best, bd = i, d
		}
	}
	if best < 0 {
		return
	}
	v := &an.verts[best]
	// z coverage of the body (vs disc)
	czb := scalar.Clamp((v.hh-math.Abs(z-v.zc))/r.dzs+0.5, 0, 1)
	end := scalar.Clamp((math.Abs(z-v.zc)-(v.hh-1.8))/1.8, 0, 1) * czb // end plates
	// the neural arch spans the upper two thirds of the vertebra and the disc above
	arch := scalar.Clamp((z-(v.zc-0.35*v.hh))/r.dzs+0.5, 0, 1) * scalar.Clamp((v.zc+v.hh+2-z)/r.dzs+0.5, 0, 1)
	i0, j0, i1, j1, ok := r.pixBox(-v.a-8, yv-v.b-8, v.a+8, yv+v.b+2*v.canalR+12)
	if !ok {
		return
	}
	w := r.w
	yc := yv + v.b + v.canalR + 1
	for j := j0; j < j1; j++ {
		y := r.oy + float64(j)*r.g.DY
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			x := r.ox + float64(i)*r.g.DX
			k := row + i
			val := float64(r.buf[k])
			// disc or body
			d := ellipse2(x, y, 0, yv, v.a, v.b)
			if d < w/2 {
				c := cover(d, w)
				disc := 85.0
				val += (disc - val) * c * (1 - czb)
				inner := cover(d+1.6, w)
				body := scalar.Lerp(a.BoneHU, a.CortexHU*0.85, end)
				shell := a.CortexHU * 0.7
				val += (shell - val) * (c - inner) * czb
				val += (body - val) * inner * czb
				r.markBone(k, c*czb)
			}
			// neural arch (pedicles and laminae) around the canal, over
			// the upper part of the vertebra
			if arch > 0 {
				dr := math.Max(ellipse2(x, y, 0, yc, v.canalR+8, v.canalR+7.5), -ellipse2(x, y, 0, yc, v.canalR+0.8, v.canalR+0.3))
				dp := math.Max(math.Abs(math.Abs(x)-(v.canalR+3.5))-4, math.Max(yv+v.b-4-y, y-yc))
				da := math.Min(dr, dp)
				if da < w/2 {
					c := cover(da, w) * arch
					val += (a.CortexHU*0.75 - val) * c
					r.markBone(k, c)
				}
			}
			// canal with the cord
			dc := ellipse2(x, y, 0, yc, v.canalR+0.5, v.canalR)
			if dc < w/2 {
				val += (12 - val) * cover(dc, w)
				dcord := ellipse2(x, y, 0, yc, 4.5, 4)
				val += (32 - val) * cover(dcord, w)
			}
			r.buf[k] = float32(val)
		}
	}
}

// paintSternum paints the manubrium, the body and the xiphoid.
func (r *renderer) paintSternum(z float64) {
	an := r.an
	a := an.a
	if z > an.zJug+2 || z < an.zXiphEnd-2 {
		return
	}
	cav := an.cavSect(z)
	var hw, ht float64
	switch {
	case z > an.zAngle:
		t := (an.zJug - z) / (an.zJug - an.zAngle)
		hw, ht = scalar.Lerp(28, 16, t), 7
	case z > an.zXiph:
		hw, ht = 14, 5.5
	default:
		t := (an.zXiph - z) / (an.zXiph - an.zXiphEnd)
		hw, ht = scalar.Lerp(9, 3, t), 3.5
	}
	cz := scalar.Clamp((an.zJug-z)/r.dzs+0.5, 0, 1) * scalar.Clamp((z-an.zXiphEnd)/r.dzs+0.5, 0, 1)
	cy := cav.cy - cav.bF - ht - 1.5
	i0, j0, i1, j1, ok := r.pixBox(-hw-3, cy-ht-3, hw+3, cy+ht+3)
	if !ok {
		return
	}
	w := r.w
	for j := j0; j < j1; j++ {
		y := r.oy + float64(j)*r.g.DY
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			x := r.ox + float64(i)*r.g.DX
			d := roundBox(x, y-cy, hw, ht, math.Min(ht, 4))
			if d >= w/2 {
				continue
			}
			k := row + i
			val := float64(r.buf[k])
			c := cover(d, w) * cz
			in := cover(d+1.3, w) * cz
			val += (a.CortexHU*0.8 - val) * c
			r.markBone(k, c)
			val += (a.BoneHU - val) * in
			r.buf[k] = float32(val)
		}
	}
}

// roundBox is the signed distance to a centred box with rounded corners.
func roundBox(x, y, hw, ht, rc float64) float64 {
	qx := math.Abs(x) - (hw - rc)
	qy := math.Abs(y) - (ht - rc)
	out := math.Hypot(math.Max(qx, 0), math.Max(qy, 0))
	return out + math.Min(math.Max(qx, qy), 0) - rc
}

// paintScapulae paints the scapular blades, spines and glenoids.
func (r *renderer) paintScapulae(z float64) {
	an := r.an
	a := an.a
	for _, s := range an.scaps {
		if z > s.zTop+2 || z < s.zBot-2 {
			continue
		}
		t := (s.zTop - z) / (s.zTop - s.zBot) // 0 top, 1 inferior angle
		wdt := s.width * (1 - t*t) * (0.35 + 0.65*(1-t))
		mx := s.mx + s.side*8*t
		my := s.my
		lx, ly := mx+s.dirX*wdt, my+s.dirY*wdt
		th := s.thick
		cz := scalar.Clamp((s.zTop-z)/r.dzs+0.5, 0, 1) * scalar.Clamp((z-s.zBot)/r.dzs+0.5, 0, 1)
		// scapular spine: a posterior ridge in the top 30 mm
		spine := t < 30/(s.zTop-s.zBot)
		ex0, ey0 := math.Min(mx, lx)-15, math.Min(my, ly)-15
		ex1, ey1 := math.Max(mx, lx)+15, math.Max(my, ly)+25
		i0, j0, i1, j1, ok := r.pixBox(ex0, ey0, ex1, ey1)
		if !ok {
			continue
		}
		w := r.w
		for j := j0; j < j1; j++ {
			y := r.oy + float64(j)*r.g.DY
			row := j * r.g.Nx
			for i := i0; i < i1; i++ {
				x := r.ox + float64(i)*r.g.DX
				d := seg2(x, y, mx, my, lx, ly) - th/2
				if spine {
					sx, sy := mx+0.45*(lx-mx), my+0.45*(ly-my)
					d = math.Min(d, seg2(x, y, sx, sy, sx+s.side*6, sy+18)-3.5)
				}
				if t < 0.22 {
					d = math.Min(d, ellipse2(x, y, lx, ly, 11, 14))
				}
				if d >= w/2 {
					continue
				}
				k := row + i
				val := float64(r.buf[k])
				c := cover(d, w) * cz
				in := cover(d+1.4, w) * cz
				val += (a.CortexHU*0.8 - val) * c
				r.markBone(k, c)
				val += (a.BoneHU - val) * in
				r.buf[k] = float32(val)
			}
		}
	}
}

// seg2 is the distance from (x, y) to the 2D segment (ax, ay)-(bx, by).
func seg2(x, y, ax, ay, bx, by float64) float64 {
	abx, aby := bx-ax, by-ay
	l2 := abx*abx + aby*aby
	t := 0.0
	if l2 > 0 {
		t = scalar.Clamp(((x-ax)*abx+(y-ay)*aby)/l2, 0, 1)
	}
	return math.Hypot(x-ax-t*abx, y-ay-t*aby)
}

// paintTable paints the scanner table under the patient.
func (r *renderer) paintTable() {
	an := r.an
	a := an.a
	top := a.BodyD + 2 + float64(r.p.Seed%5)
	R := 380.0 + float64(r.p.Seed%7)*40
	cy := top - R
	i0, j0, i1, j1, ok := r.pixBox(-260, top-5, 260, top+70)
	if !ok {
		return
	}
	w := r.w
	for j := j0; j < j1; j++ {
		y := r.oy + float64(j)*r.g.DY
		row := j * r.g.Nx
		for i := i0; i < i1; i++ {
			x := r.ox + float64(i)*r.g.DX
			if math.Abs(x) > 230 {
				continue
			}
			dr := math.Hypot(x, y-cy) - R
			// curved shell 3 mm thick, a second one 40 mm below
			d1 := math.Abs(dr-1.5) - 1.5
			d2 := math.Abs(dr-42) - 2.5
			k := row + i
			val := float64(r.buf[k])
			if d1 < w/2 {
				val += (250 - val) * cover(d1, w)
			}
			if d2 < w/2 && math.Abs(x) < 160 {
				val += (400 - val) * cover(d2, w)
			}
			if dr > 3 && dr < 40 && math.Abs(x) < 160 {
				val += (-920 - val) * 0.6
			}
			r.buf[k] = float32(val)
		}
	}
}
