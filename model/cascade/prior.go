package cascade

import "math"

// GapPrior is a normal prior on the craniocaudal distance (mm) from one
// level down to the next.
type GapPrior struct {
	Mean, SD float64
}

// LevelPrior is the anatomical prior on the distances between the levels:
// L1 to L2, L2 to L3 and L3 to L5 (L4 lies halfway between L3 and L5 by
// definition).
type LevelPrior struct {
	L1L2, L2L3, L3L5 GapPrior
}

// DefaultLevelPrior holds the distances of the phantoms the levels network
// is trained on (model/phantom seeds 1-1000, measured on their built
// anatomy: 35.7 ± 6.9, 40.2 ± 7.7 and 45.0 ± 10.4 mm), whose ranges follow
// the anatomical literature cited in model/phantom (params.go). A test
// keeps the two in step.
var DefaultLevelPrior = LevelPrior{
	L1L2: GapPrior{35.7, 6.9},
	L2L3: GapPrior{40.2, 7.7},
	L3L5: GapPrior{45.0, 10.4},
}

// gapFloor is added to every gap factor: it keeps the decoding defined
// when the network and the prior disagree completely and lets a confident
// network overrule the prior for an anatomy in its far tails (a robust,
// heavy-tailed prior). It was set once, a priori, not fitted.
const gapFloor = 1e-4

// gapFactors returns the (l x l) matrix F[i*l+j] = P(the upper level lies in
// input cell i and the lower one in cell j | gap prior g), up to a
// constant. Input cells are CoarseMM apart with z falling as the index
// grows; the first and the last cell stand for "here or beyond" (the
// training targets of levels beyond the padding are clamped to them), so
// their gap intervals are open on that side.
func gapFactors(l int, g GapPrior) []float64 {
	f := make([]float64, l*l)
	lo := func(i int) float64 {
		if i == 0 {
			return math.Inf(-1)
		}
		return float64(i) - 0.5
	}
	hi := func(i int) float64 {
		if i == l-1 {
			return math.Inf(1)
		}
		return float64(i) + 0.5
	}
	cdf := func(cells float64) float64 {
		return 0.5 * math.Erfc(-(cells*CoarseMM-g.Mean)/(g.SD*math.Sqrt2))
	}
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			// distance in cells from the upper (i) to the lower (j) level;
			// for two inner cells an interval one cell wide around j-i
			gLo := lo(j) - hi(i) + 0.5
			gHi := hi(j) - lo(i) - 0.5
			f[i*l+j] = cdf(gHi) - cdf(gLo) + gapFloor
		}
	}
	return f
}

