package phantom

// Level indices.
const (
	L1 = iota // origin of the great vessels (top of the aortic arch)
	L2        // main carina
	L3        // pulmonary venous confluence (left atrium)
	L4        // halfway between L3 and L5
	L5        // just above the right hemidiaphragm dome
)

// computeLevels measures the five levels on the built geometry.
func (an *anatomy) computeLevels() {
	// L1: the highest point of the arch's outer surface, where the great
	// vessels arise.
	an.levels[L1] = an.archTop
	// L2: the highest plane on which the two main bronchi show separate
	// lumens (where the airway splits).
	an.levels[L2] = an.carinaZ()
	// L3: the left atrium where the four pulmonary veins enter (their
	// ostia are placed symmetrically about its centre).
	an.levels[L3] = an.laZ
	// L5: just above the top of the right dome.
	an.levels[L5] = an.rightDomeTop + domeGap
	an.levels[L4] = (an.levels[L3] + an.levels[L5]) / 2
}

// airwayLumenAt reports whether the plane z has trachea or main bronchus
// lumen at (x, y).
func (an *anatomy) airwayLumen(x, y, z float64) bool {
	p := vec{x, y, z}
	// trachea end: the last trachea segment is a capsule ending at P.
	P := an.carinaP
	if d, _ := segDist(p, P.add(vec{0, 0, 30}), P); d < an.lumenTrach {
		return true
	}
	for i, b := range an.bronchi {
		wall := 1.3
		if d, _ := segDist(p, b[0], b[1]); d < an.bronchR[i]-wall {
			return true
		}
	}
	return false
}

// airwayComponents counts the connected lumen components of the trachea
// and main bronchi on plane z (0.25 mm grid around the bifurcation).
func (an *anatomy) airwayComponents(z float64) int {
	h := 0.3
	P := an.carinaP
	n := int(56 / h)
	x0, y0 := P.X-28, P.Y-28
	mask := make([]bool, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			mask[j*n+i] = an.airwayLumen(x0+float64(i)*h, y0+float64(j)*h, z)
		}
	}
	return countComponents(mask, n, n)
}

// countComponents counts 4-connected true regions.
func countComponents(mask []bool, nx, ny int) int {
	seen := make([]bool, len(mask))
	var stack []int
	c := 0
	for i, m := range mask {
		if !m || seen[i] {
			continue
		}
		c++
		seen[i] = true
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := k%nx, k/nx
			for _, nb := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= nx || nb[1] >= ny {
					continue
				}
				q := nb[1]*nx + nb[0]
				if mask[q] && !seen[q] {
					seen[q] = true
					stack = append(stack, q)
				}
			}
		}
	}
	return c
}

// carinaZ finds the highest plane below the bifurcation point on which the
// main bronchi show two separate lumens: a downward scan in 1 mm steps,
// then a bisection to 0.05 mm.
func (an *anatomy) carinaZ() float64 {
	P := an.carinaP
	hi := 0.0 // connected at depth hi
	lo := -1.0
	for d := 1.0; d <= 25; d++ {
		if an.airwayComponents(P.Z-d) >= 2 {
			lo = d
			break
		}
		hi = d
	}
	if lo < 0 {
		return P.Z - an.lumenTrach // degenerate: should not happen
	}
	for lo-hi > 0.05 {
		m := (hi + lo) / 2
		if an.airwayComponents(P.Z-m) >= 2 {
			lo = m
		} else {
			hi = m
		}
	}
	return P.Z - lo
}
