package train

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/eval"
	"sscscore/model/ingest"
	"sscscore/model/parallel"
	"sscscore/model/phantom"
	"sscscore/model/synth"
)

// SyntheticReport holds the cascade's agreement with the truth on unseen
// phantoms.
type SyntheticReport struct {
	Phantoms int    `json:"phantoms"`
	Seeds    string `json:"seeds"`
	// Levels: the levels network's estimate (continuous z) against the
	// truth, per level; SliceLevels: the z of the slice the cascade chose.
	Levels      [5]eval.LevelMetrics `json:"levels"`
	LevelsAll   eval.LevelMetrics    `json:"levels_all"`
	SliceLevels eval.LevelMetrics    `json:"slice_levels_all"`
	// Outside counts levels the cascade put outside a scan that holds
	// them, or inside a scan that misses them.
	OutsideWrong int `json:"outside_wrong"`
	// Independent is the same levels network read without the anatomical
	// prior (each level on its own; cascade.DecodeLevels), for comparison:
	// all levels, and its OutsideWrong.
	Independent             eval.LevelMetrics `json:"independent_levels_all"`
	IndependentOutsideWrong int               `json:"independent_outside_wrong"`
	// Scores per level slice (mean of the level slice and its neighbours)
	// against the truth of the same slices; TOT, GG, RET.
	Scores [3]eval.ScoreMetrics `json:"scores"`
	// ScoresCentre: against the truth of the level slice alone.
	ScoresCentre [3]eval.ScoreMetrics `json:"scores_centre"`
	// Mean: the whole-lung mean of each phantom.
	Mean    [3]eval.ScoreMetrics `json:"mean"`
	Seconds float64              `json:"seconds"`
}

type synthCase struct {
	seed               int64
	est, truth, slicez [5]float64
	spacing            float64
	inside, estInside  [5]bool
	ind                [5]float64 // levels read without the prior
	indInside          [5]bool
	pred, ref, refC    [5]cascade.Scores
	scored             [5]bool
	predMean, refMean  cascade.Scores
	nMean              int
}

