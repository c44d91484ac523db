package cascade

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"runtime"
	"sync"

	"sscscore/model/buildinfo"
	"sscscore/model/eval"
	"sscscore/model/nn"
	"sscscore/model/nn/spec"
	"sscscore/model/parallel"
	"sscscore/model/volume"
	"sscscore/model/weights"
)

// SyntheticNote is the statement every result carries while the shipped
// networks are trained on synthetic data only.
const SyntheticNote = "Trained on synthetic data only (procedural thorax phantoms and pasted ground glass and reticulation); not validated on patients with systemic sclerosis. Research use only, not a medical device."

// Note returns the statement the cascade's results carry: SyntheticNote,
// or for the weights of a weights folder a statement naming them.
func (c *Cascade) Note() string {
	if c.info.Weights == "" {
		return SyntheticNote
	}
	return fmt.Sprintf("Weights %q (trained on: %s), not the shipped ones; see their model card for what they were validated on. Research use only, not a medical device.", c.info.Weights, c.info.Training)
}

// NetInfo describes one network of the cascade.
type NetInfo struct {
	Spec   string  `json:"spec"`
	SHA256 string  `json:"sha256"`
	Params int     `json:"params"`
	GFLOP  float64 `json:"gflop"` // for the spec's nominal input
}

// ModelInfo is the provenance of a result.
type ModelInfo struct {
	Levels   NetInfo `json:"levels"`
	Scores   NetInfo `json:"scores"`
	Training string  `json:"training"` // "synthetic" for the shipped weights
	// Weights names the weights when they are not the shipped ones (a
	// weights folder, FromWeightsFiles); empty for the shipped weights.
	Weights string `json:"weights,omitempty"`
	// LevelDecoding says how the levels were read from the levels
	// network's heat maps: DecodingPrior or DecodingIndependent.
	LevelDecoding string `json:"level_decoding"`
	// Build names the build of sscscore that ran the networks (its
	// version and commit, model/buildinfo); with the weights' SHA-256
	// above it says exactly what made a result.
	Build buildinfo.Info `json:"build"`
}

// Level decodings (ModelInfo.LevelDecoding).
const (
	DecodingPrior       = "joint, anatomical prior"
	DecodingIndependent = "independent"
)

// Cascade joins the levels network and the score network. It is safe for
// concurrent use (network evaluations are serialised; each uses every
// core natively).
type Cascade struct {
	levels, scores *nn.Net
	info           ModelInfo
	prior          *LevelPrior // nil: each level read on its own
	mu             sync.Mutex
	plans          map[planKey]*nn.Plan
}

// planKey identifies a compiled inference plan: a network and its input
// shape (the levels network takes scans of any length).
type planKey struct {
	net   *nn.Net
	shape string
}

var (
	defOnce sync.Once
	defC    *Cascade
	defErr  error
)

// Default returns the cascade with the shipped weights (model/weights). It
// is built once and shared.
func Default() (*Cascade, error) {
	defOnce.Do(func() {
		lv, sc := weights.Levels(), weights.Scores()
		defC, defErr = New(lv.Spec, lv.Weights, sc.Spec, sc.Weights)
		if defErr == nil {
			defC.info.Training = weights.Training
		}
	})
	return defC, defErr
}

// New builds a cascade from spec JSON and safetensors weights of the two
// networks.
func New(levelsSpec, levelsWeights, scoresSpec, scoresWeights []byte) (*Cascade, error) {
	lv, li, err := loadNet(levelsSpec, levelsWeights)
	if err != nil {
		return nil, fmt.Errorf("cascade: levels network: %w", err)
	}
	sc, si, err := loadNet(scoresSpec, scoresWeights)
	if err != nil {
		return nil, fmt.Errorf("cascade: score network: %w", err)
	}
	return FromNets(lv, sc, ModelInfo{Levels: li, Scores: si, Training: "unspecified"}), nil
}

func loadNet(specJSON, w []byte) (*nn.Net, NetInfo, error) {
	s, err := spec.Parse(specJSON)
	if err != nil {
		return nil, NetInfo{}, err
	}
	net, err := spec.Build(s, spec.Options{})
	if err != nil {
		return nil, NetInfo{}, err
	}
	if err := net.LoadSafetensors(w); err != nil {
		return nil, NetInfo{}, err
	}
	sum := sha256.Sum256(w)
	return net, infoOf(s, hex.EncodeToString(sum[:])), nil
}

