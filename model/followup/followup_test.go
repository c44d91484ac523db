package followup

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/cohort"
)

func TestDefaultLimits(t *testing.T) {
	l := DefaultLimits()
	want := Limits{Level: [3]float64{5.162, 11.031, 11.172}, Lung: [3]float64{3.632, 8.761, 8.843}}
	for i := range 3 {
		if math.Abs(l.Level[i]-want.Level[i]) > 0.001 || math.Abs(l.Lung[i]-want.Lung[i]) > 0.001 {
			t.Errorf("%s: got level %.3f, lung %.3f; want %.3f, %.3f", ScoreNames[i], l.Level[i], l.Lung[i], want.Level[i], want.Lung[i])
		}
	}
}

// result makes a result whose levels have the given TOT, GG and RET (NaN
// TOT: the level lies outside the scan).
func result(uid, date string, s [5][3]float64) *cascade.Result {
	r := &cascade.Result{SeriesUID: uid, Source: &cascade.Source{StudyUID: "study-" + uid, StudyDate: date}}
	for i, v := range s {
		l := cascade.LevelResult{Name: cascade.LevelNames[i], Status: cascade.StatusScored}
		if math.IsNaN(v[0]) {
			l.Status, l.Message = cascade.StatusOutside, "lies below the scanned range"
		} else {
			z, k := -100-30*float64(i), 10*i
			l.ZMM, l.Slice, l.TOT, l.GG, l.RET = &z, &k, &v[0], &v[1], &v[2]
		}
		r.Levels = append(r.Levels, l)
	}
	r.Mean = cascade.MeanOf(r.Levels)
	return r
}

