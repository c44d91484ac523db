package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/eval"
	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
	"sscscore/model/weights"
)

// CVConfig configures the cross-validation of both networks on a site's
// labelled scans (RunCV).
type CVConfig struct {
	// RealDir and RealCSV are the site's scans and their labels (the
	// paper's layout), checked by CheckRealData.
	RealDir string `json:"-"`
	RealCSV string `json:"-"`
	Folds   int    `json:"folds"`
	// Out holds each fold's training runs, the final model's and the
	// report (cv.json).
	Out   string `json:"-"`
	Cache string `json:"-"`
	// Seed draws the folds and seeds every training run.
	Seed uint64 `json:"seed"`
	// LevelsSteps and ScoresSteps are each run's optimiser steps;
	// LevelsBatch and ScoresBatch its batch sizes; LR its peak learning
	// rate (warm-up over a tenth of the steps, then cosine decay).
	LevelsSteps int     `json:"levels_steps"`
	ScoresSteps int     `json:"scores_steps"`
	LevelsBatch int     `json:"levels_batch"`
	ScoresBatch int     `json:"scores_batch"`
	LR          float64 `json:"lr"`
	// RealShare is the share of each batch drawn from the site's scans;
	// the rest are phantoms (levels; scores: phantoms with 3D disease and
	// healthy phantom slices with pasted synthetic disease), of seeds
	// PhantomSeeds [from, to).
	RealShare    float64  `json:"real_share"`
	PhantomSeeds [2]int64 `json:"phantom_seeds"`
	// FromScratch trains from random weights instead of fine-tuning the
	// shipped ones.
	FromScratch bool `json:"from_scratch"`
	// Threads limits the goroutines of the matrix products (0: all cores).
	Threads int `json:"threads"`
	// Export, if not empty, receives the final model trained on every scan
	// as a weights folder with its model card; Name names those weights.
	Export string `json:"-"`
	Name   string `json:"name,omitempty"`
	// Command is the command line, for the model card.
	Command string    `json:"command,omitempty"`
	Log     io.Writer `json:"-"`
}

