package phantom

import (
	"math"

	"sscscore/model/internal/scalar"
)

// Tube groups: every tubular structure belongs to one group, which gives
// its wall (outer) and lumen (inner) materials. Groups are composited in
// this order, walls first, then lumens, so that joints between segments of
// one group never show a wall across a lumen.
const (
	grpArm = iota
	grpEso
	grpSysVein
	grpIVC
	grpAorta
	grpPA
	grpPV
	grpAirway
	grpColon
	grpCart
	grpRib
	grpBone
	nGroups
)

// seg is one conical segment of a tube: a capsule from a (radius ra) to b
// (radius rb), in the body's local coordinates.
type seg struct {
	a, b     vec
	ra, rb   float64
	grp      uint8
	env      bool    // part of the mediastinal envelope the lungs wrap around
	lumen    float64 // lumen radius as a fraction of the radius (0: solid)
	wallMin  float64 // minimum wall thickness (mm) when lumen > 0
	zlo, zhi float64
}

func (s *seg) finish() {
	r := math.Max(s.ra, s.rb)
	s.zlo = math.Min(s.a.Z, s.b.Z) - r
	s.zhi = math.Max(s.a.Z, s.b.Z) + r
}

// innerR returns the lumen radius for an outer radius r.
func (s *seg) innerR(r float64) float64 {
	if s.lumen <= 0 {
		return 0
	}
	return math.Max(0, math.Min(r*s.lumen, r-s.wallMin))
}

// tubeSet holds segments with a z index.
type tubeSet struct {
	segs    []seg
	z0      float64
	buckets [][]int32
}

const bucketMM = 6.0

func (t *tubeSet) add(s seg) {
	s.finish()
	t.segs = append(t.segs, s)
}

// chain adds a tube through the points pts with radii rs (one per point).
func (t *tubeSet) chain(pts []vec, rs []float64, grp int, env bool, lumen, wallMin float64) {
	for i := 0; i+1 < len(pts); i++ {
		t.add(seg{a: pts[i], b: pts[i+1], ra: rs[i], rb: rs[i+1], grp: uint8(grp), env: env, lumen: lumen, wallMin: wallMin})
	}
}

// spline adds a smooth tube through control points with radii interpolated
// linearly along the control points.
func (t *tubeSet) spline(ctrl []vec, r0, r1 float64, n, grp int, env bool, lumen, wallMin float64) []vec {
	pts := catmull(ctrl, n)
	rs := make([]float64, len(pts))
	for i := range rs {
		rs[i] = scalar.Lerp(r0, r1, float64(i)/float64(len(pts)-1))
	}
	t.chain(pts, rs, grp, env, lumen, wallMin)
	return pts
}

// index builds the z buckets.
func (t *tubeSet) index() {
	t.buckets = nil
	if len(t.segs) == 0 {
		return
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range t.segs {
		lo = math.Min(lo, t.segs[i].zlo)
		hi = math.Max(hi, t.segs[i].zhi)
	}
	t.z0 = lo - 1
	n := int((hi-t.z0)/bucketMM) + 2
	t.buckets = make([][]int32, n)
	for i := range t.segs {
		s := &t.segs[i]
		b0 := int((s.zlo - t.z0) / bucketMM)
		b1 := int((s.zhi - t.z0) / bucketMM)
		for b := b0; b <= b1; b++ {
			t.buckets[b] = append(t.buckets[b], int32(i))
		}
	}
}

// near calls f for every segment whose z extent, widened by m, contains z.
func (t *tubeSet) near(z, m float64, f func(s *seg)) {
	if len(t.buckets) == 0 {
		return
	}
	b0 := int(math.Floor((z - m - t.z0) / bucketMM))
	b1 := int(math.Floor((z + m - t.z0) / bucketMM))
	b0 = max(b0, 0)
	b1 = min(b1, len(t.buckets)-1)
	for b := b0; b <= b1; b++ {
		for _, i := range t.buckets[b] {
			s := &t.segs[i]
			// visit each segment once: in the first of its buckets in range
			if first := max(int((s.zlo-t.z0)/bucketMM), b0); first != b {
				continue
			}
			if z >= s.zlo-m && z <= s.zhi+m {
				f(s)
			}
		}
	}
}

// sliceBox returns the xy bounding box of the part of s within distance m
// (beyond its radius) of the plane z, or ok false if there is none.
func (s *seg) sliceBox(z, m float64) (x0, y0, x1, y1 float64, ok bool) {
	r := math.Max(s.ra, s.rb) + m
	dz := s.b.Z - s.a.Z
	t0, t1 := 0.0, 1.0
	if math.Abs(dz) > 1e-9 {
		ta := (z - r - s.a.Z) / dz
		tb := (z + r - s.a.Z) / dz
		if ta > tb {
			ta, tb = tb, ta
		}
		t0, t1 = math.Max(0, ta), math.Min(1, tb)
		if t0 > t1 {
			return 0, 0, 0, 0, false
		}
	} else if math.Abs(z-s.a.Z) > r {
		return 0, 0, 0, 0, false
	}
	p0 := s.a.lerp(s.b, t0)
	p1 := s.a.lerp(s.b, t1)
	return math.Min(p0.X, p1.X) - r, math.Min(p0.Y, p1.Y) - r, math.Max(p0.X, p1.X) + r, math.Max(p0.Y, p1.Y) + r, true
}
