package cascade

import "math"

// NumLevels is the number of Goh scoring levels.
const NumLevels = 5

// LevelNames names the levels: L1 origin of the great vessels, L2 main
// carina, L3 pulmonary venous confluence, L4 halfway between L3 and L5, L5
// just above the right hemidiaphragm.
var LevelNames = [NumLevels]string{"L1", "L2", "L3", "L4", "L5"}

// LevelPeak is the levels network's reading of one level's heat map.
type LevelPeak struct {
	// Pos is the position along the network input (in input slices,
	// fractional), from a soft-argmax in a window around the peak.
	Pos float64
	// Confidence is the probability mass within ±2 input slices (±8 mm) of
	// the peak.
	Confidence float64
}

// LevelsTargetSigma is the standard deviation (input slices) of the
// Gaussian the levels network is trained to draw around each level (its
// heat-map target).
const LevelsTargetSigma = 1.0

// peakWindow is the half-width (input slices) of the local soft-argmax.
const peakWindow = 3

// Softmax returns the softmax of each row of length l of x.
func Softmax(x []float32, l int) []float64 {
	p := make([]float64, len(x))
	for r := 0; r+l <= len(x); r += l {
		m := math.Inf(-1)
		for _, v := range x[r : r+l] {
			m = math.Max(m, float64(v))
		}
		var s float64
		for i, v := range x[r : r+l] {
			e := math.Exp(float64(v) - m)
			p[r+i] = e
			s += e
		}
		for i := r; i < r+l; i++ {
			p[i] /= s
		}
	}
	return p
}

// DecodeLevels reads the (NumLevels, l) heat-map logits of one scan, each
// level on its own (DecodeLevelsPrior reads them jointly).
func DecodeLevels(logits []float32, l int) [NumLevels]LevelPeak {
	var out [NumLevels]LevelPeak
	p := Softmax(logits[:NumLevels*l], l)
	for c := 0; c < NumLevels; c++ {
		out[c] = readPeak(p[c*l : (c+1)*l])
	}
	return out
}

// readPeak reads one level's probabilities over the input slices: the
// soft-argmax within peakWindow of the most probable slice, and the mass
// within two slices of it.
func readPeak(row []float64) LevelPeak {
	l := len(row)
	m := 0
	for i, v := range row {
		if v > row[m] {
			m = i
		}
	}
	var s, w, conf float64
	for i := max(0, m-peakWindow); i <= min(l-1, m+peakWindow); i++ {
		s += row[i] * float64(i)
		w += row[i]
		if i >= m-2 && i <= m+2 {
			conf += row[i]
		}
	}
	return LevelPeak{Pos: s / w, Confidence: conf}
}

// Scores are disease extents in percent of the lung area.
type Scores struct {
	TOT, GG, RET float64
}

// Score-network output channels (logits, CellSide² each).
const (
	ChanLung = iota // the cell's share of lung
	ChanAny         // the share of the cell's lung that is diseased (TOT)
	ChanGG          // the share of the diseased lung that is ground glass
	ChanRET         // the share of the diseased lung that is reticulation
	NumScoreChans
)

// ScoreMaps are the score network's per-cell estimates (CellSide² each,
// 0..1): lung share, and the shares of that lung with any disease, ground
// glass and reticulation. GG and RET never exceed TOT.
type ScoreMaps struct {
	Lung, TOT, GG, RET []float32
}

func sigmoid(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }

// ScoreHead turns the score network's output logits (NumScoreChans x
// CellSide²) into per-cell maps and the slice's scores: each score is the
// lung-weighted mean of its map, so TOT ≥ max(GG, RET) by construction.
func ScoreHead(logits []float32) (Scores, ScoreMaps) {
	n := CellSide * CellSide
	m := ScoreMaps{Lung: make([]float32, n), TOT: make([]float32, n), GG: make([]float32, n), RET: make([]float32, n)}
	var sl, st, sg, sr float64
	for i := 0; i < n; i++ {
		l := sigmoid(logits[ChanLung*n+i])
		a := sigmoid(logits[ChanAny*n+i])
		g := a * sigmoid(logits[ChanGG*n+i])
		r := a * sigmoid(logits[ChanRET*n+i])
		m.Lung[i], m.TOT[i], m.GG[i], m.RET[i] = float32(l), float32(a), float32(g), float32(r)
		sl += l
		st += l * a
		sg += l * g
		sr += l * r
	}
	if sl < 1e-6 {
		return Scores{}, m
	}
	return Scores{TOT: 100 * st / sl, GG: 100 * sg / sl, RET: 100 * sr / sl}, m
}
