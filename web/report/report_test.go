package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
)

func fp(v float64) *float64 { return &v }
func ip(v int) *int         { return &v }

// sampleBuild is the build that made sample.
var sampleBuild = buildinfo.Info{Version: "v0.2.0-3-gabc1234-dirty", Commit: "abc1234def5678901234567890abcdef01234567", Go: "go1.27.3"}

// sample is a report with a result of four scored levels and one outside
// the scan.
func sample(patient bool) *Report {
	levels := []cascade.LevelResult{
		{Name: "L1", Status: cascade.StatusOutside, Outside: "above", EstimateZMM: 330, Message: "L1 lies above the scanned range (estimated z 330 mm)"},
	}
	for i, s := range [][3]float64{{12.4, 7.5, 2.49}, {30, 20, 10}, {47.5, 40, 7.5}, {100, 99.9, 0.1}} {
		k := 9 + 3*i
		z := 236 - 12*float64(i)
		levels = append(levels, cascade.LevelResult{Name: cascade.LevelNames[i+1], Status: cascade.StatusScored,
			Slice: ip(k), ZMM: fp(z), TOT: fp(s[0]), GG: fp(s[1]), RET: fp(s[2]), EstimateZMM: z, Slices: []int{k - 1, k, k + 1}})
	}
	res := &cascade.Result{Levels: levels, SeriesUID: "1.2.3", Warnings: []string{"L1 not scored: outside"}, Note: cascade.SyntheticNote,
		Model: cascade.ModelInfo{Build: sampleBuild}}
	res.Mean = cascade.MeanOf(res.Levels)
	r := &Report{
		App:       App{Name: "sscscore", Version: sampleBuild.Version, Commit: sampleBuild.Commit, Where: "browser"},
		Created:   time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC),
		Statement: cascade.SyntheticNote,
		Input:     Input{Files: 40, Used: 30, Series: Series{UID: "1.2.3", Description: "LUNG, 1mm", Slices: 30}},
		Result:    res,
	}
	if patient {
		r.Patient = &Patient{Name: "DOE JANE", ID: "A0002"}
	}
	return r
}

// TestCSV checks that the CSV is the cascade's own, with the series UID
// as PatID unless the patient was asked for.
func TestCSV(t *testing.T) {
	for _, patient := range []bool{false, true} {
		r := sample(patient)
		b, err := r.CSV()
		if err != nil {
			t.Fatalf("r.CSV: got error %v, want nil", err)
		}
		var want bytes.Buffer
		id := "1.2.3"
		if patient {
			id = "A0002"
		}
		if err := r.Result.WriteCSV(&want, id); err != nil {
			t.Fatalf("r.Result.WriteCSV: got error %v, want nil", err)
		}
		if string(b) != want.String() {
			t.Errorf("patient %v: CSV\n%s\nwant\n%s", patient, b, want.String())
		}
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatalf("csv.NewReader(bytes.NewReader(b)).ReadAll: got error %v, want nil", err)
		}
		if len(rows) != 2 || rows[1][0] != id || rows[1][1] != "" || rows[1][2] != "236.0" {
			t.Errorf("patient %v: got rows %q, want 2 rows, the second %s, \"\", 236.0, ...", patient, rows, id)
		}
		if !patient && strings.Contains(string(b), "A0002") {
			t.Errorf("patient not requested: got the ID A0002 in %s, want it left out", b)
		}
	}
}

func TestJSON(t *testing.T) {
	b, err := sample(false).JSON()
	if err != nil {
		t.Fatalf("sample(false).JSON: got error %v, want nil", err)
	}
	if strings.Contains(string(b), `"patient"`) || strings.Contains(string(b), "DOE") {
		t.Errorf("patient not requested: got a patient in %s, want none", b)
	}
	var back struct {
		Format string          `json:"format"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	if back.Format != Format {
		t.Errorf("format %q, want %v", back.Format, Format)
	}
	// The result member is the cascade's Result JSON, as the CLI prints it.
	var res, want cascade.Result
	if err := json.Unmarshal(back.Result, &res); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	wb, _ := json.Marshal(sample(false).Result)
	json.Unmarshal(wb, &want)
	gb, _ := json.Marshal(res)
	if string(gb) != string(wb) {
		t.Errorf("result member\n%s\nwant\n%s", gb, wb)
	}
	b, _ = sample(true).JSON()
	if !strings.Contains(string(b), `"id": "A0002"`) || !strings.Contains(string(b), `"name": "DOE JANE"`) {
		t.Errorf("patient requested: got %s, want the id A0002 and name DOE JANE in it", b)
	}
	// The app and the result's model name the same build (version and
	// commit).
	var build struct {
		App    buildinfo.Info `json:"app"`
		Result struct {
			Model struct {
				Build buildinfo.Info `json:"build"`
			} `json:"model"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &build); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	wantApp := buildinfo.Info{Version: sampleBuild.Version, Commit: sampleBuild.Commit}
	if build.App != wantApp || build.Result.Model.Build != sampleBuild {
		t.Errorf("JSON build: app %+v, result.model.build %+v; want %+v, %+v", build.App, build.Result.Model.Build, wantApp, sampleBuild)
	}
	if _, err := (&Report{}).JSON(); err == nil {
		t.Errorf("JSON of a report without a result: got nil error, want an error")
	}
	if _, err := (&Report{}).CSV(); err == nil {
		t.Errorf("CSV of a report without a result: got nil error, want an error")
	}
}
