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
	Path   string
}

// LoadRealCases reads a CSV in the paper's layout and finds each PatID's
// series under dir: in a sub-folder named PatID if there is one,
// otherwise among all series under dir whose DICOM PatientID is PatID (the
// series chosen for scoring when a patient has several). Rows without a
// series are reported to logw and skipped.
func LoadRealCases(ctx context.Context, dir, csvPath string, logw io.Writer) ([]*RealCase, error) {
	if csvPath == "" {
		return nil, fmt.Errorf("train: real scans need a labels CSV")
	}
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	labels, err := cascade.ReadLabelsCSV(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	log.SetOutput(io.Discard) // the DICOM library's own log of odd files
	defer log.SetOutput(os.Stderr)
	var all *ingest.Inventory
	var out []*RealCase
	for _, l := range labels {
		sub := filepath.Join(dir, l.PatID)
		var inv *ingest.Inventory
		if st, err := os.Stat(sub); err == nil && st.IsDir() {
			files, err := ingest.DiskFiles(sub)
			if err != nil {
				return nil, err
			}
			if inv, err = ingest.Scan(ctx, files, ingest.Options{}); err != nil {
				return nil, err
			}
		} else {
			if all == nil {
				files, err := ingest.DiskFiles(dir)
				if err != nil {
					return nil, err
				}
				if all, err = ingest.Scan(ctx, files, ingest.Options{}); err != nil {
					return nil, err
				}
			}
			inv = all
		}
		uid := ""
		if inv == all {
			for _, s := range inv.Series {
				if s.Usable && strings.TrimSpace(s.PatientID) == l.PatID {
					uid = s.UID
					break
				}
			}
			if uid == "" {
				fmt.Fprintf(logw, "real data: no series for PatID %s: skipped\n", l.PatID)
				continue
			}
		}
		lv, err := inv.Open(uid)
		if err != nil {
			fmt.Fprintf(logw, "real data: PatID %s: %v: skipped\n", l.PatID, err)
			continue
		}
		out = append(out, &RealCase{Labels: l, Src: lv, Path: sub})
	}
	return out, nil
}

// LevelsCase returns the scan on the coarse in-plane grid with its level
// positions (those given in the CSV).
func (c *RealCase) LevelsCase(ctx context.Context) (*LevelsCase, error) {
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
