package cascade

import (
	"math"
	"testing"

	"sscscore/model/phantom"
)

// heatLogits builds (NumLevels, l) logits whose softmax puts, for each
// level, Gaussian bumps of width sd cells at the given cells (with the
// given weights).
func heatLogits(l int, sd float64, bumps [NumLevels][][2]float64) []float32 {
	out := make([]float32, NumLevels*l)
	for k, bs := range bumps {
		for i := 0; i < l; i++ {
			var p float64
			for _, b := range bs {
				d := (float64(i) - b[0]) / sd
				p += b[1] * math.Exp(-0.5*d*d)
			}
			out[k*l+i] = float32(math.Log(p + 1e-12))
		}
	}
	return out
}

// one is a single bump of weight 1.
func one(c float64) [][2]float64 { return [][2]float64{{c, 1}} }

func TestDecodeLevelsPrior(t *testing.T) {
	const l = 60
	// Cells are CoarseMM = 4 mm: the prior's mean distances are about 9,
	// 10 and 11 cells.
	cases := []struct {
		name string
		sd   float64
		heat [NumLevels][][2]float64
		// want: each level's position from the prior decoding (cells),
		// within tol
		want [NumLevels]float64
		tol  float64
	}{
		{
			name: "sharp and anatomical: unchanged",
			sd:   0.7,
			heat: [NumLevels][][2]float64{one(10), one(19), one(29), one(34.5), one(40)},
			want: [NumLevels]float64{10, 19, 29, 34.5, 40},
			tol:  0.15,
		},
		{
			// Heat maps as wide as the training targets (a network that is
			// sure) are trusted even for an anatomy in the prior's tail:
			// L1-L2 56 mm, about three standard deviations.
			name: "sure network, unusual anatomy: unchanged",
			sd:   LevelsTargetSigma,
			heat: [NumLevels][][2]float64{one(10), one(24), one(33), one(38.5), one(44)},
			want: [NumLevels]float64{10, 24, 33, 38.5, 44},
			tol:  0.3,
		},
		{
			// L2 hesitates between a plane just under L1 and one just
			// above L3 (equal peaks, the second slightly higher): the
			// distances to L1 and L3 choose the first.
			name: "double L2 peak: the anatomical one",
			sd:   0.7,
			heat: [NumLevels][][2]float64{one(10), {{19, 1}, {27, 1.1}}, one(30), one(35.5), one(41)},
			want: [NumLevels]float64{10, 19, 30, 35.5, 41},
			tol:  0.3,
		},
		{
			// A broad L2 map sitting too close to L3 moves up towards the
			// anatomical distance; L1 and L3 (sharp) stay.
			name: "broad L2 moves up",
			sd:   1,
			heat: [NumLevels][][2]float64{one(10), {{20, 0.3}, {24, 1}}, one(29), one(34.5), one(40)},
			want: [NumLevels]float64{10, 20.3, 29, 34.5, 40},
			tol:  1.2,
		},
		{
			// L1 beyond the top of the input (clamped to the first cell)
			// says only "here or above": L2 close below the edge is not
			// pushed down.
			name: "level beyond the edge does not push",
			sd:   0.7,
			heat: [NumLevels][][2]float64{one(0), one(3), one(13), one(18.5), one(24)},
			want: [NumLevels]float64{0.2, 3, 13, 18.5, 24},
			tol:  0.3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lg := heatLogits(l, tc.sd, tc.heat)
			got := DecodeLevelsPrior(lg, l, DefaultLevelPrior)
			for k := range got {
				if math.Abs(got[k].Pos-tc.want[k]) > tc.tol {
					t.Errorf("L%d at %.2f, want %.2f ± %.2f (independent: %.2f)", k+1, got[k].Pos, tc.want[k], tc.tol, DecodeLevels(lg, l)[k].Pos)
				}
				if got[k].Confidence <= 0 || got[k].Confidence > 1+1e-9 {
					t.Errorf("L%d confidence: got %.3f, want in (0, 1]", k+1, got[k].Confidence)
				}
			}
		})
	}
}

