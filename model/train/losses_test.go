//go:build !js

// Training is native only (the package links model/ingest, whose DICOM
// library makes node spend minutes instantiating a test binary), so its
// tests do not run under js/wasm.

package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"sscscore/model/cascade"
)

// checkGrad compares an analytic gradient with central differences on a
// few coordinates.
func checkGrad(t *testing.T, name string, x []float32, f func([]float32) (float64, []float32), idx []int) {
	t.Helper()
	_, g := f(x)
	for _, i := range idx {
		const h = 1e-2
		old := x[i]
		x[i] = old + h
		lp, _ := f(x)
		x[i] = old - h
		lm, _ := f(x)
		x[i] = old
		num := (lp - lm) / (2 * h)
		if d := math.Abs(num - float64(g[i])); d > 2e-3+0.02*math.Abs(num) {
			t.Errorf("%s: d/dx[%d] analytic %.6g, numeric %.6g, got %v, want <= %v", name, i, g[i], num, d, 2e-3+0.02*math.Abs(num))
		}
	}
}

func TestLevelsLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := 20
	samples := []*LevelsSample{
		{Target: [5]float64{3.2, 7, 10.5, 12, 15.9}, Inside: [5]bool{true, true, true, true, false}, Known: [5]bool{true, true, true, true, true}},
		{Target: [5]float64{0, 4, 8, 13, 19}, Inside: [5]bool{false, true, true, true, true}, Known: [5]bool{true, true, false, true, true}},
	}
	x := make([]float32, 2*5*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	f := func(x []float32) (float64, []float32) {
		l, g, _ := LevelsLoss(x, d, samples)
		return l, g
	}
	var idx []int
	for i := 0; i < len(x); i += 7 {
		idx = append(idx, i)
	}
	checkGrad(t, "levels", x, f, idx)
}

func TestScoresLossGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := cascade.CellSide * cascade.CellSide
	mk := func(masks bool) *ScoreTarget {
		tg := &ScoreTarget{Lung: make([]float32, n), Any: make([]float32, n), GG: make([]float32, n), RET: make([]float32, n),
			HasMasks: masks, HasLabels: true, Labels: cascade.Scores{TOT: 40, GG: 25, RET: 20}}
		for i := 0; i < n; i++ {
			if r.Float64() < 0.5 {
				tg.Lung[i] = float32(r.Float64())
				tg.GG[i] = float32(r.Float64() * 0.6)
				tg.RET[i] = float32(r.Float64() * 0.6)
				tg.Any[i] = max(tg.GG[i], tg.RET[i])
			}
		}
		return tg
	}
	targets := []*ScoreTarget{mk(true), mk(false)}
	x := make([]float32, 2*cascade.NumScoreChans*n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	f := func(x []float32) (float64, []float32) {
		l, g, _ := ScoresLoss(x, targets)
		return l, g
	}
	var idx []int
	for i := 0; i < len(x); i += 97 {
		idx = append(idx, i)
	}
	checkGrad(t, "scores", x, f, idx)
}

func TestScoresLossPerfect(t *testing.T) {
	// Logits that reproduce the targets exactly give the smallest loss
	// and scores equal to the labels.
	n := cascade.CellSide * cascade.CellSide
	tg := &ScoreTarget{Lung: make([]float32, n), Any: make([]float32, n), GG: make([]float32, n), RET: make([]float32, n), HasMasks: true}
	logit := func(p float64) float32 { return float32(math.Log(p / (1 - p))) }
	x := make([]float32, cascade.NumScoreChans*n)
	for i := 0; i < n; i++ {
		l, a, g, r := 0.01, 0.01, 0.5, 0.5
		if i%3 == 0 {
			l, a, g, r = 0.99, 0.5, 0.6, 0.5
		}
		tg.Lung[i], tg.Any[i], tg.GG[i], tg.RET[i] = float32(l), float32(a), float32(a*g), float32(a*r)
		x[cascade.ChanLung*n+i], x[cascade.ChanAny*n+i] = logit(l), logit(a)
		x[cascade.ChanGG*n+i], x[cascade.ChanRET*n+i] = logit(g), logit(r)
	}
	s, _ := cascade.ScoreHead(x)
	tg.Labels, tg.HasLabels = s, true
	l0, g, pr := ScoresLoss(x, []*ScoreTarget{tg})
	if math.Abs(pr[0].TOT-s.TOT) > 1e-4 {
		t.Fatalf("loss scores %v, head %v, got %v, want %v ± 1e-4", pr[0], s, pr[0].TOT, s.TOT)
	}
	for i, v := range g {
		if math.Abs(float64(v)) > 1e-5 {
			t.Fatalf("gradient %d at the optimum: got %g, want 0 ± 1e-5", i, v)
		}
	}
	x[0] += 1
	if l1, _, _ := ScoresLoss(x, []*ScoreTarget{tg}); l1 <= l0 {
		t.Fatalf("loss away from the optimum: got %g, want > %g (at the optimum)", l1, l0)
	}
}
