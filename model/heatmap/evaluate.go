package heatmap

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/lungmask"
	"sscscore/model/phantom"
	"sscscore/model/synth"
)

// Seed ranges of the heat-map evaluation: phantoms never used to train or
// validate the networks (model/train uses seeds below 1,000,000 for
// training, 1,000,001+ for validation and 2,000,001+ for its synthetic
// test set).
const (
	EvalSeeds        = 3_000_001 // test slices
	CalibrationSeeds = 3_500_001 // slices that choose the calibrated threshold
)

// Thresholds is the grid of thresholds (score points) the evaluation
// measures; the calibrated threshold is chosen from it.
var Thresholds = []float64{-0.05, -0.1, -0.2, -0.3, -0.4, -0.6, -0.8, -1, -1.5, -2, -3, -4, -6, -8, -12}

// EvalOptions controls Evaluate.
type EvalOptions struct {
	// Slices is the number of synthetic slices (one per phantom seed).
	Slices int
	// FirstSeed is the first phantom seed (default EvalSeeds).
	FirstSeed int64
	// Methods are the methods measured (default all three).
	Methods []Method
	// Occlusion configures the occlusion maps.
	Occlusion Options
	// Progress, if not nil, is called after each slice.
	Progress func(done, total int)
}

// EvalSlice describes one evaluation slice.
type EvalSlice struct {
	Seed int64 `json:"seed"`
	// Kind is "pasted" (a healthy phantom slice with synth.Paste lesions)
	// or "phantom" (a phantom with 3-D disease; truth masks from the
	// renderer).
	Kind   string       `json:"kind"`
	Level  int          `json:"level"` // 1-5: the level the slice was drawn near
	Truth  synth.Labels `json:"truth"` // lesion areas in % of the lung mask
	Pixels int          `json:"pixels"`
	// Lungmask is the share of the true lung that model/lungmask finds on
	// the slice (the maps are computed with the true lung mask, so that
	// segmentation errors do not confound them).
	Lungmask float64 `json:"lungmask"`
	// Net are the network's scores of the slice, Healthy its scores with
	// the lung replaced by the healthy texture (Maps.Healthy).
	Net     cascade.Scores `json:"net"`
	Healthy cascade.Scores `json:"healthy"`
}

// evalCounts are one slice's pixel counts for one method, score and
// threshold.
type evalCounts struct {
	hp, tp, lp, lung int
}

// EvalData holds the per-slice measurements of an evaluation, from which
// reports at any threshold of Thresholds are made.
type EvalData struct {
	Slices []EvalSlice
	// counts[method][slice][score][threshold]
	counts  map[Method][][NumScores][]evalCounts
	seconds map[Method]float64
	Model   cascade.ModelInfo
	First   int64
}

// renderEvalSlice renders slice seed of the evaluation: near level
// seed mod 5, two of three from a healthy phantom with pasted lesions, one
// of three from a phantom with 3-D disease. The lung mask is the true
// one: model/lungmask's on the healthy slice before the paste (the mask
// synth.Paste and the paper's labels use) or the renderer's; es.Lungmask
// is the share of it that model/lungmask finds on the final slice.
func renderEvalSlice(seed int64) (hu []int16, nx, ny int, sp [2]float64, lung, gg, ret []bool, es EvalSlice, err error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x4ea7a9))
	disease := seed%3 == 2
	p := phantom.New(seed, phantom.Options{Disease: disease})
	g := p.SliceGrid()
	level := int(seed % 5)
	z := p.Levels()[level] + rng.NormFloat64()*3
	nx, ny = g.Nx, g.Ny
	sp = [2]float64{g.DX, g.DY}
	hu = make([]int16, nx*ny)
	flags := make([]uint8, nx*ny)
	if err = p.RenderSlice(z, g, hu, flags); err != nil {
		return
	}
	es = EvalSlice{Seed: seed, Level: level + 1, Kind: "phantom"}
	if !disease {
		es.Kind = "pasted"
		lung = lungmask.Slice(hu, nx, ny, sp, lungmask.Options{})
		var m synth.Masks
		_, m = synth.Paste(hu, nx, ny, lung, rng, synth.Options{PixelSpacing: g.DX})
		gg, ret = m.GG, m.RET
	} else {
		lung = make([]bool, nx*ny)
		gg = make([]bool, nx*ny)
		ret = make([]bool, nx*ny)
		for i, f := range flags {
			lung[i] = f&phantom.MaskLung != 0
			gg[i] = lung[i] && f&phantom.MaskGG != 0
			ret[i] = lung[i] && f&phantom.MaskRET != 0
		}
	}
	found := lungmask.Slice(hu, nx, ny, sp, lungmask.Options{})
	var nl, nf int
	for i, l := range lung {
		if l {
			nl++
			if found[i] {
				nf++
			}
		}
	}
	if nl > 0 {
		es.Lungmask = float64(nf) / float64(nl)
	}
	es.Truth = synth.Measure(lung, gg, ret)
	return
}

