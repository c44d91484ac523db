package train

import (
	"context"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
	"sscscore/model/volume"
)

// RealCase is a real labelled scan: a series and its row of the paper's
// CSV.
type RealCase struct {
	Labels cascade.CaseLabels
	Src    *ingest.LazyVolume
	// Path is the folder of the scan's files (relative to the data folder
	// when it is a sub-folder of it).
	Path string
	// PatientID is the series' DICOM PatientID (PatID when it has none):
	// cross-validation keeps a patient's scans in one fold.
	PatientID string

	levels *LevelsCase // memo of LevelsCase
}

// RealData is a site's labelled scans, matched with their CSV rows, and
// every issue found on the way.
type RealData struct {
	Cases  []*RealCase
	Issues []cascade.LabelIssue
}

// Errors returns the issues that are errors.
func (d *RealData) Errors() []cascade.LabelIssue { return cascade.LabelErrors(d.Issues) }

// CheckRealData reads a CSV in the paper's layout (checked by
// cascade.ReadLabelsCSVChecked) and matches its rows with the DICOM series
// under dir: a row's scan is in the sub-folder named PatID if there is
// one, otherwise the series whose DICOM PatientID is PatID (the series
// chosen for scoring when there are several). It reports, besides the
// CSV's own issues, rows with no scan and scans no row names (warnings:
// left out), and level positions outside their scan (a warning: the
// level's scores are not used). Nothing is dropped without an issue. The
// error is for a CSV or folder that cannot be read at all.
func CheckRealData(ctx context.Context, dir, csvPath string) (*RealData, error) {
	if csvPath == "" {
		return nil, fmt.Errorf("train: real scans need a labels CSV (--labels)")
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	labels, issues, err := cascade.ReadLabelsCSVChecked(f, csvPath)
	f.Close()
	if err != nil {
		return nil, err
	}
	d := &RealData{Issues: issues}
	log.SetOutput(io.Discard) // the DICOM library's own log of odd files
	defer log.SetOutput(os.Stderr)
	files, err := ingest.DiskFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("train: scans: %w", err)
	}
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		return nil, fmt.Errorf("train: scans in %s: %w", dir, err)
	}
	// Each usable series' folder under dir (its files' first path element).
	folder := map[string]string{}
	for _, fr := range inv.Files {
		if fr.Series == "" || folder[fr.Series] != "" {
			continue
		}
		rel, err := filepath.Rel(dir, fr.Path)
		if err != nil || !strings.Contains(rel, string(filepath.Separator)) {
			continue
		}
		folder[fr.Series] = strings.SplitN(rel, string(filepath.Separator), 2)[0]
	}
	byFolder, byPatient := map[string][]*ingest.Series{}, map[string][]*ingest.Series{}
	for _, s := range inv.Series { // in order of preference
		if !s.Usable {
			continue
		}
		if fo := folder[s.UID]; fo != "" {
			byFolder[fo] = append(byFolder[fo], s)
		}
		if p := strings.TrimSpace(s.PatientID); p != "" {
			byPatient[p] = append(byPatient[p], s)
		}
	}
	named := map[string]bool{} // folders and patient IDs some row names
	for _, l := range labels {
		named[l.PatID] = true
	}
	for _, i := range issues { // rows left out for their own errors still name their scan
		named[i.PatID] = true
	}
	issue := func(l cascade.CaseLabels, warning bool, format string, a ...any) {
		d.Issues = append(d.Issues, cascade.LabelIssue{File: csvPath, Line: l.Line, PatID: l.PatID, Warning: warning, Msg: fmt.Sprintf(format, a...)})
	}
	for _, l := range labels {
		cands, path := byFolder[l.PatID], filepath.Join(dir, l.PatID)
		if len(cands) == 0 {
			cands, path = byPatient[l.PatID], dir
		}
		if len(cands) == 0 {
			issue(l, true, "no scan in %s (no sub-folder %s and no series with PatientID %s): row not used", dir, l.PatID, l.PatID)
			continue
		}
		s := cands[0]
		lv, err := inv.Open(s.UID)
		if err != nil {
			issue(l, false, "its scan (series %s) cannot be read: %v", s.UID, err)
			continue
		}
		if fo := folder[s.UID]; fo != "" {
			path = filepath.Join(dir, fo)
		}
		for i := 0; i < cascade.NumLevels; i++ {
			z := l.Pos[i]
			if math.IsNaN(z) {
				continue
			}
			half := s.Spacing[2] / 2
			if z < s.ZMin-half || z > s.ZMax+half {
				issue(l, true, "L%d_pos %.1f mm is outside the scan (z %.1f to %.1f mm): the level's scores are not used", i+1, z, s.ZMin, s.ZMax)
			}
		}
		pid := strings.TrimSpace(s.PatientID)
		if pid == "" {
			pid = l.PatID
		}
		d.Cases = append(d.Cases, &RealCase{Labels: l, Src: lv, Path: path, PatientID: pid})
	}
	// Scans that no row names, by folder (or PatientID for loose files).
	told := map[string]bool{}
	for _, s := range inv.Series {
		if !s.Usable {
			continue
		}
		fo, pid := folder[s.UID], strings.TrimSpace(s.PatientID)
		if named[fo] || named[pid] {
			continue
		}
		what := "folder " + filepath.Join(dir, fo)
		if fo == "" {
			what = "series " + s.UID
		}
		if told[what] {
			continue
		}
		told[what] = true
		d.Issues = append(d.Issues, cascade.LabelIssue{File: csvPath, Warning: true,
			Msg: fmt.Sprintf("scan in %s (PatientID %q) has no row: not used", what, pid)})
	}
	return d, nil
}

