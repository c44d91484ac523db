//go:build js && wasm

package jsconv

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"sscscore/wasm/internal/protocol"
)

// The page (jsconv) and the worker (encoding/json) must agree on every
// message: each side must read what the other writes.
func TestAgreesWithEncodingJSON(t *testing.T) {
	five, z := 5, 268.0
	msgs := []*protocol.Msg{
		{Kind: protocol.Open, Job: 3, Paths: []string{"scan/1.dcm", "ü/ß.dcm"}},
		{Kind: protocol.Move, Job: 3, Level: 2, Slice: 17},
		{Kind: protocol.Export, Job: 3, Format: "csv", Patient: true},
		{Kind: protocol.Cancel, Job: 9},
		{Kind: protocol.Ready, Ready: &protocol.ReadyInfo{Version: "v1", NoScoring: "no cascade",
			Model: &protocol.ModelCard{Name: "m", Fields: [][2]string{{"a", "b"}}}, Demo: true}},
		{Kind: protocol.Progress, Job: 3, Progress: &protocol.ProgressInfo{Stage: protocol.StageRead, Done: 10, Total: 30, Unit: "files", ElapsedMS: 120.5}},
		{Kind: protocol.Inventory, Job: 4, Inventory: &protocol.InventoryInfo{
			Series: []protocol.SeriesInfo{{UID: "1.2.3", Description: "LUNG", Slices: 30, Thickness: 8, Spacing: 0.1 + 0.2, Usable: true, Issues: []string{"gap"}}},
			Chosen: "1.2.3", Why: "the only usable series", Files: 40, Used: 30,
			Groups:  []protocol.FileGroup{{Status: "rejected", Code: "unsupported-syntax", Text: "2 files", Count: 2, Paths: []string{"a", "b"}, Reasons: []string{"x", "y"}}},
			Patient: &protocol.Patient{Name: "DOE^JANE", ID: "123"},
		}},
		{Kind: protocol.Image, Job: 4, Image: &protocol.ImageInfo{Role: protocol.RoleAxial, Width: 512, Height: 512, PixelW: 0.6465, PixelH: 0.6465, Slice: 3, Z: -12.5, Level: 2,
			LungRuns: []int32{1, 513, 70000, 4}, RowSlice: []int{0, 1}, SliceZ: []float64{312, 304}}},
		{Kind: protocol.Result, Job: 4, Result: &protocol.ResultInfo{Levels: []protocol.LevelResult{
			{Level: 1, Status: protocol.StatusScored, Slice: &five, Z: &z, EstimateZ: 268.4, EstimatePos: 5.4, Confidence: 0.9,
				Scores: &protocol.Scores{TOT: 12.5, GG: 7.25, RET: 5}, Rounded: &protocol.Scores{TOT: 10, GG: 5, RET: 5}, Slices: []int{4, 5, 6}, Moved: true},
			{Level: 2, Status: protocol.StatusOutside, Outside: "above", Message: "L2 lies above", EstimateZ: 330, EstimatePos: -2.5},
		}, Mean: protocol.MeanScores{Scores: &protocol.Scores{TOT: 1e-9}, Levels: 1}, Note: "synthetic"}},
		{Kind: protocol.Heatmap, Job: 4, Heatmap: &protocol.HeatmapInfo{Level: 3, Slice: 7, Method: "extent", Score: protocol.ScoreGG,
			Width: 32, Height: 32, X0: 10.5, Y0: -3, StepX: 12.4, StepY: 12.4, Unit: "score points", Signed: true, Max: 2.5}},
		{Kind: protocol.Heatmap, Job: 4, Level: 2, Method: "occlusion"},
		{Kind: protocol.Done, Job: 4, Task: protocol.Heatmap},
		{Kind: protocol.Exported, Job: 4, Export: &protocol.ExportInfo{Name: "a.csv", Type: "text/csv", Text: "a,b\n1,2\n"}},
		{Kind: protocol.Done, Job: 4, Cancelled: true, Timings: map[protocol.Stage]float64{protocol.StageRead: 12.5, protocol.StageTotal: 40}, Memory: 123456789},
	}
	for _, m := range msgs {
		// Page -> worker.
		var fromPage protocol.Msg
		if err := json.Unmarshal([]byte(Marshal(m)), &fromPage); err != nil {
			t.Fatalf("%s: encoding/json cannot read jsconv's %s: got error %v, want nil", m.Kind, Marshal(m), err)
		}
		if !reflect.DeepEqual(&fromPage, m) {
			t.Errorf("%s: page -> worker gave %+v, want %+v", m.Kind, fromPage, m)
		}
		// Worker -> page.
		b, _ := json.Marshal(m)
		var fromWorker protocol.Msg
		if err := Unmarshal(string(b), &fromWorker); err != nil {
			t.Fatalf("%s: got error %v, want nil", m.Kind, err)
		}
		if !reflect.DeepEqual(&fromWorker, m) {
			t.Errorf("%s: worker -> page gave %+v, want %+v", m.Kind, fromWorker, m)
		}
		if Marshal(m) != string(b) {
			t.Logf("%s: texts differ (fine if equivalent):\n jsconv %s\n json   %s", m.Kind, Marshal(m), b)
		}
	}
}

func TestErrors(t *testing.T) {
	var m protocol.Msg
	for _, bad := range []string{"{", `{"kind": 3}`, `{"job": "x"}`, `{"job": 1.5}`, `{"paths": "a"}`, `{"ready": []}`} {
		if err := Unmarshal(bad, &m); err == nil {
			t.Errorf("Unmarshal(%s): no error: got nil error, want an error", bad)
		}
	}
	if err := FromJS(ToJS(1), m); err == nil || !strings.Contains(err.Error(), "pointer") {
		t.Errorf("FromJS into a non-pointer: got error %v, want one about a pointer", err)
	}
	var x struct {
		M map[string]int
		A [2]string
		u int
	}
	if err := Unmarshal(`{"M":{"a":1,"b":2},"A":["p","q","r"],"u":5}`, &x); err != nil || x.M["b"] != 2 || x.A[1] != "q" || x.u != 0 {
		t.Errorf("map/array: got %+v, %v; want M[b] 2, A[1] q, u 0, nil", x, err)
	}
}
