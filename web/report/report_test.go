package report

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func sample(patient bool) *Report {
	r := &Report{
		App:       App{Name: "sscscore", Version: "test", Where: "cli"},
		Created:   time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC),
		Statement: "Trained on synthetic data; research use only.",
		Model:     Model{Name: "m", Weights: "abc"},
		Input:     Input{Files: 40, Used: 30, Series: Series{UID: "1.2.3", Description: "LUNG, 1mm", Slices: 30}},
		Levels: []Level{
			{SliceIndex: 5, ZMM: 268, Predicted: 5.2, Scores: Scores{TOT: 12.4, GG: 7.5, RET: 2.49}},
			{SliceIndex: 9, ZMM: 236, Scores: Scores{TOT: 0, GG: 0, RET: 0}},
			{SliceIndex: 13, ZMM: 204, Scores: Scores{TOT: 30, GG: 20, RET: 10}},
			{SliceIndex: 16, ZMM: 180, Moved: true, Scores: Scores{TOT: 47.5, GG: 40, RET: 7.5}},
			{SliceIndex: 18, ZMM: 168, Scores: Scores{TOT: 100, GG: 99.9, RET: 0.1}},
		},
	}
	if patient {
		r.Patient = &Patient{Name: "DOE JANE", ID: "A0002"}
	}
	r.Complete()
	return r
}

func TestComplete(t *testing.T) {
	r := sample(false)
	if r.Format != Format || r.Levels[1].Level != "L2" || r.Levels[4].Name != LevelNames[4] {
		t.Errorf("derived fields: %+v", r.Levels[1])
	}
	if got := r.Levels[0].Rounded; got != [3]float64{10, 10, 0} {
		t.Errorf("L1 rounded %v", got)
	}
	if got := r.Levels[3].Rounded; got != [3]float64{50, 40, 10} {
		t.Errorf("L4 rounded %v", got)
	}
	wantTOT := (12.4 + 0 + 30 + 47.5 + 100) / 5
	if d := r.WholeLung.TOT - wantTOT; d > 1e-9 || d < -1e-9 {
		t.Errorf("whole-lung TOT %v, want %v", r.WholeLung.TOT, wantTOT)
	}
	if got := r.WholeLung.Rounded[0]; got != (10+0+30+50+100)/5.0 {
		t.Errorf("whole-lung rounded TOT %v", got)
	}
}

func TestCSV(t *testing.T) {
	b, err := sample(false).CSV()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 7 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows: %q", rows)
	}
	if got := strings.Join(rows[1], ","); got != "1.2.3,L1,268.00,5,10,10,0,12.40,7.50,2.49" {
		t.Errorf("L1 row %s", got)
	}
	if got := strings.Join(rows[6], ","); got != "1.2.3,whole lung,,,38.0,34.0,4.0,37.98,33.48,4.02" {
		t.Errorf("whole-lung row %s", got)
	}
	// Patient columns only on request.
	if strings.Contains(string(b), "A0002") || strings.Contains(string(b), "patient") {
		t.Error("patient data without request")
	}
	b, _ = sample(true).CSV()
	rows, _ = csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if rows[0][0] != "patient_name" || rows[1][1] != "A0002" || rows[6][0] != "DOE JANE" {
		t.Errorf("patient columns: %q", rows)
	}
}

func TestJSON(t *testing.T) {
	b, err := sample(false).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "patient") {
		t.Error("patient field without request")
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Levels[3].Moved != true || back.Levels[0].Predicted != 5.2 || back.WholeLung.Rounded[0] != 38 || !back.Created.Equal(sample(false).Created) {
		t.Errorf("round trip: %+v", back)
	}
	b, _ = sample(true).JSON()
	if !strings.Contains(string(b), `"id": "A0002"`) {
		t.Error("patient missing on request")
	}
}

func TestRound5(t *testing.T) {
	for x, want := range map[float64]float64{0: 0, 2.49: 0, 2.5: 5, 7.5: 10, 12.4: 10, 97.5: 100} {
		if got := Round5(x); got != want {
			t.Errorf("Round5(%v) = %v, want %v", x, got, want)
		}
	}
}