// TestDeblur: a Gaussian heat map of variance σ² + u (σ the training
// targets' width) comes out with variance u, floored at deblurFloor.
func TestDeblur(t *testing.T) {
	const l = 80
	for _, u := range []float64{0, 0.5, 2, 8} {
		v := LevelsTargetSigma*LevelsTargetSigma + u
		r := make([]float64, l)
		for i := range r {
			d := float64(i) - 40.3
			r[i] = math.Exp(-0.5 * d * d / v)
		}
		normalise(r)
		deblur(r)
		var m, got float64
		for i, x := range r {
			m += x * float64(i)
		}
		for i, x := range r {
			got += x * (float64(i) - m) * (float64(i) - m)
		}
		want := math.Max(u, deblurFloor)
		// a map narrower than a cell has its mean pulled to the nearest
		// cell by the sampling
		mtol := 0.05
		if want < 0.5 {
			mtol = 0.25
		}
		if math.Abs(got-want) > 0.05*want+0.02 || math.Abs(m-40.3) > mtol {
			t.Errorf("u %.1f: variance %.3f (want %.3f), mean %.2f", u, got, want, m)
		}
	}
}

// TestDecodeLevelsPriorConfidence: a prior that agrees with the network
// sharpens an uncertain level (its confidence rises).
func TestDecodeLevelsPriorConfidence(t *testing.T) {
	const l = 60
	lg := heatLogits(l, 0.7, [NumLevels][][2]float64{one(10), {{19, 1}, {27, 1}}, one(29), one(34.5), one(40)})
	ind, joint := DecodeLevels(lg, l), DecodeLevelsPrior(lg, l, DefaultLevelPrior)
	if joint[1].Confidence < ind[1].Confidence+0.2 {
		t.Errorf("L2 confidence %.2f with the prior, %.2f without, want >= %v", joint[1].Confidence, ind[1].Confidence, ind[1].Confidence+0.2)
	}
}

// TestDefaultLevelPriorMatchesPhantoms: the prior's distances are those of
// the phantoms the network is trained on (seeds 1-300 of the training
// range), so the two cannot drift apart unnoticed.
func TestDefaultLevelPriorMatchesPhantoms(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 300 phantoms")
	}
	var s, ss [3]float64
	const n = 300
	for seed := int64(1); seed <= n; seed++ {
		lv := phantom.New(seed, phantom.Options{}).Levels()
		for i, g := range [3]float64{lv[0] - lv[1], lv[1] - lv[2], lv[2] - lv[4]} {
			s[i] += g
			ss[i] += g * g
		}
	}
	for i, p := range [3]GapPrior{DefaultLevelPrior.L1L2, DefaultLevelPrior.L2L3, DefaultLevelPrior.L3L5} {
		m := s[i] / n
		sd := math.Sqrt(ss[i]/n - m*m)
		// the standard error of a mean of 300 is about 0.6 mm
		if math.Abs(m-p.Mean) > 2 || math.Abs(sd-p.SD) > 1.5 {
			t.Errorf("gap %d: got %.1f ± %.1f mm on the phantoms, want the prior's %.1f ± %.1f (mean within 2, SD within 1.5)", i, m, sd, p.Mean, p.SD)
		}
	}
}

// TestWithLevelPrior: the shipped cascade reads the levels under the
// default prior and says so; WithLevelPrior gives a cascade of the same
// networks with another reading and leaves the first unchanged.
func TestWithLevelPrior(t *testing.T) {
	c := defaultCascade(t)
	if c.Info().LevelDecoding != DecodingPrior || c.LevelPrior() == nil || *c.LevelPrior() != DefaultLevelPrior {
		t.Fatalf("default cascade: got decoding %q, prior %v; want %q, %v", c.Info().LevelDecoding, c.LevelPrior(), DecodingPrior, DefaultLevelPrior)
	}
	ind := c.WithLevelPrior(nil)
	if ind.Info().LevelDecoding != DecodingIndependent || ind.LevelPrior() != nil {
		t.Errorf("WithLevelPrior(nil): got decoding %q, prior %v; want %q, nil", ind.Info().LevelDecoding, ind.LevelPrior(), DecodingIndependent)
	}
	lv, sc := ind.Nets()
	if l0, s0 := c.Nets(); lv != l0 || sc != s0 {
		t.Error("WithLevelPrior: got other networks, want the same")
	}
	if c.Info().LevelDecoding != DecodingPrior {
		t.Errorf("original cascade after WithLevelPrior: got decoding %q, want %q", c.Info().LevelDecoding, DecodingPrior)
	}
	wide := DefaultLevelPrior
	wide.L2L3.SD *= 2
	if got := c.WithLevelPrior(&wide).LevelPrior(); got == nil || *got != wide {
		t.Errorf("WithLevelPrior(wide): got prior %v, want %v", got, wide)
	}
}
