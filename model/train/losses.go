package train

import (
	"math"

	"sscscore/model/cascade"
)

// Loss weights.
const (
	levelsSigma   = cascade.LevelsTargetSigma // Gaussian target width (input slices) of the heat-map cross-entropy
	levelsL1      = 0.05                      // weight of the smooth-L1 position loss (per mm)
	levelsL1Beta  = 2.0                       // its quadratic zone (mm)
	scoresFrac    = 5.0                       // weight of the smooth-L1 loss on the slice scores (per unit fraction)
	scoresFracBet = 0.01                      // its quadratic zone (1 % of the lung)
)

// LevelsLoss returns the mean loss of a batch of heat-map logits (B, 5, d)
// against the samples' targets, its gradient with respect to the logits,
// and the soft-argmax positions (input slices). Each known level adds a
// cross-entropy to a Gaussian of σ = 1 slice around its target and, when it
// lies inside the scan, a smooth-L1 loss on the soft-argmax position in mm.
func LevelsLoss(logits []float32, d int, samples []*LevelsSample) (float64, []float32, [][5]float64) {
	grad := make([]float32, len(logits))
	pos := make([][5]float64, len(samples))
	var loss float64
	terms := 0
	q := make([]float64, d)
	for bi, s := range samples {
		for c := 0; c < 5; c++ {
			off := (bi*5 + c) * d
			row := logits[off : off+d]
			p := cascade.Softmax(row, d)
			var mu float64
			for i, v := range p {
				mu += v * float64(i)
			}
			pos[bi][c] = mu
			if !s.Known[c] {
				continue
			}
			terms++
			t := s.Target[c]
			var qs float64
			for i := range q {
				e := (float64(i) - t) / levelsSigma
				q[i] = math.Exp(-0.5 * e * e)
				qs += q[i]
			}
			g := grad[off : off+d]
			for i := range q {
				q[i] /= qs
				if q[i] > 0 {
					loss -= q[i] * math.Log(math.Max(p[i], 1e-12))
				}
				g[i] = float32(p[i] - q[i])
			}
			if s.Inside[c] {
				dmm := (mu - t) * cascade.CoarseMM
				var dl float64
				if math.Abs(dmm) < levelsL1Beta {
					loss += levelsL1 * 0.5 * dmm * dmm / levelsL1Beta
					dl = dmm / levelsL1Beta
				} else {
					loss += levelsL1 * (math.Abs(dmm) - 0.5*levelsL1Beta)
					dl = math.Copysign(1, dmm)
				}
				dmu := levelsL1 * dl * cascade.CoarseMM
				for i, v := range p {
					g[i] += float32(dmu * v * (float64(i) - mu))
				}
			}
		}
	}
	if terms == 0 {
		return 0, grad, pos
	}
	inv := 1 / float64(terms)
	for i := range grad {
		grad[i] *= float32(inv)
	}
	return loss * inv, grad, pos
}

// ScoreTarget is the truth of one score-network sample: per-cell shares
// (CellSide² each) and the slice's labels in percent.
type ScoreTarget struct {
	// Lung is each cell's share of lung; Any, GG and RET the share of the
	// cell's lung with any disease, ground glass and reticulation. With
	// HasMasks false only Lung is known (from the lung mask).
	Lung, Any, GG, RET []float32
	HasMasks           bool
	Labels             cascade.Scores
	HasLabels          bool
}

func bce(p, t float64) float64 {
	p = math.Min(math.Max(p, 1e-7), 1-1e-7)
	return -(t*math.Log(p) + (1-t)*math.Log(1-p))
}

func smoothL1(d, beta float64) (float64, float64) {
	if math.Abs(d) < beta {
		return 0.5 * d * d / beta, d / beta
	}
	return math.Abs(d) - 0.5*beta, math.Copysign(1, d)
}

