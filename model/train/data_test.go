//go:build !js

package train

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/phantom"
)

func TestLevelsCaseRoundTrip(t *testing.T) {
	lc, err := RenderLevelsCase(context.Background(), 12, phantom.Options{SliceSpacing: phantom.Range{Min: 5, Max: 5}})
	if err != nil {
		t.Fatalf("RenderLevelsCase: got error %v, want nil", err)
	}
	if lc.Dz != 5 || lc.Nz != len(lc.Z) || len(lc.Slice) != lc.Nz*cascade.CoarseWide*cascade.CoarseWide {
		t.Fatalf("case: got dz %v, %d slices, %d values; want dz 5, %d slices, %d values", lc.Dz, lc.Nz, len(lc.Slice), len(lc.Z), lc.Nz*cascade.CoarseWide*cascade.CoarseWide)
	}
	var b bytes.Buffer
	if _, err := lc.WriteTo(&b); err != nil {
		t.Fatalf("lc.WriteTo: got error %v, want nil", err)
	}
	back, err := ReadLevelsCase(&b)
	if err != nil {
		t.Fatalf("ReadLevelsCase: got error %v, want nil", err)
	}
	if back.Nz != lc.Nz || back.Levels != lc.Levels || back.Slice[1234] != lc.Slice[1234] || back.Z[3] != lc.Z[3] {
		t.Fatalf("round trip: got Nz %d, levels %v; want Nz %d, levels %v and the same voxels and z", back.Nz, back.Levels, lc.Nz, lc.Levels)
	}
	if _, err := ReadLevelsCase(bytes.NewReader([]byte("garbage"))); err == nil {
		t.Errorf("garbage accepted: got nil error, want an error")
	}
}