// Evaluate measures the heat maps on opt.Slices synthetic slices with
// known lesion masks: for each method, score and threshold of Thresholds,
// the highlighted lung pixels (value below the threshold) against the
// true lesion mask (TOT: ground glass or reticulation), and the heat-map
// score against the network's score.
func Evaluate(ctx context.Context, c *cascade.Cascade, opt EvalOptions) (*EvalData, error) {
	if opt.Slices <= 0 {
		return nil, fmt.Errorf("heatmap: no slices to evaluate")
	}
	if opt.FirstSeed == 0 {
		opt.FirstSeed = EvalSeeds
	}
	if len(opt.Methods) == 0 {
		opt.Methods = []Method{MethodGradient, MethodOcclusion, MethodDense}
	}
	d := &EvalData{counts: map[Method][][NumScores][]evalCounts{}, seconds: map[Method]float64{}, Model: c.Info(), First: opt.FirstSeed}
	for seed := opt.FirstSeed; len(d.Slices) < opt.Slices; seed++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if seed > opt.FirstSeed+int64(2*opt.Slices)+10 {
			return nil, fmt.Errorf("heatmap: too many evaluation slices without lung")
		}
		hu, nx, ny, sp, lung, gg, ret, es, err := renderEvalSlice(seed)
		if err != nil {
			return nil, fmt.Errorf("heatmap: evaluation slice %d: %w", seed, err)
		}
		in := cascade.PrepareSliceWithLung(hu, lung, nx, ny, sp)
		if in.NoLung {
			continue
		}
		es.Pixels = nx * ny
		var truth [NumScores][]bool
		truth[TOT] = make([]bool, nx*ny)
		truth[GG] = make([]bool, nx*ny)
		truth[RET] = make([]bool, nx*ny)
		for i := range truth[TOT] {
			g := gg != nil && gg[i]
			r := ret != nil && ret[i]
			truth[GG][i], truth[RET][i], truth[TOT][i] = g, r, g || r
		}
		for _, meth := range opt.Methods {
			t0 := time.Now()
			m, err := Compute(ctx, meth, c, in, nx, ny, opt.Occlusion)
			if err != nil {
				return nil, fmt.Errorf("heatmap: evaluation slice %d, %s: %w", seed, meth, err)
			}
			d.seconds[meth] += time.Since(t0).Seconds()
			es.Net = m.Scores
			if meth != MethodDense {
				es.Healthy = m.Healthy
			}
			var sc [NumScores][]evalCounts
			for _, s := range Scores {
				sc[s] = make([]evalCounts, len(Thresholds))
				for i, l := range m.Lung {
					if !l {
						continue
					}
					v := m.Values[s][i]
					for k, th := range Thresholds {
						cn := &sc[s][k]
						cn.lung++
						if truth[s][i] {
							cn.lp++
						}
						if v < float32(th) {
							cn.hp++
							if truth[s][i] {
								cn.tp++
							}
						}
					}
				}
			}
			d.counts[meth] = append(d.counts[meth], sc)
		}
		d.Slices = append(d.Slices, es)
		if opt.Progress != nil {
			opt.Progress(len(d.Slices), opt.Slices)
		}
	}
	return d, nil
}

// Metrics are one method's measurements for one score at one threshold.
type Metrics struct {
	// Precision is the share of the highlighted lung pixels that lie in
	// the true lesion mask, Recall the share of the lesion highlighted,
	// both pooled over the slices' pixels.
	Precision, Recall float64
	// MeanPrecision and MeanRecall average the per-slice values over the
	// slices where they are defined (something highlighted; some lesion).
	MeanPrecision, MeanRecall float64
	// MAE is the mean absolute difference between the heat-map score and
	// the network's score (points), R2 the coefficient of determination of
	// the heat-map score as a predictor of the network's score (1 - SSres
	// / SStot, identity line), PearsonR2 the squared correlation.
	MAE, R2, PearsonR2 float64
}

// MethodReport is one method's results at one threshold.
type MethodReport struct {
	Method    Method
	Threshold float64
	Scores    [NumScores]Metrics
	// Seconds is the mean native time per slice (all three scores).
	Seconds float64
}

