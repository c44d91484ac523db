package synth

import (
	"math"

	"sscscore/model/internal/scalar"
)

// Noise returns smooth value noise in [-1, 1] at (x, y, z) with unit
// cell size.
func Noise(seed uint64, x, y, z float64) float64 {
	xi, yi, zi := math.Floor(x), math.Floor(y), math.Floor(z)
	fx, fy, fz := x-xi, y-yi, z-zi
	fx = fx * fx * (3 - 2*fx)
	fy = fy * fy * (3 - 2*fy)
	fz = fz * fz * (3 - 2*fz)
	i, j, k := int(xi), int(yi), int(zi)
	c := func(di, dj, dk int) float64 { return scalar.Unit(scalar.CellHash(seed, i+di, j+dj, k+dk)) }
	x00 := scalar.Lerp(c(0, 0, 0), c(1, 0, 0), fx)
	x10 := scalar.Lerp(c(0, 1, 0), c(1, 1, 0), fx)
	x01 := scalar.Lerp(c(0, 0, 1), c(1, 0, 1), fx)
	x11 := scalar.Lerp(c(0, 1, 1), c(1, 1, 1), fx)
	return 2*scalar.Lerp(scalar.Lerp(x00, x10, fy), scalar.Lerp(x01, x11, fy), fz) - 1
}

// Reticulation describes a reticular texture: a network of walls (the
// edges of a Voronoi tessellation with the given cell size), either fine
// intralobular lines or honeycomb cysts with thick walls.
type Reticulation struct {
	Seed uint64
	// Cell is the mean cell (cyst, lobule) size in mm.
	Cell float64
	// Wall is the wall thickness in mm.
	Wall float64
	// Honeycomb makes the cells cysts darker than the lung.
	Honeycomb bool
	// LineHU is the value of the walls, CystHU of the cyst contents
	// (honeycomb only), BgRise the haze added to the whole region (HU).
	LineHU, CystHU, BgRise float64
	// Missing is the fraction of walls left out (an incomplete network).
	Missing float64
}

// RandomReticulation draws a reticular texture: fine reticulation (about
// 60 %) or honeycombing.
func RandomReticulation(u func() float64) Reticulation {
	r := Reticulation{Seed: uint64(u() * (1 << 53))}
	if u() < 0.6 {
		r.Cell = scalar.Lerp(3.5, 8, u())
		r.Wall = scalar.Lerp(0.5, 1.1, u())
		r.LineHU = scalar.Lerp(-350, -80, u())
		r.BgRise = scalar.Lerp(60, 200, u())
		r.Missing = scalar.Lerp(0.1, 0.45, u())
	} else {
		r.Honeycomb = true
		r.Cell = scalar.Lerp(4.5, 11, u())
		r.Wall = scalar.Lerp(1.0, 2.4, u())
		r.LineHU = scalar.Lerp(-150, 40, u())
		r.CystHU = scalar.Lerp(-990, -900, u())
		r.BgRise = scalar.Lerp(20, 120, u())
		r.Missing = 0 // cysts have complete walls
	}
	return r
}

// At2 returns, at (x, y) mm on a plane, the wall coverage in [0, 1] for
// pixels of size px mm, and whether the point lies in a cell interior.
func (r *Reticulation) At2(x, y, px float64) float64 {
	c := r.Cell
	fx, fy := x/c, y/c
	ci, cj := int(math.Floor(fx)), int(math.Floor(fy))
	d1, d2 := math.Inf(1), math.Inf(1)
	var h1, h2 uint64
	for dj := -1; dj <= 1; dj++ {
		for di := -1; di <= 1; di++ {
			h := scalar.CellHash(r.Seed, ci+di, cj+dj, 0)
			sx := float64(ci+di) + 0.1 + 0.8*scalar.Unit(h)
			sy := float64(cj+dj) + 0.1 + 0.8*scalar.Unit(scalar.Hash64(h))
			d := math.Hypot(fx-sx, fy-sy)
			if d < d1 {
				d2, h2 = d1, h1
				d1, h1 = d, h
			} else if d < d2 {
				d2, h2 = d, h
			}
		}
	}
	return r.wall(d1, d2, h1, h2, px)
}