// ScoresLoss returns the mean loss of a batch of score-network logits
// (B, NumScoreChans, CellSide²), its gradient, and the predicted scores.
// Per sample: binary cross-entropy of the lung share of every cell; of the
// disease, ground-glass and reticulation shares of the lung cells
// (weighted by their lung share); and a smooth-L1 loss on the three slice
// scores (fractions of the lung).
func ScoresLoss(logits []float32, targets []*ScoreTarget) (float64, []float32, []cascade.Scores) {
	n := cascade.CellSide * cascade.CellSide
	per := cascade.NumScoreChans * n
	grad := make([]float32, len(logits))
	preds := make([]cascade.Scores, len(targets))
	var loss float64
	sig := func(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }
	for bi, t := range targets {
		lg := logits[bi*per : (bi+1)*per]
		g := grad[bi*per : (bi+1)*per]
		l := make([]float64, n)
		a := make([]float64, n)
		sg := make([]float64, n)
		sr := make([]float64, n)
		var sl, st, sgg, srr, wl float64
		for i := 0; i < n; i++ {
			l[i] = sig(lg[cascade.ChanLung*n+i])
			a[i] = sig(lg[cascade.ChanAny*n+i])
			sg[i] = sig(lg[cascade.ChanGG*n+i])
			sr[i] = sig(lg[cascade.ChanRET*n+i])
			sl += l[i]
			st += l[i] * a[i]
			sgg += l[i] * a[i] * sg[i]
			srr += l[i] * a[i] * sr[i]
			wl += float64(t.Lung[i])
		}
		var pr cascade.Scores
		if sl > 1e-6 {
			pr = cascade.Scores{TOT: 100 * st / sl, GG: 100 * sgg / sl, RET: 100 * srr / sl}
		}
		preds[bi] = pr
		// dense terms
		invN := 1 / float64(n)
		for i := 0; i < n; i++ {
			tl := float64(t.Lung[i])
			loss += bce(l[i], tl) * invN
			g[cascade.ChanLung*n+i] += float32((l[i] - tl) * invN)
		}
		if t.HasMasks && wl > 1e-6 {
			invW := 1 / wl
			for i := 0; i < n; i++ {
				w := float64(t.Lung[i]) * invW
				if w == 0 {
					continue
				}
				ta, tg, tr := float64(t.Any[i]), float64(t.GG[i]), float64(t.RET[i])
				gi := a[i] * sg[i]
				ri := a[i] * sr[i]
				loss += w * (bce(a[i], ta) + bce(gi, tg) + bce(ri, tr))
				// d bce(a)/dz_a = a - t
				da := a[i] - ta
				// g = a·s: d bce(g)/dz_a = (g-t)(1-a)/(1-g), d/dz_g = (g-t)(1-s)/(1-g)
				gc := math.Min(gi, 1-1e-6)
				rc := math.Min(ri, 1-1e-6)
				da += (gi - tg) * (1 - a[i]) / (1 - gc)
				da += (ri - tr) * (1 - a[i]) / (1 - rc)
				dg := (gi - tg) * (1 - sg[i]) / (1 - gc)
				dr := (ri - tr) * (1 - sr[i]) / (1 - rc)
				g[cascade.ChanAny*n+i] += float32(w * da)
				g[cascade.ChanGG*n+i] += float32(w * dg)
				g[cascade.ChanRET*n+i] += float32(w * dr)
			}
		}
		if t.HasLabels && sl > 1e-6 {
			F := [3]float64{st / sl, sgg / sl, srr / sl}
			T := [3]float64{t.Labels.TOT / 100, t.Labels.GG / 100, t.Labels.RET / 100}
			var dF [3]float64
			for k := range F {
				v, d := smoothL1(F[k]-T[k], scoresFracBet)
				loss += scoresFrac * v
				dF[k] = scoresFrac * d
			}
			for i := 0; i < n; i++ {
				// F_k = Σ l·m_k / Σ l, m = (a, a·s_g, a·s_r)
				m := [3]float64{a[i], a[i] * sg[i], a[i] * sr[i]}
				var dl float64
				for k := range F {
					dl += dF[k] * (m[k] - F[k]) / sl
				}
				dzL := dl * l[i] * (1 - l[i])
				// dF/da through each m_k
				dA := (dF[0] + dF[1]*sg[i] + dF[2]*sr[i]) * l[i] / sl
				dzA := dA * a[i] * (1 - a[i])
				dzG := dF[1] * l[i] / sl * a[i] * sg[i] * (1 - sg[i])
				dzR := dF[2] * l[i] / sl * a[i] * sr[i] * (1 - sr[i])
				g[cascade.ChanLung*n+i] += float32(dzL)
				g[cascade.ChanAny*n+i] += float32(dzA)
				g[cascade.ChanGG*n+i] += float32(dzG)
				g[cascade.ChanRET*n+i] += float32(dzR)
			}
		}
	}
	inv := 1 / float64(len(targets))
	for i := range grad {
		grad[i] *= float32(inv)
	}
	return loss * inv, grad, preds
}
