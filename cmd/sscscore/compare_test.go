package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/followup"
)

// followUpPair writes a baseline and a follow-up of one synthetic patient
// 6 months apart, the disease grown by half, and returns the patient's
// folder (baseline/ and followup/ inside).
func followUpPair(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runSynthCLI(t, "--seed", "41", "--matrix", "128", "--slice-spacing", "5", "--disease", "--severity", "0.5",
		"--followup", "0.5", "--followup-months", "6", "--quiet", "--out", dir)
	return filepath.Join(dir, "SYN41-0001")
}

// TestFollowUpCLI runs compare and score's reader options on one pair.
func TestFollowUpCLI(t *testing.T) {
	dir := followUpPair(t)
	t.Run("scans", func(t *testing.T) { testCompareScans(t, dir) })
	t.Run("cohort", func(t *testing.T) { testCompareCohort(t, dir) })
	t.Run("reader", func(t *testing.T) { testScoreReader(t, dir) })
}

func compareJSON(t *testing.T, args ...string) *followup.Comparison {
	t.Helper()
	out, errs, code := run(t, append([]string{"compare", "--json", "-q"}, args...)...)
	if code != 0 {
		t.Fatalf("compare %v: exit %d: %s, want 0", args, code, errs)
	}
	var c followup.Comparison
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("compare JSON: got error %v, want nil", err)
	}
	return &c
}

// testCompareScans compares the two scans of one patient, from the scans
// and from earlier `score --json --patient` results (the same numbers),
// as CSV, and with a level of the follow-up placed by hand.
func testCompareScans(t *testing.T, dir string) {
	base, fu := filepath.Join(dir, "baseline"), filepath.Join(dir, "followup")
	c := compareJSON(t, base, fu)
	if c.IntervalMonths == nil || *c.IntervalMonths != 6 || len(c.Levels) != 5 || c.Baseline.StudyDate != "20240101" {
		t.Fatalf("comparison: got interval %v, %d levels, baseline date %s; want 6 months, 5, 20240101", c.IntervalMonths, len(c.Levels), c.Baseline.StudyDate)
	}
	if d := c.Lung.TOT.Delta; d == nil || *d <= 0 {
		t.Errorf("whole-lung TOT change: got %v, want > 0 (the disease grew)", d)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("warnings: got %q, want none (one patient, two dates, five levels)", c.Warnings)
	}

	// From earlier results.
	tmp := t.TempDir()
	var paths []string
	for i, scan := range []string{base, fu} {
		out, errs, code := run(t, "score", "--json", "--patient", "-q", scan)
		if code != 0 {
			t.Fatalf("score: exit %d: %s, want 0", code, errs)
		}
		p := filepath.Join(tmp, fmt.Sprintf("r%d.json", i))
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatalf("os.WriteFile: got error %v, want nil", err)
		}
		paths = append(paths, p)
	}
	cj := compareJSON(t, paths...)
	for i := range c.Levels {
		a, b := c.Levels[i], cj.Levels[i]
		if *a.TOT.Delta != *b.TOT.Delta || a.Summary != b.Summary {
			t.Errorf("%s from results: got %.3f %q, want the scans' %.3f %q", a.Name, *b.TOT.Delta, b.Summary, *a.TOT.Delta, a.Summary)
		}
	}

	// CSV: five levels and the lung under the patient's ID.
	out, errs, code := run(t, "compare", "--csv", "-q", paths[0], paths[1])
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(rows) != 7 || rows[1][0] != "SYN41-0001" || rows[6][6] != "lung" || rows[3][6] != "L3" {
		t.Fatalf("compare --csv: exit %d (%s), %d rows (%v); want a header, L1..L5 and lung of SYN41-0001", code, errs, len(rows), err)
	}

	// The reader moves the follow-up's L3: the table follows.
	k := *c.Levels[2].FollowUpSlice + 2
	cm := compareJSON(t, "--followup-level", fmt.Sprintf("L3=slice-%d", k), base, fu)
	l3 := cm.Levels[2]
	if !l3.FollowUpReader || l3.BaselineReader || *l3.FollowUpSlice != k || *l3.TOT.FollowUp == *c.Levels[2].TOT.FollowUp {
		t.Errorf("L3 moved in the follow-up: got reader %v/%v, slice %d, TOT %.2f; want the follow-up's, slice %d, rescored", l3.BaselineReader, l3.FollowUpReader, *l3.FollowUpSlice, *l3.TOT.FollowUp, k)
	}
	if cm.Levels[1].TOT.Delta == nil || *cm.Levels[1].TOT.Delta != *c.Levels[1].TOT.Delta {
		t.Errorf("L2 unchanged by moving L3: got %v, want %v", cm.Levels[1].TOT.Delta, c.Levels[1].TOT.Delta)
	}
}

func TestCompareErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"levels": 3}`), 0o644)
	good := filepath.Join(dir, "good.json")
	b, _ := json.Marshal(&cascade.Result{Levels: []cascade.LevelResult{{Name: "L1", Status: cascade.StatusOutside}}})
	os.WriteFile(good, b, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", good}, "want two scans"},
		{[]string{"compare", "--json", "--csv", good, good}, "exclude each other"},
		{[]string{"compare", bad, good}, "bad.json: not a result of `sscscore score --json`"},
		{[]string{"compare", "--baseline-level", "L3=slice-2", good, good}, "not on an earlier result"},
		{[]string{"compare", "--baseline-level", "L9=slice-2", good, good}, "not one of L1..L5"},
		{[]string{"compare", "--cohort", filepath.Join(dir, "missing.csv")}, "missing.csv"},
		{[]string{"compare", "--cohort", bad, good}, "takes no scans"},
	} {
		_, errs, code := run(t, tc.args...)
		if code == 0 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: got exit %d, %q; want a failure saying %q", tc.args, code, errs, tc.want)
		}
	}
}

// testCompareCohort turns a batch-like CSV of the pair (two `score
// --csv` rows with the batch's Study column) into the patient's table.
func testCompareCohort(t *testing.T, dir string) {
	var lines []string
	for i, scan := range []string{"baseline", "followup"} {
		out, errs, code := run(t, "score", "--csv", "-q", filepath.Join(dir, scan))
		if code != 0 {
			t.Fatalf("score --csv: exit %d: %s, want 0", code, errs)
		}
		rows := strings.Split(strings.TrimSpace(out), "\n")
		if i == 0 {
			lines = append(lines, rows[0]+",Study")
		}
		lines = append(lines, rows[1]+","+scan)
	}
	p := filepath.Join(t.TempDir(), "results.csv")
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	out, errs, code := run(t, "compare", "--cohort", p)
	if code != 0 || !strings.Contains(out, "== SYN41-0001: 2 scans in file order") || !strings.Contains(out, "baseline  baseline") {
		t.Fatalf("compare --cohort: exit %d (%s)\n%s\nwant SYN41-0001's two scans in file order", code, errs, out)
	}
}

// testScoreReader places a level and adds a slice on the command line,
// and scores a single slice given alone.
func testScoreReader(t *testing.T, dir string) {
	base := filepath.Join(dir, "baseline")
	var r cascade.Result
	out, errs, code := run(t, "score", "--json", "-q", "--level", "L4=slice-30", "--slice", "28", base)
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("score --level --slice: got exit %d: %s, want 0 and a JSON result", code, errs)
	}
	if l := r.Levels[3]; !l.ReaderPlaced || *l.Slice != 30 || r.Source == nil || *r.Source.Levels[3].Slice != 30 {
		t.Errorf("L4: got reader %v at slice %v (source %+v), want placed by the reader at 30", l.ReaderPlaced, l.Slice, r.Source)
	}
	if len(r.ExtraSlices) != 1 || r.ExtraSlices[0].Name != "slice 28" || !r.ExtraSlices[0].ReaderPlaced {
		t.Errorf("extra slices: got %+v, want slice 28 placed by the reader", r.ExtraSlices)
	}
	table, _, _ := run(t, "score", "-q", "--level", "L4=slice-30", base)
	if !strings.Contains(table, "30*") {
		t.Errorf("table: got\n%s\nwant L4's slice marked 30*", table)
	}
	if _, errs, code := run(t, "score", "-q", "--level", "L4=z+9000", base); code == 0 || !strings.Contains(errs, "L4: z 9000.0 mm is outside the scan") {
		t.Errorf("z outside: got exit %d, %q; want L4: z 9000.0 mm is outside the scan", code, errs)
	}

	// One slice alone: scored as itself, the levels left to the reader.
	one := filepath.Join(base, "CT00031.dcm")
	out, errs, code = run(t, "score", "--json", "-q", one)
	var s cascade.Result
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("score one slice: got exit %d: %s, want 0 and a JSON result", code, errs)
	}
	if len(s.ExtraSlices) != 1 || s.ExtraSlices[0].Status == "" || s.Levels[0].Status != cascade.StatusUnplaced {
		t.Fatalf("one slice: got extra %+v, L1 %s; want the slice scored, levels unplaced", s.ExtraSlices, s.Levels[0].Status)
	}
	out, errs, code = run(t, "score", "--json", "-q", "--level", "L4=slice-0", one)
	if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
		t.Fatalf("score one slice --level: got exit %d: %s, want 0 and a JSON result", code, errs)
	}
	if l := s.Levels[3]; l.Status != cascade.StatusScored || !l.ReaderPlaced || s.Mean.Levels != 1 {
		t.Errorf("one slice, L4 placed: got %+v, mean of %d; want scored, placed by the reader, mean of 1", l, s.Mean.Levels)
	}
}