// At3 is At2 for a point in space (a section through a 3D network).
func (r *Reticulation) At3(x, y, z, px float64) float64 {
	c := r.Cell
	fx, fy, fz := x/c, y/c, z/c
	ci, cj, ck := int(math.Floor(fx)), int(math.Floor(fy)), int(math.Floor(fz))
	d1, d2 := math.Inf(1), math.Inf(1)
	var h1, h2 uint64
	for dk := -1; dk <= 1; dk++ {
		for dj := -1; dj <= 1; dj++ {
			for di := -1; di <= 1; di++ {
				h := scalar.CellHash(r.Seed, ci+di, cj+dj, ck+dk)
				sx := float64(ci+di) + 0.1 + 0.8*scalar.Unit(h)
				h = scalar.Hash64(h)
				sy := float64(cj+dj) + 0.1 + 0.8*scalar.Unit(h)
				h = scalar.Hash64(h)
				sz := float64(ck+dk) + 0.1 + 0.8*scalar.Unit(h)
				dx, dy, dz := fx-sx, fy-sy, fz-sz
				d := math.Sqrt(dx*dx + dy*dy + dz*dz)
				if d < d1 {
					d2, h2 = d1, h1
					d1, h1 = d, h
				} else if d < d2 {
					d2, h2 = d, h
				}
			}
		}
	}
	return r.wall(d1, d2, h1, h2, px)
}

// wall converts the two nearest seed distances (in cell units) to a wall
// coverage.
func (r *Reticulation) wall(d1, d2 float64, h1, h2 uint64, px float64) float64 {
	// distance to the bisector between the two nearest seeds, in mm
	e := (d2 - d1) / 2 * r.Cell
	// drop some walls: the pair's hash decides
	if r.Missing > 0 && scalar.Unit(scalar.Hash64(h1^h2)) < r.Missing {
		return 0
	}
	w := math.Max(px, 0.3)
	return scalar.Clamp(0.5-(e-r.Wall/2)/w, 0, 1) * math.Min(1, r.Wall/w+0.25)
}

// taper is the weight of a change at a pixel of value v: full on lung
// density, none on soft tissue (vessels, the chest wall), so that the
// vessels stay visible through ground glass as they do in real disease.
func taper(v float64) float64 { return scalar.Clamp((-150-v)/250, 0, 1) }

// ApplyRET returns v with reticulation of strength alpha (0-1) at a pixel
// whose wall coverage is wall.
func (r *Reticulation) ApplyRET(v, alpha, wall float64) float64 {
	if alpha <= 0 {
		return v
	}
	t := taper(v)
	if t <= 0 {
		return v
	}
	a := alpha * t
	out := v + a*r.BgRise
	if r.Honeycomb {
		out = scalar.Lerp(out, r.CystHU, a*(1-wall)*0.8)
	}
	return scalar.Lerp(out, r.LineHU, a*wall)
}

// GroundGlass describes a hazy increase in attenuation that spares the
// vessels, optionally with a crazy-paving septal network.
type GroundGlass struct {
	Seed uint64
	// Delta is the increase (HU) at full strength on normal lung.
	Delta float64
	// Patchy is the depth of the low-frequency modulation (0 = uniform).
	Patchy float64
	// Septal adds interlobular septal lines (crazy paving) when its Cell > 0.
	Septal Reticulation
}

// RandomGroundGlass draws a ground-glass appearance: about +300 HU.
func RandomGroundGlass(u func() float64) GroundGlass {
	g := GroundGlass{Seed: uint64(u() * (1 << 53)), Delta: scalar.Lerp(190, 380, u()), Patchy: scalar.Lerp(0.1, 0.5, u())}
	if u() < 0.3 {
		g.Septal = Reticulation{Seed: uint64(u() * (1 << 53)), Cell: scalar.Lerp(9, 16, u()), Wall: scalar.Lerp(0.7, 1.3, u()), LineHU: scalar.Lerp(-250, -50, u()), Missing: scalar.Lerp(0.1, 0.4, u())}
	}
	return g
}

// ApplyGG returns v with ground glass of strength alpha at patient point
// (x, y, z) mm for pixels of size px.
func (g *GroundGlass) ApplyGG(v, alpha, x, y, z, px float64) float64 {
	if alpha <= 0 {
		return v
	}
	t := taper(v)
	if t <= 0 {
		return v
	}
	m := 1.0
	if g.Patchy > 0 {
		m = 1 + g.Patchy*(Noise(g.Seed, x/14, y/14, z/14)+0.5*Noise(g.Seed+1, x/6, y/6, z/6))
	}
	out := v + alpha*t*g.Delta*scalar.Clamp(m, 0.3, 1.6)
	if g.Septal.Cell > 0 {
		w := g.Septal.At3(x, y, z, px)
		out = scalar.Lerp(out, math.Max(out, g.Septal.LineHU), alpha*t*w)
	}
	// never denser than soft tissue
	if out > -80 && out > v {
		out = math.Max(v, -80)
	}
	return out
}