func infoOf(s spec.Spec, sha string) NetInfo {
	st, _ := spec.Count(s)
	return NetInfo{Spec: s.Name, SHA256: sha, Params: st.Params, GFLOP: math.Round(float64(st.FLOPs)/1e7) / 100}
}

// FromNets returns a cascade of networks held in memory (training and
// evaluation). The networks must follow LevelsSpec and ScoresSpec's
// input and output conventions. The levels are read jointly under
// DefaultLevelPrior. info.Build is set to the running build.
func FromNets(levels, scores *nn.Net, info ModelInfo) *Cascade {
	info.Build = buildinfo.Get()
	p := DefaultLevelPrior
	return (&Cascade{levels: levels, scores: scores, info: info}).WithLevelPrior(&p)
}

// WithLevelPrior returns a cascade of the same networks that reads the
// levels under prior, or each level on its own when prior is nil (for
// evaluating the decoding). c is unchanged.
func (c *Cascade) WithLevelPrior(prior *LevelPrior) *Cascade {
	info := c.info
	info.LevelDecoding = DecodingIndependent
	if prior != nil {
		info.LevelDecoding = DecodingPrior
		p := *prior
		prior = &p
	}
	return &Cascade{levels: c.levels, scores: c.scores, info: info, prior: prior}
}

// LevelPrior returns the anatomical prior the levels are read under (nil:
// each level on its own).
func (c *Cascade) LevelPrior() *LevelPrior {
	if c.prior == nil {
		return nil
	}
	p := *c.prior
	return &p
}

// Info returns the provenance of the cascade's networks.
func (c *Cascade) Info() ModelInfo { return c.info }

// Nets returns the two networks (for heat maps: run the score network on
// a SliceInput with nn.Net.ForwardAll and back-propagate).
func (c *Cascade) Nets() (levels, scores *nn.Net) { return c.levels, c.scores }

// Stage names a stage of Score's work, for Options.Progress.
type Stage string

// Stages of Score, in order.
const (
	StageRead   Stage = "read"   // one call per original slice of the sequential pass
	StageLevels Stage = "levels" // the levels network: 0 of 1, then 1 of 1
	StageScores Stage = "scores" // per slice scored
)

// Options controls Score.
type Options struct {
	// Progress, if not nil, is called as the work advances, stage by stage
	// (StageRead, StageLevels, StageScores).
	Progress func(stage Stage, done, total int)
	// SeriesUID is copied into the result.
	SeriesUID string
}

// LevelResult is the cascade's finding at one level. Fields that do not
// apply are nil: the position of a level outside the scan, the scores of
// a level outside the scan or without lung.
type LevelResult struct {
	Name string `json:"name"`
	// ZMM is the patient z (mm) of the level (the scored slice's z), Slice
	// the index of that slice in the series (0 = most cranial).
	ZMM   *float64 `json:"z_mm"`
	Slice *int     `json:"slice"`
	// Confidence is the levels network's probability mass within ±8 mm of
	// its estimate (0..1); 0 when a reader placed the level.
	Confidence float64 `json:"confidence"`
	// TOT, GG and RET are the mean extents (percent of the lung area) over
	// the level slice and its two neighbours.
	TOT *float64 `json:"tot"`
	GG  *float64 `json:"gg"`
	RET *float64 `json:"ret"`
	// Rounded holds the scores rounded to the nearest 5, for display.
	Rounded *Rounded `json:"rounded"`
	// Status is "scored", "outside" (the level lies outside the scanned
	// range; Outside says on which side), "no-lung" (the level slice
	// shows no lung to score) or "unplaced" (left to the reader: a
	// single-slice series).
	Status  string `json:"status"`
	Outside string `json:"outside,omitempty"`
	// EstimateZMM is the levels network's estimate of the level's z, even
	// when it lies outside the scan (then an extrapolation).
	EstimateZMM float64 `json:"estimate_z_mm"`
	// Slices are the slices whose scores were averaged.
	Slices []int `json:"slices,omitempty"`
	// ReaderPlaced is set when the level was moved by a reader (Rescore).
	ReaderPlaced bool   `json:"reader_placed,omitempty"`
	Message      string `json:"message,omitempty"`
}

