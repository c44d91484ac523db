package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/shareddata"
)

func inspectRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(append([]string{"inspect"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func TestInspectJSON(t *testing.T) {
	td := shareddata.Root(t)
	b40, b70 := filepath.Join(td, "chest-ct", "A0002-B40f"), filepath.Join(td, "chest-ct", "A0002-B70f")
	notes := filepath.Join(td, "chest-ct", "levels.csv")
	out, errs, code := inspectRun(t, "--json", b40, b70, notes)
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	var got inspectJSON
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("inspect --json: got error %v, want nil\n%s", err, out)
	}
	if len(got.Series) != 2 || got.Series[0].Kernel != "B70f" || !got.Series[0].Chosen || got.Chosen != got.Series[0].UID {
		t.Fatalf("series: got %+v chosen %s, want two, the first B70f and chosen", got.Series, got.Chosen)
	}
	s := got.Series[1]
	if s.Slices != 30 || s.SpacingMM[2] != 8 || s.ZMinMM != 80 || s.ZMaxMM != 312 || !s.Axial || s.Chosen {
		t.Errorf("B40f series: got %+v, want 30 axial slices 8 mm apart from z 80 to 312, not chosen", s)
	}
	if len(got.Files) != 61 {
		t.Errorf("%d files, want 61", len(got.Files))
	}
	for _, f := range got.Files {
		want := ingest.Decoded
		if strings.HasSuffix(f.Path, "levels.csv") {
			want = ingest.Skipped
		}
		if f.Status != want {
			t.Errorf("%s: %s (%s), want %s", f.Path, f.Status, f.Reason, want)
		}
	}
	if got.HUStats != nil || got.Series[0].Patient != nil {
		t.Errorf("not asked for: got hu_stats %v, patient %v; want neither", got.HUStats, got.Series[0].Patient)
	}
	// The required keys, as a reader of the JSON sees them.
	var raw map[string]any
	json.Unmarshal([]byte(out), &raw)
	ser := raw["series"].([]any)[0].(map[string]any)
	for _, k := range []string{"uid", "description", "kernel", "slices", "spacing_mm", "z_min_mm", "z_max_mm", "axial", "chosen"} {
		if _, ok := ser[k]; !ok {
			t.Errorf("series: got %v, want %q in it", ser, k)
		}
	}
	file := raw["files"].([]any)[0].(map[string]any)
	for _, k := range []string{"path", "status", "reason"} {
		if _, ok := file[k]; !ok {
			t.Errorf("file: got %v, want %q in it", file, k)
		}
	}

	// --series picks the other one.
	out, errs, code = inspectRun(t, "--json", "--series", got.Series[1].UID, b40, b70)
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	var other inspectJSON
	json.Unmarshal([]byte(out), &other)
	if other.Chosen != got.Series[1].UID {
		t.Errorf("--series: chosen %s, want %v", other.Chosen, got.Series[1].UID)
	}
	if _, errs, code = inspectRun(t, "--series", "1.2.3", b40); code == 0 || !strings.Contains(errs, "1.2.3") {
		t.Errorf("unknown --series: got exit %d %q, want a failure naming 1.2.3", code, errs)
	}
}

// TestInspectHUStats: two encodings of the same images print the same
// statistics and digest.
func TestInspectHUStats(t *testing.T) {
	td := shareddata.Root(t)
	var first *inspectJSON
	for _, dir := range []string{"A0002-B40f", "A0002-B40f-jpegls"} {
		out, errs, code := inspectRun(t, "--json", "--hu-stats", filepath.Join(td, "chest-ct", dir))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s, want 0", dir, code, errs)
		}
		var got inspectJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("json.Unmarshal: got error %v, want nil", err)
		}
		h := got.HUStats
		if h == nil || len(h.SHA256) != 64 || h.MeanBody < -400 || h.MeanBody > 100 || h.MeanOutside > -800 {
			t.Fatalf("%s: got hu_stats %+v, want a SHA-256, body mean -400..100, outside mean <= -800", dir, h)
		}
		if first == nil {
			first = &got
		} else if *h != *first.HUStats {
			t.Errorf("%s: %+v, want %+v", dir, *h, *first.HUStats)
		}
	}
}

func TestInspectText(t *testing.T) {
	td := shareddata.Root(t)
	out, errs, code := inspectRun(t, filepath.Join(td, "slices"))
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	for _, want := range []string{"Chosen: ", "coronal image, not axial", "not a DICOM file", "decoded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output: got\n%s\nwant %q in it", out, want)
		}
	}
	if _, _, code := inspectRun(t); code == 0 {
		t.Error("no PATH: want a failure")
	}
}
