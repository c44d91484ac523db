package heatmap

import (
	"fmt"
	"math"

	"sscscore/model/cascade"
)

// Score names one of the three scores a map explains.
type Score int

// The scores, in the order of Maps.Values.
const (
	TOT Score = iota // total disease extent
	GG               // ground glass
	RET              // reticulation
	NumScores
)

// Scores lists the three scores in order.
var Scores = [NumScores]Score{TOT, GG, RET}

func (s Score) String() string {
	switch s {
	case TOT:
		return "TOT"
	case GG:
		return "GG"
	case RET:
		return "RET"
	}
	return fmt.Sprintf("Score(%d)", int(s))
}

func (s Score) of(v cascade.Scores) float64 {
	switch s {
	case GG:
		return v.GG
	case RET:
		return v.RET
	}
	return v.TOT
}

// Method names how a map was computed.
type Method string

// The methods.
const (
	// MethodGradient is Grad-CAM on the score network's last convolutional
	// block (Gradient): the fast default.
	MethodGradient Method = "gradient"
	// MethodOcclusion is the paper's occlusion sensitivity (Occlusion).
	MethodOcclusion Method = "occlusion"
	// MethodDense is the score network's own per-cell disease maps (Dense).
	MethodDense Method = "dense"
)

// Paper defaults (Jia et al., Sci Rep 2024) in pixels of the original
// slice.
const (
	// DefaultWindow is the side of an occlusion window (64 px of a 512² slice).
	DefaultWindow = 64
	// DefaultStride is the step between windows.
	DefaultStride = 16
	// DefaultSoften is the side of the box that softens a window's edges.
	DefaultSoften = 5
	// DefaultThreshold is the value (score points) below which a pixel
	// counts as highlighted: the paper's -0.6 points.
	DefaultThreshold = -0.6
)

// Maps are the heat maps of one slice, one per score, on the slice's
// original pixel grid (Nx × Ny, row-major). Values are in score points:
// the change of the score when a window of DefaultWindow² original pixels
// around the pixel is made healthy. They are negative where disease
// drives the score, and 0 outside the lung.
type Maps struct {
	Method Method
	Nx, Ny int
	// Values holds the TOT, GG and RET maps (Nx·Ny values each).
	Values [NumScores][]float32
	// Lung is the slice's lung mask (Nx·Ny), the only pixels with values.
	Lung []bool
	// Scores are the score network's scores of the slice.
	Scores cascade.Scores
	// Healthy are its scores when every lung pixel is replaced by the
	// healthy-lung texture (HealthyTexture): the floor the maps explain
	// the scores against (gradient and occlusion maps).
	Healthy cascade.Scores
	// Window is the window side (original pixels) the values refer to.
	Window int
	// Windows is the number of occlusion windows evaluated (occlusion
	// maps only).
	Windows int
}

// Map returns the map of score s.
func (m *Maps) Map(s Score) []float32 { return m.Values[s] }

// Highlight returns the lung pixels whose value of score s is below
// threshold (score points, negative; DefaultThreshold in the paper),
// compared in float32 like the values.
func (m *Maps) Highlight(s Score, threshold float64) []bool {
	h := make([]bool, m.Nx*m.Ny)
	th := float32(threshold)
	for i, v := range m.Values[s] {
		h[i] = m.Lung[i] && v < th
	}
	return h
}

// Score returns the heat-map score of s: the percentage of the lung
// pixels whose value is below threshold. It estimates the network's own
// score from the map (see the package documentation for how well).
func (m *Maps) Score(s Score, threshold float64) float64 {
	var nl, nh int
	th := float32(threshold)
	for i, l := range m.Lung {
		if !l {
			continue
		}
		nl++
		if m.Values[s][i] < th {
			nh++
		}
	}
	if nl == 0 {
		return 0
	}
	return 100 * float64(nh) / float64(nl)
}

// NetScore returns the score network's score s of the slice.
func (m *Maps) NetScore(s Score) float64 { return s.of(m.Scores) }

// checkInput validates a prepared slice and its original size.
func checkInput(in *cascade.SliceInput, nx, ny int) error {
	if in == nil {
		return fmt.Errorf("heatmap: no slice")
	}
	if nx < 1 || ny < 1 || len(in.Lung) != nx*ny {
		return fmt.Errorf("heatmap: slice of %dx%d pixels with a lung mask of %d", nx, ny, len(in.Lung))
	}
	if len(in.X) != 2*cascade.SliceSide*cascade.SliceSide {
		return fmt.Errorf("heatmap: network input of %d values, want %d", len(in.X), 2*cascade.SliceSide*cascade.SliceSide)
	}
	if in.NoLung {
		return fmt.Errorf("heatmap: the slice shows no lung to score (%.0f mm²)", in.LungAreaMM2)
	}
	if !(in.Step[0] > 0) || !(in.Step[1] > 0) {
		return fmt.Errorf("heatmap: bad input grid step %v", in.Step)
	}
	return nil
}

// netCoords returns the input-grid coordinates (column, row; pixel i
// centred at i) of original pixel (x, y).
func netCoords(in *cascade.SliceInput, x, y float64) (float64, float64) {
	return (x - in.X0) / in.Step[0], (y - in.Y0) / in.Step[1]
}

// windowAreaNet is the area of a window of w original pixels in input
// pixels.
func windowAreaNet(in *cascade.SliceInput, w int) float64 {
	return float64(w) / in.Step[0] * float64(w) / in.Step[1]
}

