package protocol

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func encode(t *testing.T, m *Msg) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoundTrip(t *testing.T) {
	msgs := []*Msg{
		{Kind: Open, Job: 3, Paths: []string{"scan/1.dcm", "scan/2.dcm"}},
		{Kind: Move, Job: 3, Level: 2, Slice: 17},
		{Kind: Export, Job: 3, Format: "csv", Patient: true},
		{Kind: Progress, Job: 3, Progress: &ProgressInfo{Stage: StageRead, Done: 10, Total: 30, Unit: "files", ElapsedMS: 120.5}},
		{Kind: Inventory, Job: 4, Inventory: &InventoryInfo{
			Series: []SeriesInfo{{UID: "1.2.3", Description: "LUNG 1.0 B40f", Slices: 30, Thickness: 8, Usable: true}},
			Chosen: "1.2.3", Why: "the only usable series", Files: 40, Used: 30,
			Groups: []FileGroup{{Status: "rejected", Code: "unsupported-syntax", Text: "2 files are JPEG 2000 compressed", Count: 2, Paths: []string{"a", "b"}, Reasons: []string{"x", "y"}}},
		}},
		{Kind: Image, Job: 4, Image: &ImageInfo{Role: RoleCoronal, Width: 512, Height: 240, PixelW: 0.7, PixelH: 0.7, RowSlice: []int{0, 0, 1}}},
		{Kind: Done, Job: 4, Cancelled: true},
		{Kind: Done, Job: 4, Task: Heatmap, Cancelled: true},
		{Kind: Heatmap, Job: 4, Level: 3, Method: "occlusion"},
		{Kind: Heatmap, Job: 4, Heatmap: &HeatmapInfo{Level: 3, Slice: 9, Method: "extent", Score: ScoreTOT, Width: 32, Height: 32, X0: 1.5, StepX: 12, StepY: 12, Unit: "%", Max: 100}},
		{Kind: Result, Job: 4, Result: &ResultInfo{Levels: []LevelResult{{Level: 1, Status: StatusOutside, Outside: "above", EstimatePos: -1.5}},
			Mean: MeanScores{Levels: 0}, Warnings: []string{"L1 not scored"}}},
		{Kind: Error, Job: 5, Error: "no usable series"},
	}
	for _, m := range msgs {
		var got *Msg
		if err := json.Unmarshal([]byte(encode(t, m)), &got); err != nil {
			t.Fatalf("%s: %v", m.Kind, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip gave %+v, want %+v", m.Kind, got, m)
		}
	}
}

func TestOmitsEmptyFields(t *testing.T) {
	s := encode(t, &Msg{Kind: Cancel, Job: 2})
	if s != `{"kind":"cancel","job":2}` {
		t.Errorf("encoded %s", s)
	}
	if strings.Contains(encode(t, &Msg{Kind: Ready, Ready: &ReadyInfo{Version: "v"}}), "model") {
		t.Error("nil model encoded")
	}
}