// LoadRealCases checks a site's labelled scans (CheckRealData), writes
// every issue to logw and returns the cases; it fails when there is any
// error among the issues (all of them are written first).
func LoadRealCases(ctx context.Context, dir, csvPath string, logw io.Writer) ([]*RealCase, error) {
	d, err := CheckRealData(ctx, dir, csvPath)
	if err != nil {
		return nil, err
	}
	for _, i := range d.Issues {
		fmt.Fprintf(logw, "real data: %s\n", i)
	}
	if errs := d.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("train: %d errors in the labelled scans (listed above), the first: %s", len(errs), errs[0])
	}
	return d.Cases, nil
}

// LevelsCase returns the scan on the coarse in-plane grid with its level
// positions (those given in the CSV).
func (c *RealCase) LevelsCase(ctx context.Context) (*LevelsCase, error) {
	if c.levels != nil {
		return c.levels, nil
	}
	g := c.Src.Geometry()
	acc := cascade.NewCoarseAccumulator(g.SliceZ[0], g.SliceZ[g.Nz-1], g.Spacing[2], g.Nx, g.Ny, g.Spacing[0], g.Spacing[1])
	n := cascade.CoarseWide * cascade.CoarseWide
	lc := &LevelsCase{Name: c.Labels.PatID, Dz: g.Spacing[2], NativeSpacing: g.Spacing[2], Desc: "real scan " + c.Labels.PatID}
	buf := make([]int16, g.Nx*g.Ny)
	for k := 0; k < g.Nz; k++ {
		if err := c.Src.Slice(ctx, k, buf); err != nil {
			continue // a broken slice is left out
		}
		s := acc.InPlane(buf)
		for _, v := range s {
			lc.Slice = append(lc.Slice, int16(math.Round(float64(v))))
		}
		lc.Z = append(lc.Z, g.SliceZ[k])
	}
	lc.Nz = len(lc.Z)
	if lc.Nz == 0 || len(lc.Slice) != lc.Nz*n {
		return nil, fmt.Errorf("train: real scan %s: no slice could be read", c.Labels.PatID)
	}
	for i := 0; i < 5; i++ {
		if !math.IsNaN(c.Labels.Pos[i]) {
			lc.Levels[i], lc.Has[i] = c.Labels.Pos[i], true
		}
	}
	c.levels = lc
	return lc, nil
}

// RealSlice is one original slice of a real scan with the scores of its
// level (the paper scores a level on its slice and two neighbours).
type RealSlice struct {
	Src    volume.Source
	Slice  int
	Labels cascade.Scores
}

// ScoreSlices returns the scored slices of the case: for each level with
// a position and all three scores, the nearest slice and its neighbours.
func (c *RealCase) ScoreSlices() []*RealSlice {
	g := c.Src.Geometry()
	var out []*RealSlice
	for i := 0; i < 5; i++ {
		l := c.Labels
		if math.IsNaN(l.Pos[i]) || math.IsNaN(l.TOT[i]) || math.IsNaN(l.GG[i]) || math.IsNaN(l.RET[i]) {
			continue
		}
		k, inside := g.NearestSlice(l.Pos[i])
		if !inside {
			continue
		}
		for _, j := range []int{k - 1, k, k + 1} {
			if j >= 0 && j < g.Nz {
				out = append(out, &RealSlice{Src: c.Src, Slice: j, Labels: cascade.Scores{TOT: l.TOT[i], GG: l.GG[i], RET: l.RET[i]}})
			}
		}
	}
	return out
}

// Sample reads the slice and makes a score sample: only the slice's
// labels and its lung mask are known, so the loss uses the scores and the
// lung shares.
func (r *RealSlice) Sample(ctx context.Context, rng *rand.Rand, aug ScoresAug) (*ScoreSample, error) {
	g := r.Src.Geometry()
	hu := make([]int16, g.Nx*g.Ny)
	if err := r.Src.Slice(ctx, r.Slice, hu); err != nil {
		return nil, err
	}
	in := cascade.PrepareSlice(hu, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]})
	zero := make([]float32, cascade.SliceSide*cascade.SliceSide)
	maps := [4][]float32{in.X[len(in.X)/2:], zero, zero, zero}
	x := in.X
	if aug.On {
		x, maps = augmentSlice(x, maps, rng)
	}
	t := &ScoreTarget{HasLabels: true, Labels: r.Labels}
	t.Lung, t.Any, t.GG, t.RET = cellShares(maps)
	return &ScoreSample{X: x, Target: t, NoLung: in.NoLung}, nil
}
