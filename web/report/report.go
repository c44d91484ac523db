// Package report holds the exports of a scored scan, made alike by the
// browser app (in its worker) and comparable line by line with the native
// command-line tool:
//
//   - CSV in the paper's layout: model/cascade's Result.WriteCSV, exactly
//     what `sscscore score --csv` prints (one header row, one row: PatID,
//     the five level positions, then TOT, GG and RET per level).
//   - JSON: the full result with its provenance. Its "result" member is
//     model/cascade's Result, exactly what `sscscore score --json` prints;
//     around it are the app with its version and commit, when it was made, the input (files,
//     series and why it was chosen), the model card and the standing
//     statement, and, only on request, the patient.
//
// The patient's name and ID are part of an export only when the user asks
// for them (Report.Patient is nil otherwise); without them the CSV's PatID
// column holds the series UID, as `sscscore score --csv --patid UID` would.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"sscscore/model/cascade"
)

// Format identifies the JSON layout; it changes when a field changes
// meaning.
const Format = "sscscore-report/2"

// Report is a scored scan with its provenance.
type Report struct {
	Format  string    `json:"format"`
	App     App       `json:"app"`
	Created time.Time `json:"created"`
	// Statement is the standing caveat, e.g. "Trained on synthetic data
	// only ... Research use only, not a medical device."
	Statement string `json:"statement"`
	// ModelCard is the model card summary shown on the page, as
	// label/value pairs.
	ModelCard [][2]string `json:"model_card,omitempty"`
	Input     Input       `json:"input"`
	Patient   *Patient    `json:"patient,omitempty"`
	// Moved lists the levels (1-5) placed by the user rather than the
	// levels network (their result entries have reader_placed set).
	Moved []int `json:"moved,omitempty"`
	// Result is the cascade's result, as `sscscore score --json` prints
	// it (after any levels moved by the user were rescored).
	Result *cascade.Result `json:"result"`
}

// App names the program that made the report.
type App struct {
	Name string `json:"name"`
	// Version and Commit name the build (model/buildinfo), as
	// `sscscore version` prints them.
	Version string `json:"version"`
	Commit  string `json:"commit"`
	// Where is "browser" or "cli".
	Where string `json:"where,omitempty"`
}

// Input describes what was scored.
type Input struct {
	// Files is the number of input files and Used those in the series.
	Files  int    `json:"files"`
	Used   int    `json:"used"`
	Series Series `json:"series"`
	// Warnings about the input (files left out, slices not decoded).
	Warnings []string `json:"warnings,omitempty"`
}

// Series describes the series scored.
type Series struct {
	UID          string     `json:"uid"`
	Description  string     `json:"description"`
	Kernel       string     `json:"kernel,omitempty"`
	Manufacturer string     `json:"manufacturer,omitempty"`
	Slices       int        `json:"slices"`
	Rows         int        `json:"rows"`
	Columns      int        `json:"columns"`
	ThicknessMM  float64    `json:"thickness_mm"`
	SpacingMM    [3]float64 `json:"spacing_mm"` // x, y, z
	// Chosen says why the series was used ("You chose this series." when
	// the user picked it).
	Chosen string `json:"chosen"`
}

// Patient identifies the patient (only on request).
type Patient struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	StudyDate string `json:"study_date,omitempty"`
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	if r.Result == nil {
		return nil, fmt.Errorf("report: no result")
	}
	r.Format = Format
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(b, '\n'), nil
}

// PatID returns the CSV's PatID: the patient ID when the report holds the
// patient (and the ID is known), otherwise the series UID.
func (r *Report) PatID() string {
	if r.Patient != nil && r.Patient.ID != "" {
		return r.Patient.ID
	}
	if r.Result != nil && r.Result.SeriesUID != "" {
		return r.Result.SeriesUID
	}
	return r.Input.Series.UID
}

// CSV returns the result in the paper's layout (Result.WriteCSV).
func (r *Report) CSV() ([]byte, error) {
	if r.Result == nil {
		return nil, fmt.Errorf("report: no result")
	}
	var buf bytes.Buffer
	if err := r.Result.WriteCSV(&buf, r.PatID()); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return buf.Bytes(), nil
}