// thresholdIndex returns the index of t in Thresholds.
func thresholdIndex(t float64) (int, error) {
	for i, v := range Thresholds {
		if math.Abs(v-t) < 1e-9 {
			return i, nil
		}
	}
	return 0, fmt.Errorf("heatmap: threshold %g is not in the evaluation grid %v", t, Thresholds)
}

// Report summarises method at threshold t (one of Thresholds).
func (d *EvalData) Report(method Method, t float64) (MethodReport, error) {
	k, err := thresholdIndex(t)
	if err != nil {
		return MethodReport{}, err
	}
	cs, ok := d.counts[method]
	if !ok {
		return MethodReport{}, fmt.Errorf("heatmap: method %s not evaluated", method)
	}
	r := MethodReport{Method: method, Threshold: t, Seconds: d.seconds[method] / float64(max(1, len(cs)))}
	for _, s := range Scores {
		var tp, hp, lp int
		var sp, sr float64
		var np, nr int
		var hs, ns []float64
		for i, sc := range cs {
			cn := sc[s][k]
			tp += cn.tp
			hp += cn.hp
			lp += cn.lp
			if cn.hp > 0 {
				sp += float64(cn.tp) / float64(cn.hp)
				np++
			}
			if cn.lp > 0 {
				sr += float64(cn.tp) / float64(cn.lp)
				nr++
			}
			if cn.lung > 0 {
				hs = append(hs, 100*float64(cn.hp)/float64(cn.lung))
				ns = append(ns, s.of(d.Slices[i].Net))
			}
		}
		m := &r.Scores[s]
		m.Precision = ratio(tp, hp)
		m.Recall = ratio(tp, lp)
		if np > 0 {
			m.MeanPrecision = sp / float64(np)
		}
		if nr > 0 {
			m.MeanRecall = sr / float64(nr)
		}
		m.MAE, m.R2, m.PearsonR2 = agreement(hs, ns)
	}
	return r, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// agreement returns the MAE, the identity-line R² and the squared
// Pearson correlation of predictions p against references r.
func agreement(p, r []float64) (mae, r2, pr2 float64) {
	n := float64(len(p))
	if n == 0 {
		return 0, 0, 0
	}
	var mp, mr float64
	for i := range p {
		mae += math.Abs(p[i] - r[i])
		mp += p[i]
		mr += r[i]
	}
	mae /= n
	mp /= n
	mr /= n
	var ssres, sstot, spp, srr, spr float64
	for i := range p {
		ssres += (p[i] - r[i]) * (p[i] - r[i])
		sstot += (r[i] - mr) * (r[i] - mr)
		spp += (p[i] - mp) * (p[i] - mp)
		srr += (r[i] - mr) * (r[i] - mr)
		spr += (p[i] - mp) * (r[i] - mr)
	}
	if sstot > 0 {
		r2 = 1 - ssres/sstot
	}
	if spp > 0 && srr > 0 {
		pr2 = spr * spr / (spp * srr)
	}
	return mae, r2, pr2
}

// Calibrate returns the threshold of Thresholds at which method's pooled
// precision and recall, averaged over the three scores, are most
// balanced at their best: the largest min(precision, recall).
func (d *EvalData) Calibrate(method Method) (float64, error) {
	best, bestT := -1.0, DefaultThreshold
	for _, t := range Thresholds {
		r, err := d.Report(method, t)
		if err != nil {
			return 0, err
		}
		var p, rc float64
		for _, m := range r.Scores {
			p += m.Precision / float64(NumScores)
			rc += m.Recall / float64(NumScores)
		}
		if v := math.Min(p, rc); v > best {
			best, bestT = v, t
		}
	}
	return bestT, nil
}

// Methods returns the evaluated methods in a fixed order.
func (d *EvalData) Methods() []Method {
	var out []Method
	for _, m := range []Method{MethodGradient, MethodOcclusion, MethodDense} {
		if _, ok := d.counts[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// WriteTable writes reports as a Markdown table.
func WriteTable(w io.Writer, reports []MethodReport) {
	fmt.Fprintln(w, "| method | threshold | score | precision | recall | mean prec. | mean rec. | MAE | R² (y=x) | r² | s/slice |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range reports {
		for _, s := range Scores {
			m := r.Scores[s]
			fmt.Fprintf(w, "| %s | %g | %s | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f |\n",
				r.Method, r.Threshold, s, m.Precision, m.Recall, m.MeanPrecision, m.MeanRecall, m.MAE, m.R2, m.PearsonR2, r.Seconds)
		}
	}
}