func (c *CVConfig) defaults() {
	def := defaultInt
	def(&c.Folds, 4)
	def(&c.LevelsSteps, 150)
	def(&c.ScoresSteps, 150)
	def(&c.LevelsBatch, 4)
	def(&c.ScoresBatch, 8)
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.LR <= 0 {
		c.LR = 1e-4 // the shipped run's final rate: a nudge, not a new training
		if c.FromScratch {
			c.LR = 2e-3
		}
	}
	if c.RealShare <= 0 || c.RealShare > 1 { // 1: site scans only, no phantom
		c.RealShare = 0.5
	}
	if c.PhantomSeeds == [2]int64{} {
		c.PhantomSeeds = [2]int64{1, 13}
	}
	if c.Out == "" {
		c.Out = filepath.Join(os.TempDir(), "sscscore-cv")
	}
	if c.Cache == "" {
		c.Cache = filepath.Join(os.TempDir(), "sscscore-cache")
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// CVMetrics is the agreement of one model with the site's readings on a
// set of held-out scans: the level positions (every labelled level inside
// its scan, in mm) and TOT, GG and RET of every level scored by both.
type CVMetrics struct {
	Scans  int               `json:"scans"`
	Levels eval.LevelMetrics `json:"levels"`
	TOT    eval.ScoreMetrics `json:"tot"`
	GG     eval.ScoreMetrics `json:"gg"`
	RET    eval.ScoreMetrics `json:"ret"`
	// Errors says, by metric, why it could not be computed.
	Errors map[string]string `json:"errors,omitempty"`
}

// cvPairs are the predictions and references a CVMetrics is computed from.
type cvPairs struct {
	scans                            int
	lvPred, lvRef, lvSpacing         []float64
	totP, totR, ggP, ggR, retP, retR []float64
}

func (p *cvPairs) add(q *cvPairs) {
	p.scans += q.scans
	p.lvPred, p.lvRef, p.lvSpacing = append(p.lvPred, q.lvPred...), append(p.lvRef, q.lvRef...), append(p.lvSpacing, q.lvSpacing...)
	p.totP, p.totR = append(p.totP, q.totP...), append(p.totR, q.totR...)
	p.ggP, p.ggR = append(p.ggP, q.ggP...), append(p.ggR, q.ggR...)
	p.retP, p.retR = append(p.retP, q.retP...), append(p.retR, q.retR...)
}

func (p *cvPairs) metrics() CVMetrics {
	m := CVMetrics{Scans: p.scans, Errors: map[string]string{}}
	var err error
	if m.Levels, err = eval.Levels(p.lvPred, p.lvRef, p.lvSpacing); err != nil {
		m.Errors["levels"] = err.Error()
	}
	for _, s := range []struct {
		name string
		dst  *eval.ScoreMetrics
		p, r []float64
	}{{"tot", &m.TOT, p.totP, p.totR}, {"gg", &m.GG, p.ggP, p.ggR}, {"ret", &m.RET, p.retP, p.retR}} {
		if *s.dst, err = eval.Scores(s.p, s.r); err != nil {
			m.Errors[s.name] = err.Error()
		}
	}
	if len(m.Errors) == 0 {
		m.Errors = nil
	}
	return m
}

// compareCase scores a held-out scan with c and pairs its results with the
// site's reading: each labelled level inside the scan with the network's
// estimate, each level scored by both with the reader's scores.
func compareCase(ctx context.Context, c *cascade.Cascade, rc *RealCase) (*cvPairs, error) {
	res, err := c.Score(ctx, rc.Src, cascade.Options{})
	if err != nil {
		return nil, fmt.Errorf("train: scoring %s: %w", rc.Labels.PatID, err)
	}
	g := rc.Src.Geometry()
	p := &cvPairs{scans: 1}
	l := rc.Labels
	for i, lr := range res.Levels {
		if i >= cascade.NumLevels || math.IsNaN(l.Pos[i]) {
			continue
		}
		if _, inside := g.NearestSlice(l.Pos[i]); !inside {
			continue
		}
		p.lvPred, p.lvRef, p.lvSpacing = append(p.lvPred, lr.EstimateZMM), append(p.lvRef, l.Pos[i]), append(p.lvSpacing, g.Spacing[2])
		if lr.TOT == nil || math.IsNaN(l.TOT[i]) || math.IsNaN(l.GG[i]) || math.IsNaN(l.RET[i]) {
			continue
		}
		p.totP, p.totR = append(p.totP, *lr.TOT), append(p.totR, l.TOT[i])
		p.ggP, p.ggR = append(p.ggP, *lr.GG), append(p.ggR, l.GG[i])
		p.retP, p.retR = append(p.retP, *lr.RET), append(p.retR, l.RET[i])
	}
	return p, nil
}

// CVFold is one fold's result: the model trained without the fold's
// patients and the shipped weights, on the fold's scans.
type CVFold struct {
	Fold     int       `json:"fold"`
	Patients int       `json:"patients"`
	Scans    int       `json:"scans"`
	Site     CVMetrics `json:"site"`
	Shipped  CVMetrics `json:"shipped"`
	Seconds  float64   `json:"seconds"`
}

// CVData describes the site's data without identifying anyone.
type CVData struct {
	Scans          int        `json:"scans"`
	Patients       int        `json:"patients"`
	LabelledLevels int        `json:"labelled_levels"`
	ScoredLevels   int        `json:"scored_levels"`
	SliceSpacing   [2]float64 `json:"slice_spacing_mm"` // min, max
	Slices         [2]int     `json:"slices"`           // min, max
	Scanners       []string   `json:"scanners"`         // manufacturer and model, with counts
	Warnings       int        `json:"label_warnings"`
	Errors         int        `json:"label_errors"`
}

// CVReport is the outcome of RunCV.
type CVReport struct {
	Config CVConfig `json:"config"`
	Data   CVData   `json:"data"`
	Folds  []CVFold `json:"folds"`
	// Site and Shipped pool every fold's held-out scans.
	Site    CVMetrics `json:"site"`
	Shipped CVMetrics `json:"shipped"`
	// Final is the weights folder of the model trained on every scan
	// (empty without CVConfig.Export), with the weights' SHA-256.
	Final       string    `json:"final,omitempty"`
	FinalLevels string    `json:"final_levels_sha256,omitempty"`
	FinalScores string    `json:"final_scores_sha256,omitempty"`
	Started     time.Time `json:"started"`
	Seconds     float64   `json:"seconds"`
	Build       string    `json:"build"`
}

// AssignFolds splits the cases into k folds, keeping each patient's scans
// (same PatientID) in one fold: patients in a random order (seed), those
// with the most scans first, each to the fold with the fewest scans so far.
func AssignFolds(cases []*RealCase, k int, seed uint64) ([][]*RealCase, error) {
	byPatient := map[string][]*RealCase{}
	var ids []string
	for _, c := range cases {
		if _, ok := byPatient[c.PatientID]; !ok {
			ids = append(ids, c.PatientID)
		}
		byPatient[c.PatientID] = append(byPatient[c.PatientID], c)
	}
	if len(ids) < k {
		return nil, fmt.Errorf("train: %d folds need at least %d patients, the data have %d", k, k, len(ids))
	}
	sort.Strings(ids)
	rng := rand.New(rand.NewPCG(seed, 0xf01d5))
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	// Patients with the most scans first, each to the smallest fold.
	sort.SliceStable(ids, func(i, j int) bool { return len(byPatient[ids[i]]) > len(byPatient[ids[j]]) })
	folds := make([][]*RealCase, k)
	for _, id := range ids {
		f := 0
		for j := range folds {
			if len(folds[j]) < len(folds[f]) {
				f = j
			}
		}
		folds[f] = append(folds[f], byPatient[id]...)
	}
	return folds, nil
}

// describeData summarises the cases (counts and ranges, no identifiers).
func describeData(d *RealData) CVData {
	var out CVData
	pat := map[string]bool{}
	scanners := map[string]int{}
	out.SliceSpacing = [2]float64{math.Inf(1), math.Inf(-1)}
	out.Slices = [2]int{math.MaxInt, 0}
	for _, c := range d.Cases {
		pat[c.PatientID] = true
		g := c.Src.Geometry()
		out.SliceSpacing[0], out.SliceSpacing[1] = math.Min(out.SliceSpacing[0], g.Spacing[2]), math.Max(out.SliceSpacing[1], g.Spacing[2])
		out.Slices[0], out.Slices[1] = min(out.Slices[0], g.Nz), max(out.Slices[1], g.Nz)
		s := c.Src.Series()
		scanners[strings.TrimSpace(s.Manufacturer+" "+s.Model)]++
		for i := 0; i < cascade.NumLevels; i++ {
			if !math.IsNaN(c.Labels.Pos[i]) {
				out.LabelledLevels++
			}
		}
		out.ScoredLevels += len(c.ScoreSlices()) / 3
	}
	for name, n := range scanners {
		if name == "" {
			name = "unknown scanner"
		}
		out.Scanners = append(out.Scanners, fmt.Sprintf("%s (%d)", name, n))
	}
	sort.Strings(out.Scanners)
	out.Scans, out.Patients = len(d.Cases), len(pat)
	out.Errors = len(d.Errors())
	out.Warnings = len(d.Issues) - out.Errors
	return out
}

// RunCV cross-validates both networks on a site's labelled scans: for
// each of cfg.Folds folds (patients never split), it trains the levels
// and the score network on the other folds' scans mixed with phantoms
// (fine-tuning the shipped weights unless FromScratch) and compares them,
// beside the shipped weights, with the readings of the fold's scans. With
// cfg.Export it then trains both networks on every scan and exports them
// as a weights folder with a model card generated from the run.
func RunCV(ctx context.Context, cfg CVConfig) (*CVReport, error) {
	cfg.defaults()
	start := time.Now()
	rep := &CVReport{Config: cfg, Started: start.UTC()}
	if cfg.Threads > 0 {
		defer gemm.SetThreads(gemm.SetThreads(cfg.Threads))
	}
	data, err := CheckRealData(ctx, cfg.RealDir, cfg.RealCSV)
	if err != nil {
		return nil, err
	}
	for _, i := range data.Issues {
		fmt.Fprintf(cfg.Log, "real data: %s\n", i)
	}
	if errs := data.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("train: %d errors in the labelled scans (listed above), the first: %s", len(errs), errs[0])
	}
	rep.Data = describeData(data)
	folds, err := AssignFolds(data.Cases, cfg.Folds, cfg.Seed)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "cv: %d scans of %d patients in %d folds (%d-%d scans each)\n", rep.Data.Scans, rep.Data.Patients, cfg.Folds, len(folds[len(folds)-1]), len(folds[0]))
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	// The shipped weights: the starting point and the comparison.
	shipped, err := cascade.Default()
	if err != nil {
		return nil, err
	}
	init := map[string]string{}
	if !cfg.FromScratch {
		for _, m := range []weights.Model{weights.Levels(), weights.Scores()} {
			p := filepath.Join(cfg.Out, "shipped-"+m.Name+".safetensors")
			if err := writeFileAtomic(p, m.Weights); err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
			init[m.Name] = p
		}
	}
	var siteAll, shippedAll cvPairs
	for k, fold := range folds {
		fstart := time.Now()
		held := map[*RealCase]bool{}
		patients := map[string]bool{}
		for _, c := range fold {
			held[c], patients[c.PatientID] = true, true
		}
		var trainCases []*RealCase
		for _, c := range data.Cases {
			if !held[c] {
				trainCases = append(trainCases, c)
			}
		}
		fmt.Fprintf(cfg.Log, "\ncv fold %d/%d: training on %d scans, testing on %d scans of %d patients\n", k+1, cfg.Folds, len(trainCases), len(fold), len(patients))
		c, err := cvTrain(ctx, cfg, filepath.Join(cfg.Out, fmt.Sprintf("fold%d", k+1)), trainCases, init, uint64(k+1))
		if err != nil {
			return nil, fmt.Errorf("train: fold %d: %w", k+1, err)
		}
		var site, ship cvPairs
		for _, rc := range fold {
			p, err := compareCase(ctx, c, rc)
			if err != nil {
				return nil, err
			}
			site.add(p)
			if p, err = compareCase(ctx, shipped, rc); err != nil {
				return nil, err
			}
			ship.add(p)
		}
		siteAll.add(&site)
		shippedAll.add(&ship)
		f := CVFold{Fold: k + 1, Patients: len(patients), Scans: len(fold), Site: site.metrics(), Shipped: ship.metrics(), Seconds: time.Since(fstart).Seconds()}
		rep.Folds = append(rep.Folds, f)
		fmt.Fprintf(cfg.Log, "cv fold %d: site %s\n           shipped %s\n", k+1, f.Site.short(), f.Shipped.short())
	}
	rep.Site, rep.Shipped = siteAll.metrics(), shippedAll.metrics()
	if cfg.Export != "" {
		fmt.Fprintf(cfg.Log, "\ncv final model: training on all %d scans\n", len(data.Cases))
		c, err := cvTrain(ctx, cfg, filepath.Join(cfg.Out, "final"), data.Cases, init, 0)
		if err != nil {
			return nil, fmt.Errorf("train: final model: %w", err)
		}
		rep.Seconds = time.Since(start).Seconds()
		if err := exportCV(c, rep, cfg.Export); err != nil {
			return nil, err
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// cvTrain trains both networks on cases mixed with phantoms into dir and
// returns their cascade (the last step's weights: the held-out fold, not a
// phantom validation, measures them).
func cvTrain(ctx context.Context, cfg CVConfig, dir string, cases []*RealCase, init map[string]string, fold uint64) (*cascade.Cascade, error) {
	nets := map[string]*nn.Net{}
	for _, kind := range []string{"levels", "scores"} {
		rc := RunConfig{
			Kind: kind, Out: dir, Cache: cfg.Cache, Seed: cfg.Seed*1000 + fold, LR: cfg.LR,
			TrainSeeds:   cfg.PhantomSeeds,
			NoValidation: true,
			Real:         cases,
			RealDir:      cfg.RealDir,
			RealCSV:      cfg.RealCSV,
			RealShare:    cfg.RealShare,
			Init:         init[kind],
			Log:          cfg.Log,
		}
		if kind == "levels" {
			rc.Steps, rc.Batch = cfg.LevelsSteps, cfg.LevelsBatch
		} else {
			rc.Steps, rc.Batch = cfg.ScoresSteps, cfg.ScoresBatch
		}
		rc.Warmup = max(1, rc.Steps/10)
		if _, err := Run(ctx, rc); err != nil {
			return nil, err
		}
		net, _, err := LoadTrained(kind, dir, true)
		if err != nil {
			return nil, err
		}
		nets[kind] = net
	}
	fmt.Fprintln(cfg.Log)
	return cascade.FromNets(nets["levels"], nets["scores"], cascade.ModelInfo{Training: "site"}), nil
}

func (m CVMetrics) short() string {
	return fmt.Sprintf("level MAE %.2f mm (n %d); MAE TOT %.2f GG %.2f RET %.2f (n %d); kappa %.2f/%.2f/%.2f; ICC %.2f/%.2f/%.2f",
		m.Levels.MAEmm, m.Levels.N, m.TOT.MAE, m.GG.MAE, m.RET.MAE, m.TOT.N, m.TOT.Kappa, m.GG.Kappa, m.RET.Kappa, m.TOT.ICC, m.GG.ICC, m.RET.ICC)
}