// Rounded are scores rounded to the nearest 5.
type Rounded struct {
	TOT int `json:"tot"`
	GG  int `json:"gg"`
	RET int `json:"ret"`
}

// Level status values.
const (
	StatusScored  = "scored"
	StatusOutside = "outside"
	StatusNoLung  = "no-lung"
	// StatusUnplaced: the level is left to the reader (a single-slice
	// series, where the levels network cannot place it).
	StatusUnplaced = "unplaced"
)

// MeanScores is the whole-lung score: the mean over the scored levels.
type MeanScores struct {
	TOT *float64 `json:"tot"`
	GG  *float64 `json:"gg"`
	RET *float64 `json:"ret"`
	// Levels is the number of levels averaged (5 unless some are missing).
	Levels  int      `json:"levels"`
	Rounded *Rounded `json:"rounded"`
}

// Result is the cascade's output for one scan. Its JSON form is the
// `sscscore score --json` output.
type Result struct {
	Levels    []LevelResult `json:"levels"`
	Mean      MeanScores    `json:"mean"`
	SeriesUID string        `json:"series_uid"`
	Model     ModelInfo     `json:"model"`
	Warnings  []string      `json:"warnings"`
	Note      string        `json:"note"`
	// Source places the scored images in their study (from the DICOM
	// headers, which the cascade never sees: the caller fills it); nil
	// when unknown. A DICOM Structured Report of the result refers to it.
	Source *Source `json:"source,omitempty"`
	// ExtraSlices are slices scored besides the five levels: the slice of
	// a single-slice series, and slices a reader added (ReaderPlaced),
	// named "slice K". They are not part of the whole-lung mean.
	ExtraSlices []LevelResult `json:"extra_slices,omitempty"`
}

// Source identifies the scored series' study and the DICOM instances of
// the level slices.
type Source struct {
	StudyUID           string `json:"study_uid"`
	StudyID            string `json:"study_id,omitempty"`
	StudyDate          string `json:"study_date,omitempty"` // YYYYMMDD
	StudyTime          string `json:"study_time,omitempty"` // HHMMSS.FFFFFF
	AccessionNumber    string `json:"accession_number,omitempty"`
	ReferringPhysician string `json:"referring_physician,omitempty"`
	// Patient is the patient's identity, present only when the user asked
	// for it.
	Patient *Patient `json:"patient,omitempty"`
	// Levels holds the instance of each level's slice, in the order of
	// Result.Levels (Slice nil for a level outside the scan).
	Levels []SourceImage `json:"levels"`
}

// Patient is the identity of the scanned patient (DICOM Patient module).
type Patient struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	BirthDate string `json:"birth_date,omitempty"` // YYYYMMDD
	Sex       string `json:"sex,omitempty"`        // M, F or O
}

// SourceImage is the DICOM instance of one level's slice.
type SourceImage struct {
	Name           string `json:"name"`
	Slice          *int   `json:"slice"`
	SOPClassUID    string `json:"sop_class_uid,omitempty"`
	SOPInstanceUID string `json:"sop_instance_uid,omitempty"`
	// Frame is the 1-based frame of a multi-frame image, 0 otherwise.
	Frame int `json:"frame,omitempty"`
}

func fptr(v float64) *float64 { return &v }
func iptr(v int) *int         { return &v }

func roundedOf(s Scores) *Rounded {
	return &Rounded{TOT: int(eval.RoundTo5(s.TOT)), GG: int(eval.RoundTo5(s.GG)), RET: int(eval.RoundTo5(s.RET))}
}

func (c *Cascade) progress(opt *Options, stage Stage, done, total int) {
	if opt != nil && opt.Progress != nil {
		opt.Progress(stage, done, total)
	}
}

