package phantom

import (
	"math"

	"sscscore/model/internal/scalar"
)

// vec is a point or direction in patient coordinates (DICOM LPS, mm): x to
// the patient's left, y to the back, z to the head.
type vec struct{ X, Y, Z float64 }

func (a vec) add(b vec) vec             { return vec{a.X + b.X, a.Y + b.Y, a.Z + b.Z} }
func (a vec) sub(b vec) vec             { return vec{a.X - b.X, a.Y - b.Y, a.Z - b.Z} }
func (a vec) mul(s float64) vec         { return vec{a.X * s, a.Y * s, a.Z * s} }
func (a vec) dot(b vec) float64         { return a.X*b.X + a.Y*b.Y + a.Z*b.Z }
func (a vec) len() float64              { return math.Sqrt(a.dot(a)) }
func (a vec) lerp(b vec, t float64) vec { return a.add(b.sub(a).mul(t)) }
func (a vec) cross(b vec) vec {
	return vec{a.Y*b.Z - a.Z*b.Y, a.Z*b.X - a.X*b.Z, a.X*b.Y - a.Y*b.X}
}
func (a vec) norm() vec {
	l := a.len()
	if l == 0 {
		return vec{0, 0, 1}
	}
	return a.mul(1 / l)
}

// orthonormal returns two unit vectors perpendicular to the unit vector d.
func orthonormal(d vec) (vec, vec) {
	ref := vec{1, 0, 0}
	if math.Abs(d.X) > 0.8 {
		ref = vec{0, 1, 0}
	}
	u := d.cross(ref).norm()
	return u, d.cross(u)
}

// rotateAbout rotates v about the unit axis k by angle a (Rodrigues).
func rotateAbout(v, k vec, a float64) vec {
	c, s := math.Cos(a), math.Sin(a)
	return v.mul(c).add(k.cross(v).mul(s)).add(k.mul(k.dot(v) * (1 - c)))
}

// smoothstep is the cubic Hermite step from 0 at e0 to 1 at e1.
func smoothstep(e0, e1, x float64) float64 {
	t := scalar.Clamp((x-e0)/(e1-e0), 0, 1)
	return t * t * (3 - 2*t)
}

// smin is the polynomial smooth minimum of two signed distances with
// blending radius k (mm): it rounds the union of two shapes and fills the
// concave gap between them, like fat filling the space between organs.
func smin(a, b, k float64) float64 {
	if k <= 0 {
		return math.Min(a, b)
	}
	h := scalar.Clamp(0.5+0.5*(b-a)/k, 0, 1)
	return scalar.Lerp(b, a, h) - k*h*(1-h)
}

// smax is the smooth maximum (smooth intersection).
func smax(a, b, k float64) float64 { return -smin(-a, -b, k) }

// cover converts a signed distance d (mm, negative inside) into the
// fraction of a voxel inside the shape, for a voxel whose extent along the
// surface normal is w (mm): a linear ramp, which is exactly the box-filtered
// coverage of a planar edge.
func cover(d, w float64) float64 {
	return scalar.Clamp(0.5-d/w, 0, 1)
}

// ellipse2 returns an approximate signed distance (mm) from (x, y) to the
// axis-aligned ellipse with centre (cx, cy) and semi-axes a, b.
func ellipse2(x, y, cx, cy, a, b float64) float64 {
	px, py := (x-cx)/a, (y-cy)/b
	k0 := math.Sqrt(px*px + py*py)
	if k0 == 0 {
		return -math.Min(a, b)
	}
	qx, qy := px/a, py/b
	k1 := math.Sqrt(qx*qx + qy*qy)
	return k0 * (k0 - 1) / k1
}

// ellipsoid is an oriented ellipsoid.
type ellipsoid struct {
	c  vec        // centre
	ax [3]vec     // unit axes
	r  [3]float64 // semi-axes
}

func newEllipsoid(c vec, r [3]float64, ax [3]vec) ellipsoid {
	return ellipsoid{c: c, ax: ax, r: r}
}

