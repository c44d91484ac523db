package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/heatmap"
	"sscscore/model/ingest"
	"sscscore/model/shareddata"
	"sscscore/model/sr"
	"sscscore/wasm/internal/protocol"
)

func defaultCascade(t testing.TB) *cascade.Cascade {
	t.Helper()
	c, err := cascade.Default()
	if err != nil {
		t.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	return c
}

// direct scores the chosen series of files with the cascade alone, as
// `sscscore score` does.
func direct(t *testing.T, c *cascade.Cascade, files []ingest.File) (*cascade.Result, *ingest.LazyVolume) {
	t.Helper()
	inv, err := ingest.Scan(context.Background(), files, ingest.Options{})
	if err != nil {
		t.Fatalf("ingest.Scan: got error %v, want nil", err)
	}
	lv, err := inv.Open("")
	if err != nil {
		t.Fatalf("inv.Open: got error %v, want nil", err)
	}
	res, err := c.Score(context.Background(), lv, cascade.Options{SeriesUID: lv.Series().UID})
	if err != nil {
		t.Fatalf("c.Score: got error %v, want nil", err)
	}
	return res, lv
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	return string(b)
}

func eq(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

// TestScoringA0002 runs the engine with the shipped cascade on A0002 and
// checks it against the cascade run directly: the same result (the engine
// reads the slices ahead and builds the reformat from the same pass, which
// must not change a bit), the events in order, the level slices with lung
// masks and heat maps, a moved level rescored as Rescore does, and the
// exports. The engine is driven in the parent test, in the order the page
// would; each subtest checks one of its answers.
func TestScoringA0002(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	c := defaultCascade(t)
	want, lv := direct(t, c, diskFiles(t, dir))
	e := New(Options{Cascade: c})
	t.Run("ready", func(t *testing.T) {
		r := e.Ready()
		if !r.Scoring || r.Model == nil || r.Model.Statement != cascade.SyntheticNote || len(r.HeatmapMethods) == 0 {
			t.Errorf("Ready: got %+v, want scoring, a model with the synthetic statement, heat-map methods", r)
		}
	})

	var rec recorder
	e.Open(context.Background(), 5, diskFiles(t, dir), rec.send)
	rec.checkEnd(t, 5, false)
	if m := rec.last(protocol.Error); m != nil {
		t.Fatalf("Open: got error %q, want none", m.Error)
	}
	if !t.Run("result", func(t *testing.T) {
		if got, w := jsonOf(t, e.result.res), jsonOf(t, want); got != w {
			t.Fatalf("engine result\n%s\nwant the cascade's\n%s", got, w)
		}
	}) {
		t.FailNow()
	}
	t.Run("events", func(t *testing.T) { checkScoringEvents(t, &rec) })
	info := rec.last(protocol.Result).Result
	t.Run("result message", func(t *testing.T) {
		if len(info.Levels) != 5 || info.Note != cascade.SyntheticNote {
			t.Fatalf("result: got %+v, want 5 levels and the synthetic note", info)
		}
		for i, l := range info.Levels {
			w := want.Levels[i]
			if l.Level != i+1 || l.Status != w.Status || !eq(l.Z, w.ZMM) || (l.Slice == nil) != (w.Slice == nil) ||
				(l.Scores == nil) != (w.TOT == nil) || l.EstimateZ != w.EstimateZMM {
				t.Errorf("L%d: got %+v, want the cascade's %+v", i+1, l, w)
			}
			if l.Scores != nil && (l.Scores.TOT != *w.TOT || l.Rounded.GG != float64(w.Rounded.GG)) {
				t.Errorf("L%d: got scores %+v, rounded %+v; want TOT %v, rounded GG %v", i+1, l.Scores, l.Rounded, *w.TOT, w.Rounded.GG)
			}
			if l.Slice != nil && math.Abs(lv.Geometry().ZOf(int(math.Round(l.EstimatePos)))-l.EstimateZ) > lv.Geometry().Spacing[2] {
				t.Errorf("L%d: got estimate at slice %.2f, z %.1f; want the slice's z within a spacing", i+1, l.EstimatePos, l.EstimateZ)
			}
		}
		if (info.Mean.Scores == nil) != (want.Mean.TOT == nil) || info.Mean.Levels != want.Mean.Levels {
			t.Errorf("mean: got %+v, want %d levels as the cascade's", info.Mean, want.Mean.Levels)
		}
	})
	t.Run("level slices", func(t *testing.T) { checkLevelSlices(t, &rec, info) })

	// Move a level two slices down: the cascade's Rescore there, the mean
	// follows; moving it back restores the cascade's own level.
	lvl := -1
	for i, l := range want.Levels {
		if l.Status == cascade.StatusScored && *l.Slice+2 < lv.Geometry().Nz {
			lvl = i
			break
		}
	}
	if lvl < 0 {
		t.Fatalf("levels %+v: got none scored with two slices below it, want one to move", want.Levels)
	}
	k := *want.Levels[lvl].Slice + 2
	rs, err := c.Rescore(context.Background(), lv, lvl, k)
	if err != nil {
		t.Fatalf("Rescore: got error %v, want nil", err)
	}
	var mv recorder
	e.Move(context.Background(), 5, lvl+1, k, mv.send)
	t.Run("move", func(t *testing.T) {
		got := mv.last(protocol.Result).Result
		gl := got.Levels[lvl]
		if gl.Slice == nil || *gl.Slice != k || !gl.Moved || gl.Scores == nil || gl.Scores.TOT != *rs.TOT || gl.Scores.GG != *rs.GG || gl.Scores.RET != *rs.RET {
			t.Errorf("moved level: got %+v, want slice %d, moved, Rescore's %+v", gl, k, rs)
		}
		if gl.EstimateZ != want.Levels[lvl].EstimateZMM {
			t.Errorf("estimate after the move: got %v, want %v (unchanged)", gl.EstimateZ, want.Levels[lvl].EstimateZMM)
		}
		lvls := append([]cascade.LevelResult(nil), want.Levels...)
		lvls[lvl] = rs
		if m := cascade.MeanOf(lvls); math.Abs(*m.TOT-got.Mean.Scores.TOT) > 1e-9 {
			t.Errorf("mean TOT after the move: got %v, want %v", got.Mean.Scores.TOT, *m.TOT)
		}
		if im := mv.last(protocol.Image); im == nil || im.Image.Level != lvl+1 || im.Image.Slice != k {
			t.Errorf("axial image after the move: got %+v, want one of L%d at slice %d", im, lvl+1, k)
		}
	})

	// Exports: the CSV is the cascade's, with the series UID or, on
	// request, the patient ID; the JSON wraps the result.
	var ex recorder
	e.Export(5, "csv", false, ex.send)
	e.Export(5, "csv", true, ex.send)
	e.Export(5, "json", true, ex.send)
	e.Export(5, "pdf", false, ex.send)
	t.Run("exports", func(t *testing.T) {
		exp := ex.kind(protocol.Exported)
		if len(exp) != 3 || len(ex.kind(protocol.Error)) != 1 {
			t.Fatalf("exports: got %+v, want 3 exported and 1 error (pdf)", ex.events)
		}
		for i, id := range []string{lv.Series().UID, strings.TrimSpace(lv.Series().PatientID)} {
			var w bytes.Buffer
			e.result.res.WriteCSV(&w, id)
			if exp[i].m.Export.Text != w.String() {
				t.Errorf("CSV %d:\n%s\nwant\n%s", i, exp[i].m.Export.Text, w.String())
			}
		}
		var doc struct {
			Result  cascade.Result `json:"result"`
			Moved   []int          `json:"moved"`
			Patient *struct{ ID string }
		}
		if err := json.Unmarshal([]byte(exp[2].m.Export.Text), &doc); err != nil {
			t.Fatalf("JSON export: got error %v, want nil", err)
		}
		// The source, as the CLI makes it: the moved level's slice, the
		// patient (asked for).
		if got, w := jsonOf(t, doc.Result.Source), jsonOf(t, sr.SourceOf(lv.Series(), e.result.res, true)); got != w {
			t.Errorf("JSON export's source:\n%s\nwant\n%s", got, w)
		}
		doc.Result.Source = nil
		if jsonOf(t, doc.Result) != jsonOf(t, e.result.res) || len(doc.Moved) != 1 || doc.Moved[0] != lvl+1 || doc.Patient == nil {
			t.Errorf("JSON export:\n%s\nwant the engine's result, moved [%d] and the patient", exp[2].m.Export.Text, lvl+1)
		}
	})

	// Back to the cascade's slice: its own level again.
	var back recorder
	e.Move(context.Background(), 5, lvl+1, *want.Levels[lvl].Slice, back.send)
	t.Run("move back", func(t *testing.T) {
		if jsonOf(t, e.result.res) != jsonOf(t, want) {
			t.Errorf("after moving back:\n%s\nwant\n%s", jsonOf(t, e.result.res), jsonOf(t, want))
		}
	})
	// Moves of another job or out of range are refused.
	var bad recorder
	e.Move(context.Background(), 4, 2, 3, bad.send)
	e.Move(context.Background(), 5, 6, 3, bad.send)
	e.Move(context.Background(), 5, 1, 30, bad.send)
	t.Run("bad moves", func(t *testing.T) {
		if n := len(bad.kind(protocol.Error)); n != 3 {
			t.Errorf("bad moves: got %d errors (%+v), want 3", n, bad.events)
		}
	})
	// A slow heat map: the paper's occlusion map of a scored level, with
	// progress, three maps, and done{task}.
	scoredLevel := lvl + 1
	t.Run("occlusion", func(t *testing.T) {
		var hm recorder
		e.Heatmap(context.Background(), 5, scoredLevel, string(heatmap.MethodOcclusion), hm.send)
		if m := hm.last(protocol.Error); m != nil {
			t.Fatalf("occlusion: got error %q, want none", m.Error)
		}
		if d := hm.last(protocol.Done); d == nil || d.Task != protocol.Heatmap || d.Cancelled || hm.events[len(hm.events)-1].m != d {
			t.Errorf("occlusion request: got last done %+v, want done{heatmap} last, not cancelled", d)
		}
		occ := 0
		for _, ev := range hm.events {
			if h := ev.m.Heatmap; h != nil && h.Method == string(heatmap.MethodOcclusion) && h.Level == scoredLevel {
				occ++
			}
		}
		if p := hm.last(protocol.Progress); occ != 3 || p == nil || p.Progress.Stage != protocol.StageHeatmap || p.Progress.Done != p.Progress.Total || p.Progress.Total < 50 {
			t.Errorf("occlusion: got %d maps, last progress %+v; want 3 maps, heat-map progress complete over >= 50 windows", occ, p)
		}
	})
	// Cancelled at once, and a method this build cannot make.
	t.Run("occlusion cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var hc recorder
		e.Heatmap(ctx, 5, scoredLevel, string(heatmap.MethodOcclusion), hc.send)
		if d := hc.last(protocol.Done); d == nil || !d.Cancelled || hc.last(protocol.Error) != nil {
			t.Errorf("cancelled occlusion: got %+v, want done{cancelled} and no error", hc.events)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		var hx recorder
		e.Heatmap(context.Background(), 5, scoredLevel, "no-such-method", hx.send)
		if hx.last(protocol.Error) == nil || hx.last(protocol.Done) == nil || hx.last(protocol.Done).Task != protocol.Heatmap {
			t.Errorf("heat map request: got %+v, want an error and done{heatmap}", hx.events)
		}
	})
}

// checkScoringEvents checks the events of a scoring job: the stages in
// order, the reformat before the result, the result before the level
// slices, and a time for every stage.
func checkScoringEvents(t *testing.T, rec *recorder) {
	t.Helper()
	var stages []protocol.Stage
	var kinds []string
	for _, ev := range rec.events {
		if p := ev.m.Progress; p != nil && (len(stages) == 0 || stages[len(stages)-1] != p.Stage) {
			stages = append(stages, p.Stage)
		}
		if k := ev.m.Kind; k != protocol.Progress && (len(kinds) == 0 || kinds[len(kinds)-1] != k) {
			kinds = append(kinds, k)
		}
	}
	if want := []protocol.Stage{protocol.StageRead, protocol.StageDecode, protocol.StageLevels, protocol.StageScore, protocol.StageMaps}; !slices.Equal(stages, want) {
		t.Errorf("stages: got %v, want %v", stages, want)
	}
	if got := strings.Join(kinds, ","); !strings.HasPrefix(got, "inventory,image,result,image,heatmap") && !strings.HasPrefix(got, "inventory,image,inventory,image,result,image,heatmap") || !strings.HasSuffix(got, ",done") {
		t.Errorf("events: got %s, want inventory,image,[inventory,image,]result,image,heatmap...,done", got)
	}
	tm := rec.last(protocol.Done).Timings
	for _, st := range []protocol.Stage{protocol.StageRead, protocol.StageDecode, protocol.StageLevels, protocol.StageScore, protocol.StageMaps} {
		if tm[st] <= 0 {
			t.Errorf("timings: got %v, want a %s time > 0", tm, st)
		}
	}
}

// checkLevelSlices checks one axial image per level with a slice, with its
// lung, and three heat maps per scored level.
func checkLevelSlices(t *testing.T, rec *recorder, info *protocol.ResultInfo) {
	t.Helper()
	axials, maps := map[int]event{}, map[int]int{}
	for _, ev := range rec.events {
		if im := ev.m.Image; im != nil && im.Role == protocol.RoleAxial {
			axials[im.Level] = ev
			if len(ev.pixels()) != 512*512 {
				t.Errorf("L%d: got %d pixels, want 512²", im.Level, len(ev.pixels()))
			}
		}
		if h := ev.m.Heatmap; h != nil {
			maps[h.Level]++
			if len(ev.floats()) != h.Width*h.Height || h.Width != 256 || h.StepX != 2 || h.X0 != 0.5 ||
				(h.Method != string(heatmap.MethodGradient) && h.Method != string(heatmap.MethodDense)) || h.Max < 1 || !h.Signed {
				t.Errorf("heat map: got %+v with %d values, want 256 wide, step 2 from 0.5, gradient or dense, signed, max >= 1", h, len(ev.floats()))
			}
			for _, v := range ev.floats() {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("heat map value: got %v, want a finite number", v)
				}
			}
		}
	}
	for i, l := range info.Levels {
		ev, ok := axials[i+1]
		if (l.Slice != nil) != ok {
			t.Errorf("L%d: got axial image %v for slice %v, want one exactly when the level has a slice", i+1, ok, l.Slice)
			continue
		}
		if !ok {
			continue
		}
		if ev.m.Image.Slice != *l.Slice {
			t.Errorf("L%d: got the image of slice %d, want the level's slice %d", i+1, ev.m.Image.Slice, *l.Slice)
		}
		if l.Status == protocol.StatusScored {
			if maps[i+1] != 3*len(fastMethods) {
				t.Errorf("L%d: got %d heat maps, want %d", i+1, maps[i+1], 3*len(fastMethods))
			}
			lung := 0
			for j := 1; j < len(ev.m.Image.LungRuns); j += 2 {
				lung += int(ev.m.Image.LungRuns[j])
			}
			if lung < 5000 {
				t.Errorf("L%d: got %d lung pixels, want >= 5000", i+1, lung)
			}
		}
	}
}

// TestCancelScoring cancels while the cascade runs: the job ends cancelled,
// with no result.
func TestCancelScoring(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	for _, stage := range []protocol.Stage{protocol.StageDecode, protocol.StageLevels, protocol.StageScore, protocol.StageMaps} {
		ctx, cancel := context.WithCancel(context.Background())
		var rec recorder
		// Cancel as a cancel message delivered at the first yield in the
		// stage would.
		e := New(Options{Cascade: defaultCascade(t), YieldEvery: 1, Yield: func() {
			for i := len(rec.events) - 1; i >= 0; i-- {
				if p := rec.events[i].m.Progress; p != nil {
					if p.Stage == stage {
						cancel()
					}
					return
				}
			}
		}})
		e.Open(ctx, 4, diskFiles(t, dir), rec.send)
		rec.checkEnd(t, 4, true)
		if rec.last(protocol.Error) != nil {
			t.Errorf("cancel in %s: got error %q, want none", stage, rec.last(protocol.Error).Error)
		}
		if stage != protocol.StageMaps && rec.last(protocol.Result) != nil {
			t.Errorf("cancel in %s: got a result, want none", stage)
		}
		cancel()
	}
}

func TestMaskRuns(t *testing.T) {
	m := []bool{false, true, true, false, true, false, false, true}
	got := maskRuns(m)
	want := []int32{1, 2, 4, 1, 7, 1}
	if len(got) != len(want) {
		t.Fatalf("runs %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("runs %v, want %v", got, want)
		}
	}
	if maskRuns(make([]bool, 5)) != nil {
		t.Errorf("maskRuns(empty mask): got %v, want nil", maskRuns(make([]bool, 5)))
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %v", n, got, want)
		}
	}
}