// EvalSynthetic runs the cascade on n phantoms with 3D disease from seed
// from on (seeds never used in training), workers at a time. The levels
// network reads each phantom rendered on the coarse grid (as
// RenderLevelsCase: the same averaging the cascade applies to a real
// scan); the score network reads the full-resolution slices the cascade
// chooses, and their truth masks give the reference labels.
func EvalSynthetic(ctx context.Context, c *cascade.Cascade, n int, from int64, workers int, progress func(done, total int)) (*SyntheticReport, error) {
	start := time.Now()
	ci := c.WithLevelPrior(nil)
	cases := make([]*synthCase, n)
	var mu sync.Mutex
	done := 0
	err := parallel.For(ctx, n, workers, func(_, i int) error {
		sc, err := evalPhantom(ctx, c, ci, from+int64(i))
		mu.Lock()
		defer mu.Unlock()
		cases[i] = sc
		done++
		if progress != nil {
			progress(done, n)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	r := &SyntheticReport{Phantoms: n, Seeds: fmt.Sprintf("%d:%d", from, from+int64(n))}
	var lp, lr, ls [5][]float64
	var ap, ar, as, sp []float64
	var ip, ir, is []float64
	var scp, scr, scc [3][]float64
	var mp, mr [3][]float64
	for _, sc := range cases {
		for i := 0; i < 5; i++ {
			if sc.inside[i] != sc.indInside[i] {
				r.IndependentOutsideWrong++
			}
			if sc.inside[i] && sc.indInside[i] {
				ip = append(ip, sc.ind[i])
				ir = append(ir, sc.truth[i])
				is = append(is, sc.spacing)
			}
			if sc.inside[i] != sc.estInside[i] {
				r.OutsideWrong++
			}
			if !sc.inside[i] || !sc.estInside[i] {
				continue
			}
			lp[i] = append(lp[i], sc.est[i])
			lr[i] = append(lr[i], sc.truth[i])
			ls[i] = append(ls[i], sc.spacing)
			ap = append(ap, sc.est[i])
			ar = append(ar, sc.truth[i])
			as = append(as, sc.spacing)
			sp = append(sp, sc.slicez[i])
			if sc.scored[i] {
				p, f, cc := sc.pred[i], sc.ref[i], sc.refC[i]
				for k, v := range [3][3]float64{{p.TOT, f.TOT, cc.TOT}, {p.GG, f.GG, cc.GG}, {p.RET, f.RET, cc.RET}} {
					scp[k] = append(scp[k], v[0])
					scr[k] = append(scr[k], v[1])
					scc[k] = append(scc[k], v[2])
				}
			}
		}
		if sc.nMean > 0 {
			mp[0] = append(mp[0], sc.predMean.TOT)
			mp[1] = append(mp[1], sc.predMean.GG)
			mp[2] = append(mp[2], sc.predMean.RET)
			mr[0] = append(mr[0], sc.refMean.TOT)
			mr[1] = append(mr[1], sc.refMean.GG)
			mr[2] = append(mr[2], sc.refMean.RET)
		}
	}
	for i := 0; i < 5; i++ {
		if len(lp[i]) > 0 {
			if r.Levels[i], err = eval.Levels(lp[i], lr[i], ls[i]); err != nil {
				return nil, err
			}
		}
	}
	if len(ap) > 0 {
		if r.LevelsAll, err = eval.Levels(ap, ar, as); err != nil {
			return nil, err
		}
		if r.SliceLevels, err = eval.Levels(sp, ar, as); err != nil {
			return nil, err
		}
	}
	if len(ip) > 0 {
		if r.Independent, err = eval.Levels(ip, ir, is); err != nil {
			return nil, err
		}
	}
	for k := 0; k < 3; k++ {
		if len(scp[k]) > 1 {
			if r.Scores[k], err = eval.Scores(scp[k], scr[k]); err != nil {
				return nil, err
			}
			if r.ScoresCentre[k], err = eval.Scores(scp[k], scc[k]); err != nil {
				return nil, err
			}
		}
		if len(mp[k]) > 1 {
			if r.Mean[k], err = eval.Scores(mp[k], mr[k]); err != nil {
				return nil, err
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

// evalPhantom evaluates the cascade c on phantom seed; ci is the same
// cascade reading the levels without the prior.
func evalPhantom(ctx context.Context, c, ci *cascade.Cascade, seed int64) (*synthCase, error) {
	opt := phantom.Options{Disease: true}
	p := phantom.New(seed, opt)
	lc, err := RenderLevelsCase(ctx, seed, opt)
	if err != nil {
		return nil, err
	}
	s, err := MakeLevelsSample(lc, nil, LevelsAug{}, 0)
	if err != nil {
		return nil, err
	}
	g := p.Geometry()
	est, err := c.Levels(ctx, s.Coarse, &g)
	if err != nil {
		return nil, err
	}
	ind, err := ci.Levels(ctx, s.Coarse, &g)
	if err != nil {
		return nil, err
	}
	sc := &synthCase{seed: seed, spacing: g.Spacing[2], truth: p.Levels()}
	for i, e := range ind {
		sc.ind[i], sc.indInside[i] = e.Z, e.Inside
	}
	sg := p.SliceGrid()
	npx := sg.Nx * sg.Ny
	type sl struct {
		pred   cascade.SliceScore
		labels synth.Labels
	}
	rendered := map[int]sl{}
	hu := make([]int16, npx)
	fl := make([]uint8, npx)
	lung := make([]bool, npx)
	gg := make([]bool, npx)
	ret := make([]bool, npx)
	get := func(k int) (sl, error) {
		if v, ok := rendered[k]; ok {
			return v, nil
		}
		if err := p.RenderSlice(g.SliceZ[k], sg, hu, fl); err != nil {
			return sl{}, err
		}
		for j, f := range fl {
			lung[j], gg[j], ret[j] = f&phantom.MaskLung != 0, f&phantom.MaskGG != 0, f&phantom.MaskRET != 0
		}
		in := cascade.PrepareSlice(hu, sg.Nx, sg.Ny, [2]float64{sg.DX, sg.DY})
		ps, err := c.ScoreInput(in)
		if err != nil {
			return sl{}, err
		}
		v := sl{pred: ps, labels: synth.Measure(lung, gg, ret)}
		v.pred.Input, v.pred.Maps = nil, cascade.ScoreMaps{}
		rendered[k] = v
		return v, nil
	}
	for i := 0; i < 5; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		_, sc.inside[i] = g.NearestSlice(sc.truth[i])
		e := est[i]
		sc.est[i], sc.estInside[i] = e.Z, e.Inside
		if !e.Inside {
			continue
		}
		sc.slicez[i] = g.SliceZ[e.Slice]
		var ps, rs cascade.Scores
		cnt := 0
		for _, k := range []int{e.Slice - 1, e.Slice, e.Slice + 1} {
			if k < 0 || k >= g.Nz {
				continue
			}
			v, err := get(k)
			if err != nil {
				return nil, err
			}
			if k == e.Slice {
				sc.refC[i] = cascade.Scores{TOT: v.labels.TOT, GG: v.labels.GG, RET: v.labels.RET}
				if v.pred.NoLung {
					break
				}
			}
			if v.pred.NoLung {
				continue
			}
			ps.TOT += v.pred.Scores.TOT
			ps.GG += v.pred.Scores.GG
			ps.RET += v.pred.Scores.RET
			rs.TOT += v.labels.TOT
			rs.GG += v.labels.GG
			rs.RET += v.labels.RET
			cnt++
		}
		if c, _ := get(e.Slice); c.pred.NoLung || cnt == 0 {
			continue
		}
		f := 1 / float64(cnt)
		sc.pred[i] = cascade.Scores{TOT: ps.TOT * f, GG: ps.GG * f, RET: ps.RET * f}
		sc.ref[i] = cascade.Scores{TOT: rs.TOT * f, GG: rs.GG * f, RET: rs.RET * f}
		sc.scored[i] = true
		sc.predMean.TOT += sc.pred[i].TOT
		sc.predMean.GG += sc.pred[i].GG
		sc.predMean.RET += sc.pred[i].RET
		sc.refMean.TOT += sc.ref[i].TOT
		sc.refMean.GG += sc.ref[i].GG
		sc.refMean.RET += sc.ref[i].RET
		sc.nMean++
	}
	if sc.nMean > 0 {
		f := 1 / float64(sc.nMean)
		sc.predMean = cascade.Scores{TOT: sc.predMean.TOT * f, GG: sc.predMean.GG * f, RET: sc.predMean.RET * f}
		sc.refMean = cascade.Scores{TOT: sc.refMean.TOT * f, GG: sc.refMean.GG * f, RET: sc.refMean.RET * f}
	}
	return sc, nil
}

// RealScan is the cascade's result on one real series with reference
// levels.
type RealScan struct {
	Series    string     `json:"series"`
	Slices    int        `json:"slices"`
	Spacing   float64    `json:"spacing_mm"`
	Reference [5]float64 `json:"reference_z_mm"`
	Tolerance float64    `json:"tolerance_mm"`
	// Z is the z of the slice chosen for each level (NaN if outside);
	// Estimate the network's continuous estimate.
	Z        MMs        `json:"z_mm"`
	Estimate [5]float64 `json:"estimate_z_mm"`
	// Independent is the network's estimate read without the anatomical
	// prior (each level on its own), for comparison.
	Independent [5]float64        `json:"independent_z_mm"`
	Error       MMs               `json:"error_mm"` // Z - Reference (NaN if outside)
	Within      [5]bool           `json:"within_tolerance"`
	Status      [5]string         `json:"status"`
	Scores      [5][3]float64     `json:"scores"` // TOT, GG, RET
	Mean        [3]float64        `json:"mean"`
	Seconds     float64           `json:"seconds"`
	Result      *cascade.Result   `json:"-"`
	Metrics     eval.LevelMetrics `json:"metrics"`
}

// MMs are five lengths in mm, one per level, NaN where there is none (a
// level outside the scan); JSON writes NaN as null.
type MMs [5]float64

// MarshalJSON writes the five values, null for NaN.
func (m MMs) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, v := range m {
		if i > 0 {
			b = append(b, ',')
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			b = append(b, "null"...)
			continue
		}
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads five values, NaN for null.
func (m *MMs) UnmarshalJSON(b []byte) error {
	var vs []*float64
	if err := json.Unmarshal(b, &vs); err != nil {
		return err
	}
	if len(vs) != len(m) {
		return fmt.Errorf("train: %d values, want %d", len(vs), len(m))
	}
	for i, v := range vs {
		m[i] = math.NaN()
		if v != nil {
			m[i] = *v
		}
	}
	return nil
}

// RealSliceResult is the score network's reading of one real slice.
type RealSliceResult struct {
	File        string  `json:"file"`
	Status      string  `json:"status"` // "scored", "no-lung" or the ingestion's reason
	LungAreaCM2 float64 `json:"lung_area_cm2"`
	TOT         float64 `json:"tot"`
	GG          float64 `json:"gg"`
	RET         float64 `json:"ret"`
}

// RealReport holds the evaluation on the real test data.
type RealReport struct {
	Scans []RealScan `json:"scans"`
	// KernelAgreement is |z(B40f) - z(B70f)| per level for A0002.
	KernelAgreement *MMs              `json:"kernel_agreement_mm,omitempty"`
	Slices          []RealSliceResult `json:"slices"`
}

func quietLog() func() {
	log.SetOutput(io.Discard)
	return func() { log.SetOutput(os.Stderr) }
}

// EvalReal runs the cascade on the real CT series listed in
// dir/chest-ct/levels.csv and the score network on dir/slices/*.dcm.
func EvalReal(ctx context.Context, c *cascade.Cascade, dir string) (*RealReport, error) {
	defer quietLog()()
	r := &RealReport{}
	f, err := os.Open(filepath.Join(dir, "chest-ct", "levels.csv"))
	if err != nil {
		return nil, fmt.Errorf("train: real levels: %w", err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("train: levels.csv: %w", err)
	}
	byName := map[string]*RealScan{}
	for _, row := range rows[1:] {
		if len(row) < 7 {
			continue
		}
		rs := RealScan{Series: row[0]}
		for i := 0; i < 5; i++ {
			rs.Reference[i], _ = strconv.ParseFloat(row[1+i], 64)
		}
		rs.Tolerance, _ = strconv.ParseFloat(row[6], 64)
		sd := filepath.Join(dir, "chest-ct", row[0])
		if _, err := os.Stat(sd); err != nil {
			continue
		}
		if err := scoreReal(ctx, c, sd, &rs); err != nil {
			return nil, fmt.Errorf("train: %s: %w", row[0], err)
		}
		r.Scans = append(r.Scans, rs)
	}
	for i := range r.Scans {
		byName[r.Scans[i].Series] = &r.Scans[i]
	}
	if a, b := byName["A0002-B40f"], byName["A0002-B70f"]; a != nil && b != nil {
		var k MMs
		for i := range k {
			k[i] = math.Abs(a.Z[i] - b.Z[i])
		}
		r.KernelAgreement = &k
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "slices", "*.dcm"))
	sort.Strings(paths)
	for _, p := range paths {
		sr, err := ScoreSliceFile(ctx, c, p)
		if err != nil {
			return nil, err
		}
		r.Slices = append(r.Slices, sr)
	}
	return r, nil
}

func scoreReal(ctx context.Context, c *cascade.Cascade, dir string, rs *RealScan) error {
	files, err := ingest.DiskFiles(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		return err
	}
	src, err := inv.Open("")
	if err != nil {
		return err
	}
	res, err := c.Score(ctx, src, cascade.Options{SeriesUID: src.Series().UID})
	if err != nil {
		return err
	}
	rs.Seconds = time.Since(start).Seconds()
	rs.Result = res
	ind, err := c.WithLevelPrior(nil).LocateLevels(ctx, src, nil)
	if err != nil {
		return err
	}
	for i, e := range ind {
		rs.Independent[i] = e.Z
	}
	g := src.Geometry()
	rs.Slices, rs.Spacing = g.Nz, g.Spacing[2]
	var pred, ref, sp []float64
	for i, l := range res.Levels {
		rs.Status[i] = l.Status
		rs.Estimate[i] = l.EstimateZMM
		rs.Z[i] = math.NaN()
		if l.ZMM != nil {
			rs.Z[i] = *l.ZMM
			rs.Error[i] = rs.Z[i] - rs.Reference[i]
			rs.Within[i] = math.Abs(rs.Error[i]) <= rs.Tolerance
			pred = append(pred, rs.Z[i])
			ref = append(ref, rs.Reference[i])
			sp = append(sp, rs.Spacing)
		} else {
			rs.Error[i] = math.NaN()
		}
		if l.TOT != nil {
			rs.Scores[i] = [3]float64{*l.TOT, *l.GG, *l.RET}
		}
	}
	if res.Mean.TOT != nil {
		rs.Mean = [3]float64{*res.Mean.TOT, *res.Mean.GG, *res.Mean.RET}
	}
	if len(pred) > 0 {
		rs.Metrics, _ = eval.Levels(pred, ref, sp)
	}
	return nil
}

// ScoreSliceFile ingests one DICOM file and, if it is an axial CT slice,
// runs the score network on it (a slice without lung is reported as such).
func ScoreSliceFile(ctx context.Context, c *cascade.Cascade, path string) (RealSliceResult, error) {
	defer quietLog()()
	sr := RealSliceResult{File: filepath.Base(path)}
	files, err := ingest.DiskFiles(path)
	if err != nil {
		return sr, err
	}
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		return sr, err
	}
	if inv.Chosen == "" {
		sr.Status = "not scored: " + inv.ChosenWhy
		if rep, ok := inv.Report(path); ok && rep.Reason != "" {
			sr.Status = "not scored: " + rep.Reason
		}
		return sr, nil
	}
	src, err := inv.Open("")
	if err != nil {
		return sr, err
	}
	ss, err := c.ScoreSlices(ctx, src, []int{0})
	if err != nil {
		return sr, err
	}
	s := ss[0]
	sr.LungAreaCM2 = s.Input.LungAreaMM2 / 100
	if s.NoLung {
		sr.Status = cascade.StatusNoLung
		return sr, nil
	}
	sr.Status = cascade.StatusScored
	sr.TOT, sr.GG, sr.RET = s.Scores.TOT, s.Scores.GG, s.Scores.RET
	return sr, nil
}

// WriteSyntheticText prints a synthetic report.
func (r *SyntheticReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Synthetic test set: %d phantoms with 3D disease, seeds %s (never used in training), %.0f s\n", r.Phantoms, r.Seeds, r.Seconds)
	fmt.Fprintf(w, "Levels (network estimate vs truth):\n")
	for i, m := range r.Levels {
		fmt.Fprintf(w, "  %s  n %3d  MAE %5.2f mm  within one slice %5.1f %%  bias %+.2f mm  LoA [%+.1f, %+.1f]\n",
			cascade.LevelNames[i], m.N, m.MAEmm, 100*m.WithinSlice, m.BA.Bias, m.BA.Lower, m.BA.Upper)
	}
	m := r.LevelsAll
	fmt.Fprintf(w, "  all n %4d  MAE %5.2f mm  within one slice %5.1f %%\n", m.N, m.MAEmm, 100*m.WithinSlice)
	m = r.SliceLevels
	fmt.Fprintf(w, "  chosen slice z vs truth: MAE %5.2f mm  within one slice %5.1f %%\n", m.MAEmm, 100*m.WithinSlice)
	fmt.Fprintf(w, "  levels wrongly inside/outside the scan: %d\n", r.OutsideWrong)
	m = r.Independent
	fmt.Fprintf(w, "  read without the anatomical prior: all n %4d  MAE %5.2f mm  within one slice %5.1f %%  wrongly inside/outside %d\n",
		m.N, m.MAEmm, 100*m.WithinSlice, r.IndependentOutsideWrong)
	names := []string{"TOT", "GG", "RET"}
	pr := func(title string, ms [3]eval.ScoreMetrics) {
		fmt.Fprintf(w, "%s:\n", title)
		for k, s := range ms {
			fmt.Fprintf(w, "  %-3s n %4d  MAE %5.2f  kappa %.3f  ICC %.3f  bias %+.2f  LoA [%+.1f, %+.1f]\n",
				names[k], s.N, s.MAE, s.Kappa, s.ICC, s.BA.Bias, s.BA.Lower, s.BA.Upper)
		}
	}
	pr("Scores per level (mean of the three slices vs truth of the same slices)", r.Scores)
	pr("Scores per level vs truth of the level slice alone", r.ScoresCentre)
	pr("Whole-lung mean per phantom", r.Mean)
}

// WriteText prints a real-data report.
func (r *RealReport) WriteText(w io.Writer) {
	fmt.Fprintln(w, "Real CT series (levels.csv, read by eye):")
	for _, s := range r.Scans {
		fmt.Fprintf(w, "  %s: %d slices of %.3g mm, scored in %.2f s\n", s.Series, s.Slices, s.Spacing, s.Seconds)
		for i := 0; i < 5; i++ {
			ok := "within"
			if !s.Within[i] {
				ok = "OUTSIDE"
			}
			if s.Status[i] == cascade.StatusOutside {
				fmt.Fprintf(w, "    %s  reference %6.1f  cascade: outside the scan (estimate %.1f)  %s tolerance\n",
					cascade.LevelNames[i], s.Reference[i], s.Estimate[i], ok)
				continue
			}
			fmt.Fprintf(w, "    %s  reference %6.1f  slice z %6.1f (estimate %6.1f, without prior %6.1f)  error %+5.1f mm  %s ±%.0f mm   TOT %5.1f GG %5.1f RET %5.1f\n",
				cascade.LevelNames[i], s.Reference[i], s.Z[i], s.Estimate[i], s.Independent[i], s.Error[i], ok, s.Tolerance,
				s.Scores[i][0], s.Scores[i][1], s.Scores[i][2])
		}
		fmt.Fprintf(w, "    level MAE %.1f mm; whole-lung mean TOT %.1f GG %.1f RET %.1f\n", s.Metrics.MAEmm, s.Mean[0], s.Mean[1], s.Mean[2])
	}
	if k := r.KernelAgreement; k != nil {
		fmt.Fprintf(w, "  A0002 B40f vs B70f, |dz| per level: %.0f %.0f %.0f %.0f %.0f mm\n", k[0], k[1], k[2], k[3], k[4])
	}
	fmt.Fprintln(w, "Real single slices:")
	for _, s := range r.Slices {
		if s.Status != cascade.StatusScored {
			fmt.Fprintf(w, "  %-36s %s (lung %.1f cm²)\n", s.File, s.Status, s.LungAreaCM2)
			continue
		}
		fmt.Fprintf(w, "  %-36s lung %6.1f cm²  TOT %5.1f  GG %5.1f  RET %5.1f\n", s.File, s.LungAreaCM2, s.TOT, s.GG, s.RET)
	}
	_ = strings.TrimSpace
}
