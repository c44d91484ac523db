package cascade

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"sscscore/model/buildinfo"
	"sscscore/model/phantom"
	"sscscore/model/volume"
)

// Test tolerances that the shipped weights meet (see MODEL_CARD.md for the
// measured errors).
const (
	demoLevelTolMM = 8.0 // demo levels vs truth
)

var (
	demoOnce sync.Once
	demoVol  *volume.Volume
	demoErr  error
)

// smallDemo renders the demo phantom (the same patient as
// phantom.DemoFiles) on a 128 x 128 matrix (about 3 mm pixels), which
// keeps the test to seconds: the levels network reads a 4 mm grid anyway.
func smallDemo(t *testing.T) *volume.Volume {
	t.Helper()
	demoOnce.Do(func() {
		d := phantom.Demo()
		p := phantom.New(d.Seed, phantom.Options{Disease: d.Opt.Disease, Severity: d.Opt.Severity,
			SliceSpacing: d.Opt.SliceSpacing, Contrast: d.Opt.Contrast, Matrix: 128})
		demoVol, _, demoErr = p.Render(context.Background(), p.Geometry())
	})
	if demoErr != nil {
		t.Fatalf("got error %v, want nil", demoErr)
	}
	return demoVol
}

func defaultCascade(t testing.TB) *Cascade {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("default cascade: got error %v, want nil", err)
	}
	return c
}

func TestDefaultModelInfo(t *testing.T) {
	c := defaultCascade(t)
	i := c.Info()
	if i.Levels.Spec != LevelsSpecName || i.Scores.Spec != ScoresSpecName {
		t.Errorf("specs: got %q %q, want %q %q", i.Levels.Spec, i.Scores.Spec, LevelsSpecName, ScoresSpecName)
	}
	if len(i.Levels.SHA256) != 64 || len(i.Scores.SHA256) != 64 || i.Training != "synthetic" {
		t.Errorf("provenance: got %+v, want two 64-digit SHA-256 and training \"synthetic\"", i)
	}
	// Browser budgets: levels <= 5 GFLOP for a 512 mm scan, scores <= 1.5
	// GFLOP per slice, weights of both <= 8 MB.
	if i.Scores.GFLOP > 1.5 {
		t.Errorf("score network %.2f GFLOP per slice, want <= 1.5", i.Scores.GFLOP)
	}
	if g := i.Levels.GFLOP * 128 / 96; g > 5 {
		t.Errorf("levels network %.2f GFLOP for a 512 mm scan, want <= 5", g)
	}
	if b := 2 * (i.Levels.Params + i.Scores.Params); b > 8<<20 {
		t.Errorf("weights %d bytes, want <= %v", b, 8<<20)
	}
}