// axisEllipsoid returns an axis-aligned ellipsoid.
func axisEllipsoid(c vec, rx, ry, rz float64) ellipsoid {
	return ellipsoid{c: c, r: [3]float64{rx, ry, rz}, ax: [3]vec{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}
}

// sd returns the approximate signed distance from p (Quilez's bound) and
// the outward unit normal.
func (e *ellipsoid) sd(p vec) (float64, vec) {
	q := p.sub(e.c)
	var l [3]float64
	for i := range l {
		l[i] = q.dot(e.ax[i])
	}
	p0 := [3]float64{l[0] / e.r[0], l[1] / e.r[1], l[2] / e.r[2]}
	p1 := [3]float64{p0[0] / e.r[0], p0[1] / e.r[1], p0[2] / e.r[2]}
	k0 := math.Sqrt(p0[0]*p0[0] + p0[1]*p0[1] + p0[2]*p0[2])
	k1 := math.Sqrt(p1[0]*p1[0] + p1[1]*p1[1] + p1[2]*p1[2])
	if k1 == 0 {
		return -math.Min(e.r[0], math.Min(e.r[1], e.r[2])), vec{0, 0, 1}
	}
	n := e.ax[0].mul(p1[0]).add(e.ax[1].mul(p1[1])).add(e.ax[2].mul(p1[2])).norm()
	return k0 * (k0 - 1) / k1, n
}

// zRange returns the z extent of the ellipsoid.
func (e *ellipsoid) zRange() (lo, hi float64) {
	var h float64
	for i := range e.ax {
		h += (e.r[i] * e.ax[i].Z) * (e.r[i] * e.ax[i].Z)
	}
	h = math.Sqrt(h)
	return e.c.Z - h, e.c.Z + h
}

// xyHalf returns the half extents of the ellipsoid's bounding box in x, y.
func (e *ellipsoid) xyHalf() (hx, hy float64) {
	for i := range e.ax {
		hx += (e.r[i] * e.ax[i].X) * (e.r[i] * e.ax[i].X)
		hy += (e.r[i] * e.ax[i].Y) * (e.r[i] * e.ax[i].Y)
	}
	return math.Sqrt(hx), math.Sqrt(hy)
}

// catmull samples a centripetal-free (uniform) Catmull-Rom spline through
// pts with n samples per span, including both ends.
func catmull(pts []vec, n int) []vec {
	if len(pts) < 2 {
		return append([]vec(nil), pts...)
	}
	out := make([]vec, 0, (len(pts)-1)*n+1)
	for i := 0; i+1 < len(pts); i++ {
		p0 := pts[max(i-1, 0)]
		p1, p2 := pts[i], pts[i+1]
		p3 := pts[min(i+2, len(pts)-1)]
		if i == 0 {
			p0 = p1.mul(2).sub(p2)
		}
		if i+2 >= len(pts) {
			p3 = p2.mul(2).sub(p1)
		}
		for j := 0; j < n; j++ {
			t := float64(j) / float64(n)
			t2, t3 := t*t, t*t*t
			c0 := -0.5*t3 + t2 - 0.5*t
			c1 := 1.5*t3 - 2.5*t2 + 1
			c2 := -1.5*t3 + 2*t2 + 0.5*t
			c3 := 0.5*t3 - 0.5*t2
			out = append(out, p0.mul(c0).add(p1.mul(c1)).add(p2.mul(c2)).add(p3.mul(c3)))
		}
	}
	return append(out, pts[len(pts)-1])
}

// segDist returns the distance from p to the segment ab, the parameter t of
// the closest point and the closest point.
func segDist(p, a, b vec) (float64, float64) {
	ab := b.sub(a)
	l2 := ab.dot(ab)
	t := 0.0
	if l2 > 0 {
		t = scalar.Clamp(p.sub(a).dot(ab)/l2, 0, 1)
	}
	return p.sub(a.add(ab.mul(t))).len(), t
}
