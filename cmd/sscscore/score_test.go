package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/shareddata"
)

func run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(args, &out, &errb)
	return out.String(), errb.String(), code
}

// scoreJSON mirrors the documented JSON output.
type scoreJSON struct {
	Levels []struct {
		Name       string   `json:"name"`
		ZMM        *float64 `json:"z_mm"`
		Slice      *int     `json:"slice"`
		Confidence float64  `json:"confidence"`
		TOT        *float64 `json:"tot"`
		GG         *float64 `json:"gg"`
		RET        *float64 `json:"ret"`
		Status     string   `json:"status"`
	} `json:"levels"`
	Mean struct {
		TOT, GG, RET *float64
	} `json:"mean"`
	SeriesUID string         `json:"series_uid"`
	Model     map[string]any `json:"model"`
	Warnings  []string       `json:"warnings"`
	Note      string         `json:"note"`
}

func TestScoreA0002(t *testing.T) {
	td := shareddata.Root(t)
	dir := filepath.Join(td, "chest-ct", "A0002-B40f")

	out, errs, code := run(t, "score", "--json", "-q", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	var r scoreJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("score --json: got error %v, want nil\n%s", err, out)
	}
	if len(r.Levels) != 5 || r.SeriesUID == "" || r.Model["levels"] == nil || !strings.Contains(r.Note, "synthetic") {
		t.Fatalf("JSON: got %s, want 5 levels, a series UID, the model, the synthetic note", out)
	}
	for i, l := range r.Levels {
		if l.Name != "L"+string(rune('1'+i)) {
			t.Errorf("level %d: got name %q, want L%d", i, l.Name, i+1)
		}
		if l.Status == "scored" && (l.ZMM == nil || l.Slice == nil || l.TOT == nil || l.GG == nil || l.RET == nil) {
			t.Errorf("%s scored: got %+v, want z, slice, TOT, GG and RET", l.Name, l)
		}
		if l.Slice != nil && (*l.Slice < 0 || *l.Slice >= 30) {
			t.Errorf("%s: got slice %d, want 0..29", l.Name, *l.Slice)
		}
	}
	if r.Mean.TOT == nil {
		t.Error("mean: got no TOT, want one")
	}

	out, errs, code = run(t, "score", "--csv", "-q", "--patid", "A0002", dir)
	if code != 0 {
		t.Fatalf("csv exit %d: %s, want 0", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 || len(rows[1]) != 21 || rows[1][0] != "A0002" || rows[0][6] != "L1_disext" {
		t.Fatalf("CSV: got %v %q, want 2 rows of 21, PatID A0002, column 6 L1_disext", err, out)
	}

	out, errs, code = run(t, "score", "-q", dir)
	if code != 0 {
		t.Fatalf("table exit %d: %s, want 0", code, errs)
	}
	for _, w := range []string{"L1", "L5", "mean", "TOT", "synthetic"} {
		if !strings.Contains(out, w) {
			t.Errorf("table: got\n%s\nwant %q in it", out, w)
		}
	}
}

func TestScoreDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("renders the 512x512 demo series")
	}
	out, errs, code := run(t, "score", "--demo", "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	var r scoreJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	scored := 0
	for _, l := range r.Levels {
		if l.Status == "scored" {
			scored++
		}
	}
	if scored != 5 || r.Mean.TOT == nil || *r.Mean.TOT <= 0 {
		t.Errorf("demo: got %d levels scored, mean %v; want 5, > 0\n%s", scored, r.Mean.TOT, out)
	}
	checkSameBuild(t, r.Model)
}

func TestScoreErrors(t *testing.T) {
	for _, args := range [][]string{
		{"score"},
		{"score", "--json", "--csv", "x"},
		{"score", filepath.Join(t.TempDir(), "missing")},
	} {
		if _, _, code := run(t, args...); code == 0 {
			t.Errorf("%v: exit 0, got %v, want != 0", args, code)
		}
	}
	// A folder without DICOM: a clear error.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o644)
	_, errs, code := run(t, "score", dir)
	if code == 0 || !strings.Contains(errs, "no usable") {
		t.Errorf("empty folder: got exit %d, %q; want a failure saying \"no usable\"", code, errs)
	}
}