func TestLevelsSampleTargets(t *testing.T) {
	lc, err := RenderLevelsCase(context.Background(), 13, phantom.Options{})
	if err != nil {
		t.Fatalf("RenderLevelsCase: got error %v, want nil", err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 20; i++ {
		aug := LevelsAug{On: i > 0}
		s, err := MakeLevelsSample(lc, rng, aug, 96)
		if err != nil {
			t.Fatalf("MakeLevelsSample: got error %v, want nil", err)
		}
		if s.D != 96 || len(s.X) != 96*cascade.LevelsXY*cascade.LevelsXY {
			t.Fatalf("sample: got %d slices, %d values; want 96 slices, %d values", s.D, len(s.X), 96*cascade.LevelsXY*cascade.LevelsXY)
		}
		co := s.Coarse
		for l := 0; l < 5; l++ {
			// The target converts back to the level's z (scaled with the
			// sample's z scale), unless it was clamped to the padding.
			z := co.ZOf(s.Target[l] - cascade.LevelsPad)
			if s.Inside[l] {
				lo, hi := s.Geom.ZRange()
				if z < lo-s.Geom.Spacing[2] || z > hi+s.Geom.Spacing[2] {
					t.Errorf("sample %d L%d (inside): got target z %.1f, want within a slice of [%.1f, %.1f]", i, l+1, z, lo, hi)
				}
			}
			if !aug.On && math.Abs(z-lc.Levels[l]) > 1e-6 {
				t.Errorf("L%d: got target z %.2f, want the truth %.2f", l+1, z, lc.Levels[l])
			}
		}
	}
}

func TestCellShares(t *testing.T) {
	side := cascade.SliceSide
	var maps [4][]float32
	for i := range maps {
		maps[i] = make([]float32, side*side)
	}
	// left half lung, a quarter of it ground glass
	for y := 0; y < side; y++ {
		for x := 0; x < side/2; x++ {
			maps[0][y*side+x] = 1
			if y < side/4 {
				maps[1][y*side+x] = 1
				maps[2][y*side+x] = 1
			}
		}
	}
	lung, any, gg, ret := cellShares(maps)
	c := cascade.CellSide
	if lung[0] != 1 || lung[c-1] != 0 || gg[0] != 1 || any[0] != 1 || ret[0] != 0 || gg[(c-1)*c] != 0 {
		t.Errorf("cells: got lung %v %v, gg %v %v, any %v, ret %v; want lung 1 0, gg 1 0, any 1, ret 0", lung[0], lung[c-1], gg[0], gg[(c-1)*c], any[0], ret[0])
	}
	var sl, sg float32
	for i := range lung {
		sl += lung[i]
		sg += lung[i] * gg[i]
	}
	if math.Abs(float64(100*sg/sl)-25) > 1e-3 {
		t.Errorf("GG share %.2f %%, want 25", 100*sg/sl)
	}
}

func TestSampleFromSlice(t *testing.T) {
	for _, disease := range []bool{false, true} {
		ss, err := RenderScoreSlices(context.Background(), 21, disease, 2, 1)
		if err != nil {
			t.Fatalf("RenderScoreSlices: got error %v, want nil", err)
		}
		rng := rand.New(rand.NewPCG(2, 3))
		for _, s := range ss {
			var b bytes.Buffer
			s.WriteTo(&b)
			back, err := ReadScoreSlice(&b)
			if err != nil || back.Nx != s.Nx || back.HU[777] != s.HU[777] || back.Flags[5000] != s.Flags[5000] {
				t.Fatalf("slice round trip: got error %v or other pixels, want nil and the same slice", err)
			}
			for _, aug := range []bool{false, true} {
				sm := SampleFromSlice(s, rng, ScoresAug{On: aug})
				l := sm.Target.Labels
				if l.TOT < l.GG-1e-9 || l.TOT < l.RET-1e-9 || l.TOT > 100 || l.GG < 0 {
					t.Errorf("labels: got %+v, want max(GG,RET) <= TOT <= 100, GG >= 0", l)
				}
				if len(sm.X) != 2*cascade.SliceSide*cascade.SliceSide {
					t.Fatalf("input of %d values, want %v", len(sm.X), 2*cascade.SliceSide*cascade.SliceSide)
				}
				// The cell targets reproduce the labels (to the resampling).
				var sl, sa float64
				for i := range sm.Target.Lung {
					sl += float64(sm.Target.Lung[i])
					sa += float64(sm.Target.Lung[i] * sm.Target.Any[i])
				}
				if !aug && sl > 0 && math.Abs(100*sa/sl-l.TOT) > 3 {
					t.Errorf("disease %v: got TOT %.1f from the cells, want the label %.1f ± 3", disease, 100*sa/sl, l.TOT)
				}
			}
		}
	}
}

// TestRealCases writes a small phantom as a DICOM series and a CSV in the
// paper's layout, and reads them back as real labelled data.
func TestRealCases(t *testing.T) {
	dir := t.TempDir()
	p := phantom.New(31, phantom.Options{Matrix: 64, SliceSpacing: phantom.Range{Min: 8, Max: 8}})
	if _, err := p.WriteDICOM(context.Background(), filepath.Join(dir, "P031"), "P031", nil); err != nil {
		t.Fatalf("p.WriteDICOM: got error %v, want nil", err)
	}
	lv := p.Levels()
	csv := "PatID,L1_pos,L2_pos,L3_pos,L4_pos,L5_pos"
	for i := 1; i <= 5; i++ {
		csv += fmt.Sprintf(",L%d_disext,L%d_gg,L%d_retp", i, i, i)
	}
	csv += fmt.Sprintf("\nP031,%.1f,%.1f,%.1f,%.1f,%.1f,10,5,5,,,,20,10,10,20,10,10,30,20,10\nP999,1,2,3,4,5\n", lv[0], lv[1], lv[2], lv[3], lv[4])
	csvPath := filepath.Join(dir, "labels.csv")
	os.WriteFile(csvPath, []byte(csv), 0o644)
	cases, err := LoadRealCases(context.Background(), dir, csvPath, io.Discard)
	if err != nil {
		t.Fatalf("LoadRealCases: got error %v, want nil", err)
	}
	if len(cases) != 1 || cases[0].Labels.PatID != "P031" {
		t.Fatalf("got %d cases, want 1 (P031)", len(cases))
	}
	lc, err := cases[0].LevelsCase(context.Background())
	if err != nil {
		t.Fatalf("cases[0].LevelsCase: got error %v, want nil", err)
	}
	if !lc.Has[0] || math.Abs(lc.Levels[2]-lv[2]) > 0.06 || lc.Nz != p.Geometry().Nz {
		t.Errorf("levels case: got levels %+v (has %v), Nz %d; want L3 %.2f ± 0.06, L1 known, Nz %d", lc.Levels, lc.Has, lc.Nz, lv[2], p.Geometry().Nz)
	}
	s, err := MakeLevelsSample(lc, rand.New(rand.NewPCG(1, 1)), LevelsAug{On: true}, 96)
	if err != nil {
		t.Fatalf("MakeLevelsSample: got error %v, want nil", err)
	}
	if !s.Known[4] {
		t.Errorf("Known: got %v, want L5 known", s.Known)
	}
	sl := cases[0].ScoreSlices()
	if len(sl) != 12 { // L1, L3, L4, L5 scored (L2's scores are empty), three slices each
		t.Fatalf("%d scored slices, want 12", len(sl))
	}
	sm, err := sl[0].Sample(context.Background(), rand.New(rand.NewPCG(1, 1)), ScoresAug{On: true})
	if err != nil {
		t.Fatalf("sl[0].Sample: got error %v, want nil", err)
	}
	if sm.Target.HasMasks || !sm.Target.HasLabels || sm.Target.Labels.TOT != 10 {
		t.Errorf("real sample target: got %+v (masks %v, labels %v), want TOT 10, labels only", sm.Target.Labels, sm.Target.HasMasks, sm.Target.HasLabels)
	}
}

// TestCheckRealData checks that the labels CSV is matched with the scans
// and that every problem is reported with its line: a scan with no row, a
// row with no scan, a score outside 0-100, a level outside its scan and
// scores not in steps of 5.
func TestCheckRealData(t *testing.T) {
	dir := t.TempDir()
	var lv [2][5]float64
	for i, id := range []string{"P1", "P2"} {
		p := phantom.New(int64(41+i), phantom.Options{Matrix: 48, SliceSpacing: phantom.Range{Min: 10, Max: 10}})
		if _, err := p.WriteDICOM(context.Background(), filepath.Join(dir, id), id, nil); err != nil {
			t.Fatalf("WriteDICOM %s: got error %v, want nil", id, err)
		}
		lv[i] = p.Levels()
	}
	header := "PatID,L1_pos,L2_pos,L3_pos,L4_pos,L5_pos,L1_disext,L1_gg,L1_retp,L2_disext,L2_gg,L2_retp\n"
	row := func(id string, pos [5]float64, scores string) string {
		return fmt.Sprintf("%s,%.1f,%.1f,%.1f,%.1f,%.1f,%s\n", id, pos[0], pos[1], pos[2], pos[3], pos[4], scores)
	}
	tests := []struct {
		name  string
		csv   string
		cases int
		want  []string // substrings of the issues, in order
	}{
		{"clean", row("P1", lv[0], "10,5,5,20,10,10") + row("P2", lv[1], "0,0,0,5,5,0"), 2, nil},
		{"missing scan, extra row, 103", row("P1", lv[0], "103,5,5,20,10,10") + row("P9", lv[0], "10,5,5,20,10,10"), 0, []string{
			"labels.csv:2: PatID P1: error: L1_disext is 103, outside 0-100",
			"labels.csv:3: PatID P9: warning: no scan in",
			"warning: scan in folder " + filepath.Join(dir, "P2") + ` (PatientID "P2") has no row: not used`,
		}},
		{"level outside, steps of 5", row("P1", [5]float64{9000, lv[0][1], lv[0][2], lv[0][3], lv[0][4]}, "12.5,5,5,20,10,10") + row("P2", lv[1], "0,0,0,5,5,0"), 2, []string{
			"labels.csv:2: PatID P1: warning: not in steps of 5 as readers score: L1_disext 12.5 (used as given)",
			"labels.csv:2: PatID P1: warning: L1_pos 9000.0 mm is outside the scan",
		}},
		{"duplicate and no PatID", row("P1", lv[0], "10,5,5,20,10,10") + row("P2", lv[1], "0,0,0,5,5,0") + row("P1", lv[0], "10,5,5,20,10,10") + row("", lv[1], "0,0,0,5,5,0"), 2, []string{
			"labels.csv:4: PatID P1: error: PatID given again (first on line 2): not used",
			"labels.csv:5: error: the row has no PatID: not used",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			csvPath := filepath.Join(t.TempDir(), "labels.csv")
			if err := os.WriteFile(csvPath, []byte(header+tc.csv), 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
			d, err := CheckRealData(context.Background(), dir, csvPath)
			if err != nil {
				t.Fatalf("CheckRealData: got error %v, want nil", err)
			}
			var got []string
			for _, i := range d.Issues {
				got = append(got, i.String())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d issues %q, want %d like %q", len(got), got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("issue %d: got %q, want it to contain %q", i, got[i], w)
				}
			}
			if len(d.Cases) != tc.cases {
				t.Errorf("got %d cases, want %d", len(d.Cases), tc.cases)
			}
			_, err = LoadRealCases(context.Background(), dir, csvPath, io.Discard)
			if wantErr := len(d.Errors()) > 0; (err != nil) != wantErr {
				t.Errorf("LoadRealCases: got error %v, want an error: %v", err, wantErr)
			}
		})
	}
}