// cellsToPixels turns per-cell contributions (score points, CellSide²
// values for each score) into maps on the original grid. The value at a
// pixel is a density of the score per input pixel of lung, taken as the
// ratio of the contributions and of the lung areas (the input's
// lung-coverage channel) of the cells around it, both interpolated
// bilinearly between cell centres (stable at the lung's edge, where a
// cell holds little lung), and scaled to a window of win original pixels.
func cellsToPixels(cells [NumScores][]float64, in *cascade.SliceInput, nx, ny, win int) [NumScores][]float32 {
	side, st, cs := cascade.SliceSide, cascade.CellStride, cascade.CellSide
	n := side * side
	lungCov := in.X[n : 2*n]
	area := make([]float64, cs*cs)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			area[(y/st)*cs+x/st] += float64(lungCov[y*side+x])
		}
	}
	scale := windowAreaNet(in, win)
	var out [NumScores][]float32
	for s := range out {
		out[s] = make([]float32, nx*ny)
	}
	half := float64(st-1) / 2 // cell i is centred on input pixel st·i + half
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			p := y*nx + x
			if !in.Lung[p] {
				continue
			}
			u, v := netCoords(in, float64(x), float64(y))
			cu, cv := (u-half)/float64(st), (v-half)/float64(st)
			i0, j0 := int(math.Floor(cu)), int(math.Floor(cv))
			fu, fv := cu-float64(i0), cv-float64(j0)
			var wa float64
			var acc [NumScores]float64
			for dj := 0; dj < 2; dj++ {
				for di := 0; di < 2; di++ {
					i, j := i0+di, j0+dj
					if i < 0 || j < 0 || i >= cs || j >= cs {
						continue
					}
					w := (1 - math.Abs(fu-float64(di))) * (1 - math.Abs(fv-float64(dj)))
					k := j*cs + i
					wa += w * area[k]
					for s := range acc {
						acc[s] += w * cells[s][k]
					}
				}
			}
			if wa > 0 {
				for s := range acc {
					out[s][p] = float32(acc[s] / wa * scale)
				}
			}
		}
	}
	return out
}

// sigmoid is the logistic function in float64.
func sigmoid(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }

// cellTerms returns, for cell i of the score network's logits (the
// NumScoreChans × CellSide² layout of cascade.ScoreHead), the lung share
// and the lung-weighted TOT, GG and RET shares.
func cellTerms(logits []float32, i int) (l, t, g, r float64) {
	n := cascade.CellSide * cascade.CellSide
	l = sigmoid(logits[cascade.ChanLung*n+i])
	a := sigmoid(logits[cascade.ChanAny*n+i])
	return l, l * a, l * a * sigmoid(logits[cascade.ChanGG*n+i]), l * a * sigmoid(logits[cascade.ChanRET*n+i])
}

// headSums accumulates the score head's sums over cells.
type headSums struct{ l, t, g, r float64 }

func (h headSums) scores() cascade.Scores {
	if h.l < 1e-6 {
		return cascade.Scores{}
	}
	return cascade.Scores{TOT: 100 * h.t / h.l, GG: 100 * h.g / h.l, RET: 100 * h.r / h.l}
}

func sumsOf(logits []float32) headSums {
	var h headSums
	for i := 0; i < cascade.CellSide*cascade.CellSide; i++ {
		l, t, g, r := cellTerms(logits, i)
		h.l += l
		h.t += t
		h.g += g
		h.r += r
	}
	return h
}

// scoreGrads returns ∂score/∂logits of the three scores for the score
// head (the derivative of cascade.ScoreHead), in the logits' layout.
func scoreGrads(logits []float32) [NumScores][]float32 {
	n := cascade.CellSide * cascade.CellSide
	var g [NumScores][]float32
	for s := range g {
		g[s] = make([]float32, len(logits))
	}
	sig := make([]float64, 4*n)
	var h headSums
	for i := 0; i < n; i++ {
		l := sigmoid(logits[cascade.ChanLung*n+i])
		a := sigmoid(logits[cascade.ChanAny*n+i])
		pg := sigmoid(logits[cascade.ChanGG*n+i])
		pr := sigmoid(logits[cascade.ChanRET*n+i])
		sig[4*i], sig[4*i+1], sig[4*i+2], sig[4*i+3] = l, a, pg, pr
		h.l += l
		h.t += l * a
		h.g += l * a * pg
		h.r += l * a * pr
	}
	if h.l < 1e-6 {
		return g
	}
	sc := h.scores()
	k := 100 / h.l
	for i := 0; i < n; i++ {
		l, a, pg, pr := sig[4*i], sig[4*i+1], sig[4*i+2], sig[4*i+3]
		dl := l * (1 - l)
		da := a * (1 - a)
		g[TOT][cascade.ChanAny*n+i] = float32(k * l * da)
		g[TOT][cascade.ChanLung*n+i] = float32(k * (a - sc.TOT/100) * dl)
		g[GG][cascade.ChanAny*n+i] = float32(k * l * pg * da)
		g[GG][cascade.ChanGG*n+i] = float32(k * l * a * pg * (1 - pg))
		g[GG][cascade.ChanLung*n+i] = float32(k * (a*pg - sc.GG/100) * dl)
		g[RET][cascade.ChanAny*n+i] = float32(k * l * pr * da)
		g[RET][cascade.ChanRET*n+i] = float32(k * l * a * pr * (1 - pr))
		g[RET][cascade.ChanLung*n+i] = float32(k * (a*pr - sc.RET/100) * dl)
	}
	return g
}