func TestScoreDemo(t *testing.T) {
	if runtime.GOOS == "js" {
		t.Skip("the demo scan takes too long under js/wasm; TestScoreSmall runs there")
	}
	v := smallDemo(t)
	c := defaultCascade(t)
	var stages []Stage
	res, err := c.Score(context.Background(), v, Options{SeriesUID: "demo", Progress: func(stage Stage, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
	}})
	if err != nil {
		t.Fatalf("c.Score: got error %v, want nil", err)
	}
	if want := []Stage{StageRead, StageLevels, StageScores}; !slices.Equal(stages, want) {
		t.Errorf("progress stages: got %v, want %v", stages, want)
	}
	truth := phantom.Demo().Levels()
	tol := demoLevelTolMM
	for i, l := range res.Levels {
		if l.Status == StatusOutside || l.ZMM == nil {
			t.Errorf("%s: got %s (%s), want a level inside the scan", l.Name, l.Status, l.Message)
			continue
		}
		if d := math.Abs(l.EstimateZMM - truth[i]); d > tol {
			t.Errorf("%s at z %.1f, truth %.1f (error %.1f mm), want <= %v", l.Name, l.EstimateZMM, truth[i], d, tol)
		}
		if l.Status == StatusScored {
			if *l.TOT < *l.GG-1e-9 || *l.TOT < *l.RET-1e-9 || *l.TOT > 100 || *l.GG < 0 {
				t.Errorf("%s: got TOT %.1f GG %.1f RET %.1f, want max(GG,RET) <= TOT <= 100, GG >= 0", l.Name, *l.TOT, *l.GG, *l.RET)
			}
		}
	}
	if res.Mean.Levels == 0 || res.Mean.TOT == nil {
		t.Fatalf("mean: got %+v, want levels > 0 and a TOT", res.Mean)
	}
	// The demo has moderate disease: its mean extent is far from 0.
	if *res.Mean.TOT < 5 {
		t.Errorf("demo mean TOT %.1f, want >= 5", *res.Mean.TOT)
	}

	t.Run("rescore", func(t *testing.T) {
		for i, l := range res.Levels {
			if l.Status != StatusScored {
				continue
			}
			lr, err := c.Rescore(context.Background(), v, i, *l.Slice)
			if err != nil {
				t.Fatalf("c.Rescore: got error %v, want nil", err)
			}
			if math.Abs(*lr.TOT-*l.TOT) > 1e-9 || math.Abs(*lr.GG-*l.GG) > 1e-9 || math.Abs(*lr.RET-*l.RET) > 1e-9 {
				t.Errorf("%s: Rescore: got %.3f/%.3f/%.3f, want Score's %.3f/%.3f/%.3f", l.Name, *lr.TOT, *lr.GG, *lr.RET, *l.TOT, *l.GG, *l.RET)
			}
			if !lr.ReaderPlaced || *lr.Slice != *l.Slice {
				t.Errorf("%s: Rescore: got %+v, want reader-placed at slice %d", l.Name, lr, *l.Slice)
			}
		}
		if _, err := c.Rescore(context.Background(), v, 5, 0); err == nil {
			t.Errorf("level 5 accepted: got nil error, want an error")
		}
		if _, err := c.Rescore(context.Background(), v, 0, v.Geom.Nz); err == nil {
			t.Errorf("slice out of range accepted: got nil error, want an error")
		}
	})

	t.Run("outside", func(t *testing.T) {
		// Keep the scan from halfway between L2 and L3 down: L1 and L2 lie
		// above it.
		g := v.Geometry()
		cut := (truth[1] + truth[2]) / 2
		k0, _ := g.NearestSlice(cut)
		src := &cropped{v: v, k0: k0, k1: g.Nz}
		res, err := c.Score(context.Background(), src, Options{})
		if err != nil {
			t.Fatalf("c.Score: got error %v, want nil", err)
		}
		for i, l := range res.Levels {
			above := truth[i] > src.g().SliceZ[0]+g.Spacing[2]/2+demoLevelTolMM
			switch {
			case above && (l.Status != StatusOutside || l.Outside != "above"):
				t.Errorf("%s (truth %.0f, scan top %.0f): got %s %q at %.1f, want outside above", l.Name, truth[i], src.g().SliceZ[0], l.Status, l.Outside, l.EstimateZMM)
			case !above && truth[i] < src.g().SliceZ[0]-demoLevelTolMM && l.Status == StatusOutside:
				t.Errorf("%s (truth %.0f): got %s, want inside the scan", l.Name, truth[i], l.Status)
			}
			if l.Status == StatusOutside && (l.ZMM != nil || l.TOT != nil) {
				t.Errorf("%s outside: got z %v, TOT %v, want neither", l.Name, l.ZMM, l.TOT)
			}
		}
		if len(res.Warnings) == 0 {
			t.Errorf("no warning about the missing levels: got %v, want != 0", len(res.Warnings))
		}
	})
}

// cropped is slices [k0, k1) of a volume.
type cropped struct {
	v      *volume.Volume
	k0, k1 int
	geom   *volume.Geometry
}

func (c *cropped) g() *volume.Geometry {
	if c.geom == nil {
		g := c.v.Geom
		g.Nz = c.k1 - c.k0
		g.SliceZ = append([]float64(nil), g.SliceZ[c.k0:c.k1]...)
		g.Origin[2] = g.SliceZ[0]
		c.geom = &g
	}
	return c.geom
}

func (c *cropped) Geometry() *volume.Geometry { return c.g() }
func (c *cropped) Slice(ctx context.Context, k int, dst []int16) error {
	return c.v.Slice(ctx, k+c.k0, dst)
}