// LevelEstimate is the levels network's estimate of one level.
type LevelEstimate struct {
	Z          float64 // patient z (mm)
	Confidence float64
	Inside     bool   // within the scanned range
	Outside    string // "above" or "below" when not Inside
	Slice      int    // nearest original slice (when Inside)
	// Pos is the fractional slice position of Z (0 = the first, most
	// cranial slice; extrapolated outside the scan).
	Pos float64
}

// LocateLevels reads src once (BuildCoarse, calling progress per slice)
// and returns the levels network's estimates: the first half of Score,
// for callers that score the slices themselves.
func (c *Cascade) LocateLevels(ctx context.Context, src volume.Source, progress func(done, total int)) ([NumLevels]LevelEstimate, error) {
	co, err := BuildCoarse(ctx, src, progress)
	if err != nil {
		return [NumLevels]LevelEstimate{}, err
	}
	return c.Levels(ctx, co, src.Geometry())
}

// Levels runs the levels network on a scan already on the coarse grid,
// whose original geometry is g.
func (c *Cascade) Levels(ctx context.Context, co *Coarse, g *volume.Geometry) ([NumLevels]LevelEstimate, error) {
	var out [NumLevels]LevelEstimate
	if err := ctx.Err(); err != nil {
		return out, err
	}
	cx, cy := co.BodyCentre()
	x := co.LevelsInput(cx, cy, 0)
	d := co.Nz + 2*LevelsPad
	logits, err := c.forward(c.levels, x, nn.Shape{1, 1, d, LevelsXY, LevelsXY})
	if err != nil {
		return out, fmt.Errorf("cascade: levels network: %w", err)
	}
	if len(logits) != NumLevels*d {
		return out, fmt.Errorf("cascade: levels network gave %d values for %d slices", len(logits), d)
	}
	var peaks [NumLevels]LevelPeak
	if c.prior != nil {
		peaks = DecodeLevelsPrior(logits, d, *c.prior)
	} else {
		peaks = DecodeLevels(logits, d)
	}
	for i, p := range peaks {
		out[i].Z = co.ZOf(p.Pos - LevelsPad)
		out[i].Confidence = p.Confidence
	}
	// L4 is by definition halfway between L3 and L5.
	place := func(e *LevelEstimate) {
		k, inside := g.NearestSlice(e.Z)
		e.Slice, e.Inside = k, inside
		e.Pos = g.SlicePos(e.Z)
		if !inside {
			lo, hi := g.ZRange()
			switch {
			case e.Z > hi:
				e.Outside = "above"
			case e.Z < lo:
				e.Outside = "below"
			}
		}
	}
	for i := range out {
		place(&out[i])
	}
	if out[2].Inside && out[4].Inside {
		out[3].Z = (out[2].Z + out[4].Z) / 2
		out[3].Confidence = math.Min(out[2].Confidence, out[4].Confidence)
		place(&out[3])
	}
	return out, nil
}

// forward evaluates net on a batch of inputs of the given shape (batch
// first) with a compiled inference plan (no graph, batch normalisation
// folded, buffers reused) and returns a copy of its output values.
func (c *Cascade) forward(net *nn.Net, x []float32, shape nn.Shape) (out []float32, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("network %s on input %v: %w", net.Name, shape, nn.PanicError(r))
		}
	}()
	if len(x) != shape.Size() {
		return nil, fmt.Errorf("network %s: %w", net.Name, nn.ShapeError(fmt.Sprintf("%d values for input %v", len(x), shape)))
	}
	key := planKey{net, shape.String()}
	p := c.plans[key]
	if p == nil {
		// The spec's input shape is nominal: compile for this one.
		n := *net
		n.Input = append(nn.Shape(nil), shape[1:]...)
		if p, err = nn.Compile(&n, shape[0], nn.CompileOptions{}); err != nil {
			return nil, err
		}
		if c.plans == nil || len(c.plans) >= 4 {
			c.plans = map[planKey]*nn.Plan{} // scans of many lengths: keep a few
		}
		c.plans[key] = p
	}
	y, err := p.Run(x)
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), y...), nil
}

// SliceScore is the score network's result on one original slice.
type SliceScore struct {
	Slice  int
	NoLung bool
	Scores Scores
	Maps   ScoreMaps
	Input  *SliceInput
}