// DecodeLevelsPrior reads the (NumLevels, l) heat-map logits of one scan
// jointly under the anatomical prior: the network's per-level
// probabilities are taken as independent evidence, the prior couples L1-L2,
// L2-L3 and L3-L5 by their distances, and L4's heat map is evidence on the
// midpoint of L3 and L5. Each level is read from its posterior marginal
// (exact, by message passing along the chain) as DecodeLevels reads the
// network's own heat map; L4 keeps the network's own reading (the cascade
// places it halfway between L3 and L5 whenever both lie in the scan).
//
// The network was trained to draw a Gaussian of LevelsTargetSigma around
// each level, so even a perfect heat map is that wide; each map is first
// narrowed by that width (deblur) so that the prior weighs only the
// network's real uncertainty. Where the network is sure (a sharp peak) the
// prior barely moves it; where it hesitates between places (a broad or
// double peak) the positions of the other levels decide.
func DecodeLevelsPrior(logits []float32, l int, prior LevelPrior) [NumLevels]LevelPeak {
	p := Softmax(logits[:NumLevels*l], l)
	row := func(c int) []float64 { return p[c*l : (c+1)*l] }
	for c := 0; c < NumLevels; c++ {
		deblur(row(c))
	}
	p1, p2, p3, p4, p5 := row(0), row(1), row(2), row(3), row(4)
	g12 := gapFactors(l, prior.L1L2)
	g23 := gapFactors(l, prior.L2L3)
	g35 := gapFactors(l, prior.L3L5)
	// psi couples L3 and L5: their distance, and L4's heat map at their
	// midpoint (uninformative when either is at the edge, beyond the
	// padding, where the midpoint is unknown).
	psi := make([]float64, l*l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			q := 1 / float64(l)
			if i > 0 && j < l-1 && i < l-1 && j > 0 {
				q = 0.5 * (p4[(i+j)/2] + p4[(i+j+1)/2])
			}
			psi[i*l+j] = g35[i*l+j] * q
		}
	}
	// a(i2): evidence on L2 from L1; b(i3): from L1 and L2 on L3.
	a := make([]float64, l)
	for j := 0; j < l; j++ {
		for i := 0; i < l; i++ {
			a[j] += p1[i] * g12[i*l+j]
		}
	}
	b := make([]float64, l)
	for j := 0; j < l; j++ {
		for i := 0; i < l; i++ {
			b[j] += p2[i] * a[i] * g23[i*l+j]
		}
	}
	// c(i3): evidence on L3 from L4 and L5; d(i2): from L3..L5 on L2;
	// e(i1): from L2..L5 on L1.
	c := make([]float64, l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			c[i] += psi[i*l+j] * p5[j]
		}
	}
	d := make([]float64, l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			d[i] += g23[i*l+j] * p3[j] * c[j]
		}
	}
	e := make([]float64, l)
	for i := 0; i < l; i++ {
		for j := 0; j < l; j++ {
			e[i] += g12[i*l+j] * p2[j] * d[j]
		}
	}
	post := make([][]float64, NumLevels)
	for k := range post {
		post[k] = make([]float64, l)
	}
	for i := 0; i < l; i++ {
		post[0][i] = p1[i] * e[i]
		post[1][i] = p2[i] * a[i] * d[i]
		post[2][i] = p3[i] * b[i] * c[i]
		post[3][i] = p4[i]
		for j := 0; j < l; j++ {
			post[4][j] += p3[i] * b[i] * psi[i*l+j] * p5[j]
		}
	}
	var out [NumLevels]LevelPeak
	for k, r := range post {
		normalise(r)
		out[k] = readPeak(r)
	}
	return out
}

// deblur narrows one heat map (probabilities over the input slices, in
// place) by the width of the training targets: for a Gaussian map of
// variance v, which is the network's uncertainty v - σ² blurred by the
// target's σ², raising it to the power v/(v - σ²) gives back variance
// v - σ². v is taken over the cells above 1/1000 of the peak (the far
// tails would dominate it otherwise), and v - σ² is floored at
// deblurFloor.
func deblur(r []float64) {
	mx := 0.0
	for _, v := range r {
		mx = math.Max(mx, v)
	}
	if mx <= 0 {
		return
	}
	var s, m, v float64
	for i, x := range r {
		if x > 1e-3*mx {
			s += x
			m += x * float64(i)
		}
	}
	m /= s
	for i, x := range r {
		if x > 1e-3*mx {
			v += x * (float64(i) - m) * (float64(i) - m)
		}
	}
	v /= s
	sig2 := LevelsTargetSigma * LevelsTargetSigma
	k := v / math.Max(v-sig2, deblurFloor)
	for i, x := range r {
		// relative to the peak, so that large k cannot underflow it
		r[i] = math.Exp(k * math.Log(math.Max(x/mx, 1e-300)))
	}
	normalise(r)
}

// deblurFloor (input slices²) is the least uncertainty deblur leaves a
// heat map: a standard deviation of about 0.3 slices (1.3 mm).
const deblurFloor = 0.1

// normalise scales r to sum 1 (a uniform row when it sums to zero).
func normalise(r []float64) {
	var s float64
	for _, v := range r {
		s += v
	}
	for i := range r {
		if s > 0 {
			r[i] /= s
		} else {
			r[i] = 1 / float64(len(r))
		}
	}
}