// TestScoreSmall runs the whole cascade on a short synthetic scan (also
// under js/wasm).
func TestScoreSmall(t *testing.T) {
	m := 96
	if runtime.GOOS == "js" {
		m = 64 // one thread: keep the phantom small
	}
	p := phantom.New(77, phantom.Options{Matrix: m, SliceSpacing: phantom.Range{Min: 8, Max: 8}})
	v, _, err := p.Render(context.Background(), p.Geometry())
	if err != nil {
		t.Fatalf("p.Render: got error %v, want nil", err)
	}
	res, err := defaultCascade(t).Score(context.Background(), v, Options{SeriesUID: "1.2.3"})
	if err != nil {
		t.Fatalf("defaultCascade(t).Score: got error %v, want nil", err)
	}
	if len(res.Levels) != NumLevels || res.SeriesUID != "1.2.3" || res.Note != SyntheticNote {
		t.Fatalf("result: got %+v, want %d levels, series 1.2.3, the synthetic note", res, NumLevels)
	}
	// The result names the build that made it, in its JSON too.
	if got, want := res.Model.Build, buildinfo.Get(); got != want || got.Version == "" || got.Commit == "" {
		t.Errorf("result's build = %+v, want %+v", got, want)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	var js struct {
		Model struct {
			Build map[string]string `json:"build"`
		} `json:"model"`
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	if got, want := js.Model.Build["version"]+" "+js.Model.Build["commit"], buildinfo.Version()+" "+buildinfo.Commit(); got != want {
		t.Errorf("JSON model.build = %q, want %q", got, want)
	}
}

func TestScoreCancelled(t *testing.T) {
	v := newRamp(40, 5, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := defaultCascade(t).Score(ctx, v, Options{}); err == nil {
		t.Fatalf("cancelled context: no error: got nil error, want an error")
	}
}

func sampleResult() *Result {
	r := &Result{SeriesUID: "1.2.840.1", Warnings: []string{}, Note: SyntheticNote,
		Model: ModelInfo{Levels: NetInfo{Spec: LevelsSpecName}, Scores: NetInfo{Spec: ScoresSpecName}, Training: "synthetic"}}
	for i, n := range LevelNames {
		if i == 0 {
			r.Levels = append(r.Levels, LevelResult{Name: n, Status: StatusOutside, Outside: "above", EstimateZMM: 330})
			continue
		}
		z := 300 - 30*float64(i)
		r.Levels = append(r.Levels, LevelResult{Name: n, ZMM: fptr(z), Slice: iptr(10 * i), Confidence: 0.9,
			TOT: fptr(12.34), GG: fptr(8), RET: fptr(4.5), Rounded: &Rounded{TOT: 10, GG: 10, RET: 5}, Status: StatusScored})
	}
	r.Mean = MeanOf(r.Levels)
	return r
}

func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(sampleResult())
	if err != nil {
		t.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	for _, k := range []string{"levels", "mean", "series_uid", "model", "warnings", "note"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON: got no %q, want it", k)
		}
	}
	levels := m["levels"].([]any)
	if len(levels) != 5 {
		t.Fatalf("%d levels, want 5", len(levels))
	}
	l0 := levels[0].(map[string]any)
	for _, k := range []string{"name", "z_mm", "slice", "confidence", "tot", "gg", "ret"} {
		if _, ok := l0[k]; !ok {
			t.Errorf("level JSON: got no %q, want it", k)
		}
	}
	if l0["z_mm"] != nil || l0["tot"] != nil || l0["status"] != "outside" || l0["outside"] != "above" {
		t.Errorf("outside level: got %v, want z_mm and tot null, status outside, outside above", l0)
	}
	l1 := levels[1].(map[string]any)
	if l1["z_mm"].(float64) != 270 || l1["tot"].(float64) != 12.34 || l1["slice"].(float64) != 10 {
		t.Errorf("scored level: got %v, want z_mm 270, tot 12.34, slice 10", l1)
	}
	mean := m["mean"].(map[string]any)
	for _, k := range []string{"tot", "gg", "ret"} {
		if _, ok := mean[k].(float64); !ok {
			t.Errorf("mean %q = %v, want a number", k, mean[k])
		}
	}
	// Round trip.
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || *back.Levels[1].TOT != 12.34 || back.Levels[0].ZMM != nil {
		t.Errorf("round trip: got %v, %+v; want nil, L1 without z, L2 TOT 12.34", err, back.Levels[:2])
	}
}

func TestResultCSV(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResult().WriteCSV(&b, "P001"); err != nil {
		t.Fatalf("sampleResult().WriteCSV: got error %v, want nil", err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(&b).ReadAll: got error %v, want nil", err)
	}
	if len(rows) != 2 || len(rows[0]) != 21 || len(rows[1]) != 21 {
		t.Fatalf("CSV shape: got %d rows of %d, want 2 rows of 21", len(rows), len(rows[0]))
	}
	want := "PatID,L1_pos,L2_pos,L3_pos,L4_pos,L5_pos,L1_disext,L1_gg,L1_retp,L2_disext"
	if got := strings.Join(rows[0][:10], ","); got != want {
		t.Errorf("header %s, want %v", got, want)
	}
	if rows[1][0] != "P001" || rows[1][1] != "" || rows[1][2] != "270.0" || rows[1][9] != "12.3" {
		t.Errorf("row: got %v, want P001, \"\", 270.0, ..., 12.3 (column 9)", rows[1])
	}
	// The reader reads it back.
	labels, err := ReadLabelsCSV(strings.NewReader(strings.Join(rows[0], ",") + "\n" + strings.Join(rows[1], ",") + "\n"))
	if err != nil || len(labels) != 1 {
		t.Fatalf("ReadLabelsCSV: got %v, %d rows; want nil, 1", err, len(labels))
	}
	l := labels[0]
	if !math.IsNaN(l.Pos[0]) || l.Pos[1] != 270 || l.TOT[1] != 12.3 || l.RET[4] != 4.5 {
		t.Errorf("ReadLabelsCSV: got %+v, want L1 NaN, L2 at 270, L2 TOT 12.3, L5 RET 4.5", l)
	}
}

func TestReadLabelsCSVErrors(t *testing.T) {
	if _, err := ReadLabelsCSV(strings.NewReader("a,b\n1,2\n")); err == nil {
		t.Errorf("CSV without PatID accepted: got nil error, want an error")
	}
	if _, err := ReadLabelsCSV(strings.NewReader("PatID,L1_pos\nP1,abc\n")); err == nil {
		t.Errorf("bad number accepted: got nil error, want an error")
	}
}