// ScoreSlices scores original slices ks of src (each read once).
func (c *Cascade) ScoreSlices(ctx context.Context, src volume.Source, ks []int) ([]SliceScore, error) {
	out := make([]SliceScore, len(ks))
	err := c.scoreEach(ctx, src, ks, func(i, k int, s SliceScore, err error) error {
		if err != nil {
			return err
		}
		out[i] = s
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scoreEach reads and prepares slices ks of src a few at a time in
// parallel (the lung segmentation is as costly as the network), scores
// them in order and hands each result (or the error reading it) to f. An
// error from f stops the work.
func (c *Cascade) scoreEach(ctx context.Context, src volume.Source, ks []int, f func(i, k int, s SliceScore, err error) error) error {
	g := src.Geometry()
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	type prep struct {
		in  *SliceInput
		err error
	}
	for c0 := 0; c0 < len(ks); c0 += workers {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := ks[c0:min(len(ks), c0+workers)]
		preps := make([]prep, len(chunk))
		parallel.Do(len(chunk), func(j int) {
			k := chunk[j]
			buf := make([]int16, g.Nx*g.Ny)
			if err := src.Slice(ctx, k, buf); err != nil {
				preps[j].err = fmt.Errorf("cascade: reading slice %d: %w", k, err)
				return
			}
			preps[j].in = PrepareSlice(buf, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]})
		})
		for j, k := range chunk {
			var s SliceScore
			err := preps[j].err
			if err == nil {
				if s, err = c.ScoreInput(preps[j].in); err != nil {
					return err
				}
				s.Slice = k
			}
			if err := f(c0+j, k, s, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// ScoreInput runs the score network on a prepared slice (a slice without
// lung is reported, not scored).
func (c *Cascade) ScoreInput(in *SliceInput) (SliceScore, error) {
	s := SliceScore{Input: in, NoLung: in.NoLung}
	if in.NoLung {
		return s, nil
	}
	logits, err := c.forward(c.scores, in.X, nn.Shape{1, 2, SliceSide, SliceSide})
	if err != nil {
		return s, fmt.Errorf("cascade: score network: %w", err)
	}
	if len(logits) != NumScoreChans*CellSide*CellSide {
		return s, fmt.Errorf("cascade: score network gave %d values, want %d", len(logits), NumScoreChans*CellSide*CellSide)
	}
	s.Scores, s.Maps = ScoreHead(logits)
	return s, nil
}

// ScoreBatch runs the score network on several prepared inputs at once
// (each 2 x SliceSide², as SliceInput.X, for example copies of one slice
// with a window replaced for an occlusion map) and returns their scores
// and maps.
func (c *Cascade) ScoreBatch(xs [][]float32) ([]Scores, []ScoreMaps, error) {
	per := 2 * SliceSide * SliceSide
	buf := make([]float32, 0, len(xs)*per)
	for i, x := range xs {
		if len(x) != per {
			return nil, nil, fmt.Errorf("cascade: input %d has %d values, want %d", i, len(x), per)
		}
		buf = append(buf, x...)
	}
	if len(xs) == 0 {
		return nil, nil, nil
	}
	y, err := c.forward(c.scores, buf, nn.Shape{len(xs), 2, SliceSide, SliceSide})
	if err != nil {
		return nil, nil, fmt.Errorf("cascade: score network: %w", err)
	}
	n := NumScoreChans * CellSide * CellSide
	if len(y) != len(xs)*n {
		return nil, nil, fmt.Errorf("cascade: score network gave %d values for %d inputs", len(y), len(xs))
	}
	s := make([]Scores, len(xs))
	m := make([]ScoreMaps, len(xs))
	for i := range xs {
		s[i], m[i] = ScoreHead(y[i*n : (i+1)*n])
	}
	return s, m, nil
}

// neighbours returns slice k and its two neighbours inside [0, n).
func neighbours(k, n int) []int {
	var ks []int
	for _, j := range []int{k - 1, k, k + 1} {
		if j >= 0 && j < n {
			ks = append(ks, j)
		}
	}
	return ks
}

// levelFrom combines the slice scores of one level.
func levelFrom(name string, k int, z float64, scored map[int]SliceScore) LevelResult {
	lr := LevelResult{Name: name, ZMM: fptr(z), Slice: iptr(k), EstimateZMM: z}
	centre := scored[k]
	if centre.NoLung {
		lr.Status = StatusNoLung
		lr.Message = fmt.Sprintf("slice %d shows no lung to score (lung area %.0f mm² < %.0f mm²)", k, centre.Input.LungAreaMM2, MinLungAreaMM2)
		return lr
	}
	var sum Scores
	n := 0
	for _, j := range neighbours(k, 1<<30) {
		s, ok := scored[j]
		if !ok || s.NoLung {
			continue
		}
		sum.TOT += s.Scores.TOT
		sum.GG += s.Scores.GG
		sum.RET += s.Scores.RET
		lr.Slices = append(lr.Slices, j)
		n++
	}
	m := Scores{TOT: sum.TOT / float64(n), GG: sum.GG / float64(n), RET: sum.RET / float64(n)}
	lr.TOT, lr.GG, lr.RET = fptr(m.TOT), fptr(m.GG), fptr(m.RET)
	lr.Rounded = roundedOf(m)
	lr.Status = StatusScored
	return lr
}

// Score runs the whole cascade on a scan: one sequential pass over the
// slices to build the coarse grid, the levels network, then the score
// network on each level slice and its two neighbours (about fifteen
// slices, each read once more).
func (c *Cascade) Score(ctx context.Context, src volume.Source, opt Options) (*Result, error) {
	g := src.Geometry()
	res := &Result{SeriesUID: opt.SeriesUID, Model: c.info, Warnings: []string{}, Note: c.Note()}
	if g.Nz == 1 {
		return c.scoreSingle(ctx, src, res, &opt)
	}
	co, err := BuildCoarse(ctx, src, func(done, total int) { c.progress(&opt, StageRead, done, total) })
	if err != nil {
		return nil, err
	}
	if co.Missing > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d slices could not be read and were left out", co.Missing, g.Nz))
	}
	c.progress(&opt, StageLevels, 0, 1)
	est, err := c.Levels(ctx, co, g)
	if err != nil {
		return nil, err
	}
	c.progress(&opt, StageLevels, 1, 1)
	// The slices to score, each once.
	need := map[int]bool{}
	var ks []int
	for _, e := range est {
		if !e.Inside {
			continue
		}
		for _, j := range neighbours(e.Slice, g.Nz) {
			if !need[j] {
				need[j] = true
				ks = append(ks, j)
			}
		}
	}
	scored := map[int]SliceScore{}
	err = c.scoreEach(ctx, src, ks, func(i, k int, s SliceScore, err error) error {
		c.progress(&opt, StageScores, i, len(ks))
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			res.Warnings = append(res.Warnings, fmt.Sprintf("slice %d could not be read: %v", k, err))
			return nil
		}
		// keep the scores only (the maps and inputs are large)
		scored[k] = SliceScore{Slice: k, NoLung: s.NoLung, Scores: s.Scores,
			Input: &SliceInput{LungAreaMM2: s.Input.LungAreaMM2, NoLung: s.Input.NoLung}}
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.progress(&opt, StageScores, len(ks), len(ks))
	for i, e := range est {
		name := LevelNames[i]
		if !e.Inside {
			res.Levels = append(res.Levels, LevelResult{Name: name, Confidence: e.Confidence, Status: StatusOutside,
				Outside: e.Outside, EstimateZMM: e.Z,
				Message: fmt.Sprintf("%s lies %s the scanned range (estimated z %.0f mm)", name, e.Outside, e.Z)})
			continue
		}
		if _, ok := scored[e.Slice]; !ok {
			res.Levels = append(res.Levels, LevelResult{Name: name, ZMM: fptr(g.ZOf(e.Slice)), Slice: iptr(e.Slice),
				Confidence: e.Confidence, Status: StatusNoLung, EstimateZMM: e.Z, Message: "the level slice could not be read"})
			continue
		}
		lr := levelFrom(name, e.Slice, g.ZOf(e.Slice), scored)
		lr.Confidence = e.Confidence
		lr.EstimateZMM = e.Z
		res.Levels = append(res.Levels, lr)
	}
	res.Mean = MeanOf(res.Levels)
	for _, l := range res.Levels {
		if l.Status != StatusScored {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s not scored: %s", l.Name, l.Message))
		}
	}
	return res, nil
}

// MeanOf returns the whole-lung mean of the scored levels.
func MeanOf(levels []LevelResult) MeanScores {
	var m MeanScores
	var s Scores
	for _, l := range levels {
		if l.Status != StatusScored || l.TOT == nil {
			continue
		}
		s.TOT += *l.TOT
		s.GG += *l.GG
		s.RET += *l.RET
		m.Levels++
	}
	if m.Levels == 0 {
		return m
	}
	f := 1 / float64(m.Levels)
	s = Scores{TOT: s.TOT * f, GG: s.GG * f, RET: s.RET * f}
	m.TOT, m.GG, m.RET = fptr(s.TOT), fptr(s.GG), fptr(s.RET)
	m.Rounded = roundedOf(s)
	return m
}

// Rescore scores level (0 for L1 … 4 for L5) at a reader-chosen slice of
// src: the slice and its two neighbours are read and scored (three score
// network evaluations, well under a second natively). Replace the level
// in a Result and recompute the mean with MeanOf.
func (c *Cascade) Rescore(ctx context.Context, src volume.Source, level, slice int) (LevelResult, error) {
	if level < 0 || level >= NumLevels {
		return LevelResult{}, fmt.Errorf("cascade: level %d out of range [0,%d)", level, NumLevels)
	}
	return c.scoreAt(ctx, src, LevelNames[level], slice)
}

// scoreAt scores the slice of src and its neighbours as a reader-placed
// level or slice called name.
func (c *Cascade) scoreAt(ctx context.Context, src volume.Source, name string, slice int) (LevelResult, error) {
	g := src.Geometry()
	if slice < 0 || slice >= g.Nz {
		return LevelResult{}, fmt.Errorf("cascade: slice %d out of range [0,%d)", slice, g.Nz)
	}
	ss, err := c.ScoreSlices(ctx, src, neighbours(slice, g.Nz))
	if err != nil {
		return LevelResult{}, err
	}
	scored := map[int]SliceScore{}
	for _, s := range ss {
		scored[s.Slice] = s
	}
	lr := levelFrom(name, slice, g.ZOf(slice), scored)
	lr.ReaderPlaced = true
	return lr, nil
}

// UnplacedMessage is the message of a level left to the reader.
const UnplacedMessage = "the series has a single slice: the level is left to the reader"

// scoreSingle scores the one slice of a single-slice series as itself
// (ExtraSlices): the levels network cannot place levels on one slice, so
// they are left to the reader (StatusUnplaced). The slice is read once,
// as the pass of a longer scan reads each (a caller's read-ahead, such as
// the browser's, ends its pass at StageLevels).
func (c *Cascade) scoreSingle(ctx context.Context, src volume.Source, res *Result, opt *Options) (*Result, error) {
	g := src.Geometry()
	buf := make([]int16, g.Nx*g.Ny)
	if err := src.Slice(ctx, 0, buf); err != nil {
		return nil, fmt.Errorf("cascade: reading slice 0: %w", err)
	}
	c.progress(opt, StageRead, 1, 1)
	c.progress(opt, StageLevels, 0, 1)
	c.progress(opt, StageLevels, 1, 1)
	c.progress(opt, StageScores, 0, 1)
	in := PrepareSlice(buf, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]})
	sc, err := c.ScoreInput(in)
	if err != nil {
		return nil, err
	}
	sc.Slice = 0
	s := levelFrom("slice 0", 0, g.ZOf(0), map[int]SliceScore{0: sc})
	c.progress(opt, StageScores, 1, 1)
	res.ExtraSlices = []LevelResult{s}
	for _, name := range LevelNames {
		res.Levels = append(res.Levels, LevelResult{Name: name, Status: StatusUnplaced, Message: UnplacedMessage})
	}
	res.Mean = MeanOf(res.Levels)
	res.Warnings = append(res.Warnings, "the series has a single slice: it is scored as that slice (extra_slices); the levels are left to the reader")
	for _, l := range res.Levels {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s not scored: %s", l.Name, l.Message))
	}
	return res, nil
}
