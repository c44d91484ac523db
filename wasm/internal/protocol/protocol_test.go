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
		t.Fatalf("json.Marshal: got error %v, want nil", err)
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
		{Kind: PACSSearch, Job: 1, PACS: &PACS{URL: "http://pacs/dicom-web", User: "u", Password: "p"},
			Query: &StudyQuery{PatientID: "A0002", DateFrom: "20100101", DateTo: "20201231", Modality: "CT"}},
		{Kind: PACSSeries, Job: 2, PACS: &PACS{URL: "/dicomweb", Token: "t"}, Study: "1.2"},
		{Kind: PACSOpen, Job: 6, PACS: &PACS{URL: "http://pacs/dicom-web"}, Study: "1.2", Series: "1.2.3", Total: 30},
		{Kind: Store, Job: 3, PACS: &PACS{URL: "http://pacs/dicom-web"}},
		{Kind: Export, Job: 6, Format: FormatSR},
		{Kind: Progress, Job: 6, Progress: &ProgressInfo{Stage: StageDownload, Done: 3, Total: 30, Unit: "images", Bytes: 1 << 20}},
		{Kind: Found, Job: 1, Task: PACSSearch, Found: &FoundInfo{Limit: 100, Studies: []StudyInfo{{UID: "1.2", PatientID: "A0002",
			PatientName: "Doe^J", Date: "20100101", Modalities: []string{"CT"}, Series: 2, Instances: 60}}}},
		{Kind: Found, Job: 2, Task: PACSSeries, Found: &FoundInfo{Chosen: "1.2.3", Why: "the only CT series", Series: []PACSSeriesInfo{
			{UID: "1.2.3", Number: 2, Modality: "CT", Description: "B40f", Instances: 30, Usable: true},
			{UID: "1.2.4", Modality: "SR", Instances: 1, Reason: "not CT"}}}},
		{Kind: Stored, Job: 3, Task: Store, Stored: &StoredInfo{Files: []string{"DICOM SR"}, Bytes: 4000, SOPInstanceUIDs: []string{"2.25.1"}, URL: "http://pacs/dicom-web"}},
		{Kind: Error, Job: 3, Task: Store, Error: "the PACS refused the credentials"},
		{Kind: Exported, Job: 6, Export: &ExportInfo{Name: "r.dcm", Type: "application/dicom", Binary: true}},
	}
	for _, m := range msgs {
		var got *Msg
		if err := json.Unmarshal([]byte(encode(t, m)), &got); err != nil {
			t.Fatalf("%s: got error %v, want nil", m.Kind, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip gave %+v, want %+v", m.Kind, got, m)
		}
	}
}

// TestKindsDistinct checks that no two message kinds share a name: the
// page and the worker dispatch on them.
func TestKindsDistinct(t *testing.T) {
	kinds := []string{Open, Demo, Choose, Cancel, Move, Export, Heatmap, PACSSearch, PACSSeries, PACSOpen, Store,
		Ready, Progress, Inventory, Image, Result, Exported, Found, Stored, Error, Done}
	seen := map[string]bool{}
	for _, k := range kinds {
		if seen[k] {
			t.Errorf("kind %q: got it twice, want each kind once", k)
		}
		seen[k] = true
	}
}

// TestCredentialsOmitted checks that a PACS without credentials sends no
// credential fields at all.
func TestCredentialsOmitted(t *testing.T) {
	got := encode(t, &Msg{Kind: PACSSeries, Job: 1, PACS: &PACS{URL: "http://pacs/dicom-web"}, Study: "1.2"})
	want := `{"kind":"pacs-series","job":1,"pacs":{"url":"http://pacs/dicom-web"},"study":"1.2"}`
	if got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
}

func TestOmitsEmptyFields(t *testing.T) {
	s := encode(t, &Msg{Kind: Cancel, Job: 2})
	if s != `{"kind":"cancel","job":2}` {
		t.Errorf("encoded %s, want %q", s, `{"kind":"cancel","job":2}`)
	}
	if strings.Contains(encode(t, &Msg{Kind: Ready, Ready: &ReadyInfo{Version: "v"}}), "model") {
		t.Error("Ready without a model: got \"model\" in the message, want it left out")
	}
}