func TestCompare(t *testing.T) {
	base := [5][3]float64{{10, 5, 5}, {20, 10, 10}, {30, 20, 10}, {40, 20, 20}, {50, 30, 20}}
	nan := math.NaN()
	tests := []struct {
		name     string
		fu       [5][3]float64
		bDate    string
		fDate    string
		bPat     *cascade.Patient
		fPat     *cascade.Patient
		verdicts [5]string // summary per level
		lung     [3]string // TOT, GG, RET verdicts of the whole lung
		months   float64   // NaN: unknown
		warn     []string  // substrings of the warnings
	}{
		{
			name: "no change", fu: [5][3]float64{{11, 6, 4}, {19, 9, 11}, {34, 24, 10}, {37, 17, 21}, {50, 31, 19}},
			bDate: "20240101", fDate: "20250101", bPat: &cascade.Patient{ID: "P1", Name: "Doe^Jane"}, fPat: &cascade.Patient{ID: " P1", Name: "DOE^JANE"},
			verdicts: [5]string{NoChange, NoChange, NoChange, NoChange, NoChange}, lung: [3]string{NoChange, NoChange, NoChange}, months: 12,
		},
		{
			name: "L4 and L5 grew", fu: [5][3]float64{{10, 5, 5}, {20, 10, 10}, {30, 20, 10}, {52, 33, 20}, {70, 45, 25}},
			bDate: "20240101", fDate: "20240701", bPat: &cascade.Patient{ID: "P1"}, fPat: &cascade.Patient{ID: "P1"},
			verdicts: [5]string{NoChange, NoChange, NoChange, "TOT increased by 12.0 points (measurement error 5.2); GG increased by 13.0", "TOT increased by 20.0 points (measurement error 5.2); GG increased by 15.0"},
			lung:     [3]string{Increased, NoChange, NoChange}, months: 6,
		},
		{
			name: "L5 outside in the follow-up, other patient", fu: [5][3]float64{{4, 0, 4}, {20, 10, 10}, {30, 20, 10}, {40, 20, 20}, {nan, 0, 0}},
			bDate: "20240101", fDate: "", bPat: &cascade.Patient{ID: "P1", BirthDate: "19600101"}, fPat: &cascade.Patient{ID: "P2", BirthDate: "19610101"},
			verdicts: [5]string{"TOT decreased by 6.0 points", NoChange, NoChange, NoChange, NotCompared},
			lung:     [3]string{NoChange, NoChange, NoChange}, months: math.NaN(),
			warn: []string{"the Patient ID, birth date differ", "interval is unknown", "L5 not scored in both scans: follow-up: lies below"},
		},
		{
			name: "identity unknown, dates reversed", fu: base, bDate: "20250101", fDate: "20240101", bPat: nil, fPat: &cascade.Patient{ID: "P1"},
			verdicts: [5]string{NoChange, NoChange, NoChange, NoChange, NoChange}, lung: [3]string{NoChange, NoChange, NoChange}, months: -12,
			warn: []string{"identity could not be checked", "dated before the baseline"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rb := result("1", tc.bDate, base)
			rb.Source.Patient = tc.bPat
			c, err := Compare(Input{Label: "a", Result: rb, Patient: tc.bPat},
				Input{Label: "b", Result: result("2", tc.fDate, tc.fu), Patient: tc.fPat}, Options{})
			if err != nil {
				t.Fatalf("Compare: got error %v, want nil", err)
			}
			for i, l := range c.Levels {
				if l.Name != cascade.LevelNames[i] || !strings.HasPrefix(l.Summary, tc.verdicts[i]) {
					t.Errorf("%s: got %q, want %s %q...", l.Name, l.Summary, cascade.LevelNames[i], tc.verdicts[i])
				}
			}
			for i, ch := range []Change{c.Lung.TOT, c.Lung.GG, c.Lung.RET} {
				if ch.Verdict != tc.lung[i] {
					t.Errorf("lung %s: got %q (change %s, limit %.1f), want %q", ScoreNames[i], ch.Verdict, num(ch.Delta), ch.Limit, tc.lung[i])
				}
			}
			switch {
			case math.IsNaN(tc.months) && c.IntervalMonths != nil:
				t.Errorf("interval: got %.1f months, want unknown", *c.IntervalMonths)
			case !math.IsNaN(tc.months) && (c.IntervalMonths == nil || math.Abs(*c.IntervalMonths-tc.months) > 0.05):
				t.Errorf("interval: got %s months, want %.1f", num(c.IntervalMonths), tc.months)
			}
			all := strings.Join(c.Warnings, " | ")
			for _, w := range tc.warn {
				if !strings.Contains(all, w) {
					t.Errorf("warnings: got %q, want one containing %q", all, w)
				}
			}
			if len(tc.warn) == 0 && len(c.Warnings) != 0 {
				t.Errorf("warnings: got %q, want none", all)
			}
			if c.Baseline.Patient != nil || c.Baseline.Result.Source.Patient != nil {
				t.Errorf("patient: got %+v / %+v in the comparison, want none without ShowPatient", c.Baseline.Patient, c.Baseline.Result.Source.Patient)
			}
			if rb.Source.Patient != tc.bPat {
				t.Errorf("input result: got its patient changed to %+v, want %+v", rb.Source.Patient, tc.bPat)
			}
		})
	}
}

// TestCompareLungLevels checks that the whole lung compares the same
// levels in both scans: a level missing in one scan leaves both means.
func TestCompareLungLevels(t *testing.T) {
	b := [5][3]float64{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {60, 30, 30}}
	f := b
	f[4][0] = math.NaN()
	c, err := Compare(Input{Result: result("1", "", b)}, Input{Result: result("2", "", f)}, Options{})
	if err != nil {
		t.Fatalf("Compare: got error %v, want nil", err)
	}
	if c.Lung.Levels != 4 || c.Lung.TOT.Delta == nil || *c.Lung.TOT.Delta != 0 {
		t.Errorf("lung: got %d levels, change %s; want 4 levels, 0", c.Lung.Levels, num(c.Lung.TOT.Delta))
	}
}

// writeBatch writes a batch CSV as `sscscore batch` does (cohort.Record
// rows) and returns its path.
func writeBatch(t *testing.T, dir string, recs []*cohort.Record) string {
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(cohort.CSVHeader())
	for _, r := range recs {
		cw.Write(r.CSVRecord())
	}
	cw.Flush()
	p := filepath.Join(dir, "results.csv")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	return p
}

func TestCompareCohort(t *testing.T) {
	s := func(v float64) [5][3]float64 {
		return [5][3]float64{{v, v / 2, v / 2}, {v, v / 2, v / 2}, {v, v / 2, v / 2}, {v, v / 2, v / 2}, {v, v / 2, v / 2}}
	}
	// Rows sorted by study key as the batch writes them; P1's later study
	// comes first in the file.
	recs := []*cohort.Record{
		{Study: "s1", Series: "1", PatID: "P1", Status: cohort.StatusScored, Result: result("1", "20250101", s(40))},
		{Study: "s2", Series: "2", PatID: "P2", Status: cohort.StatusScored, Result: result("2", "20240101", s(10))},
		{Study: "s3", Series: "3", PatID: "P1", Status: cohort.StatusScored, Result: result("3", "20240101", s(20))},
		{Study: "s4", Series: "", PatID: "P2", Status: cohort.StatusFailed, Reason: "no CT series"},
		{Study: "s5", Series: "5", PatID: "P3", Status: cohort.StatusScored, Result: result("5", "20240101", s(10))},
	}
	tests := []struct {
		name      string
		journal   bool
		order     string
		change    float64 // P1's TOT change at L1
		firstScan string
	}{
		{"no dates: file order", false, "file order", -20, "s1"},
		{"journal dates", true, "study date", 20, "s3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := writeBatch(t, dir, recs)
			if tc.journal {
				var buf bytes.Buffer
				for _, r := range recs {
					b, _ := json.Marshal(r)
					buf.Write(append(b, '\n'))
				}
				buf.WriteString(`{"study": "cut by a kill`)
				if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), buf.Bytes(), 0o644); err != nil {
					t.Fatalf("os.WriteFile: got error %v, want nil", err)
				}
			}
			cc, err := CompareCohortFile(p, Options{})
			if err != nil {
				t.Fatalf("CompareCohortFile: got error %v, want nil", err)
			}
			if len(cc.Patients) != 1 || cc.Patients[0].PatID != "P1" || cc.Patients[0].Order != tc.order || cc.Patients[0].Scans[0] != tc.firstScan {
				t.Fatalf("patients: got %+v, want P1 alone in %s, first %s", cc.Patients, tc.order, tc.firstScan)
			}
			c := cc.Patients[0].Comparisons[0]
			if d := c.Levels[0].TOT.Delta; d == nil || math.Abs(*d-tc.change) > 0.05 {
				t.Errorf("P1 L1 TOT change: got %s, want %.0f", num(d), tc.change)
			}
			if len(cc.Skipped) != 3 {
				t.Errorf("skipped: got %q, want P2's failed row, P2 and P3 single", cc.Skipped)
			}
			var buf bytes.Buffer
			if err := cc.WriteCSV(&buf); err != nil {
				t.Fatalf("WriteCSV: got error %v, want nil", err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil || len(rows) != 7 || len(rows[1]) != len(CSVHeader()) || rows[1][0] != "P1" || rows[6][6] != "lung" {
				t.Errorf("CSV: got %d rows (%v), want a header and 6 rows of P1 ending with lung", len(rows), err)
			}
		})
	}
}

func TestReadCohortCSVErrors(t *testing.T) {
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "empty CSV"},
		{"no PatID", "a,b\n1,2\n", "no PatID column"},
		{"bad number", "PatID,L1_pos\nP1,abc\n", "line 2, L1_pos"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := ReadCohortCSV(strings.NewReader(tc.csv), "x.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "x.csv") {
				t.Errorf("got error %v, want one naming x.csv and %q", err, tc.want)
			}
		})
	}
}
