// Package report holds the exports of a scored scan: the full result with
// its provenance as JSON, and the scores as CSV in the paper's layout (one
// row per level, then the whole-lung mean; TOT, GG and RET in steps of 5 as
// the method reports them, and unrounded). The browser app (through the
// worker) and the native command-line tool write the same formats with this
// package, so their files can be compared line by line.
//
// The patient's name and ID are part of an export only when the user asks
// for them (Report.Patient is nil otherwise).
package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Format identifies the JSON layout; it changes when a field changes
// meaning.
const Format = "sscscore-result/1"

// LevelNames names the five Goh levels.
var LevelNames = [5]string{
	"origin of the great vessels",
	"main carina",
	"pulmonary venous confluence",
	"halfway between L3 and L5",
	"just above the right hemidiaphragm",
}

// Report is a scored scan with its provenance.
type Report struct {
	Format  string    `json:"format"`
	App     App       `json:"app"`
	Created time.Time `json:"created"`
	// Statement is the standing caveat, e.g. "Trained on synthetic data;
	// research use only."
	Statement string   `json:"statement"`
	Model     Model    `json:"model"`
	Input     Input    `json:"input"`
	Patient   *Patient `json:"patient,omitempty"`
	Levels    []Level  `json:"levels"`
	// WholeLung is the mean over the five levels.
	WholeLung Scores   `json:"whole_lung"`
	Warnings  []string `json:"warnings,omitempty"`
}

// App names the program that made the report.
type App struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Where is "browser" or "cli".
	Where string `json:"where,omitempty"`
}

// Model identifies the scoring model.
type Model struct {
	Name string `json:"name"`
	// Weights identifies the trained weights (a hash).
	Weights string `json:"weights"`
	// Card holds the model card summary as label/value pairs.
	Card [][2]string `json:"card,omitempty"`
}

// Input describes what was scored.
type Input struct {
	// Files is the number of input files and Used those in the series.
	Files  int    `json:"files"`
	Used   int    `json:"used"`
	Series Series `json:"series"`
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

// Level is one scored level.
type Level struct {
	Level string `json:"level"` // "L1".."L5"
	Name  string `json:"name"`
	// SliceIndex is the slice scored, 0 for the first (most cranial)
	// slice; ZMM its patient z.
	SliceIndex int     `json:"slice_index"`
	ZMM        float64 `json:"z_mm"`
	// Predicted is the cascade's position in slice units; Moved is true
	// when the user moved the level away from it.
	Predicted float64 `json:"predicted_slice"`
	Moved     bool    `json:"moved"`
	Scores
}

// Scores are percentages of the lung area, unrounded and in steps of 5.
type Scores struct {
	TOT float64 `json:"tot"`
	GG  float64 `json:"gg"`
	RET float64 `json:"ret"`
	// Rounded holds TOT, GG, RET rounded to steps of 5 (for a level) or
	// the mean of the levels' rounded scores (for the whole lung).
	Rounded [3]float64 `json:"rounded"`
}

// Round5 rounds a percentage to the nearest multiple of 5, halves up.
func Round5(x float64) float64 { return math.Floor(x/5+0.5) * 5 }

// Complete fills the derived fields: the format, level names, the rounded
// scores and the whole-lung mean.
func (r *Report) Complete() {
	r.Format = Format
	var mean, meanR [3]float64
	for i := range r.Levels {
		l := &r.Levels[i]
		if l.Level == "" {
			l.Level = fmt.Sprintf("L%d", i+1)
		}
		if l.Name == "" && i < 5 {
			l.Name = LevelNames[i]
		}
		l.Rounded = [3]float64{Round5(l.TOT), Round5(l.GG), Round5(l.RET)}
		for j, v := range [3]float64{l.TOT, l.GG, l.RET} {
			mean[j] += v
			meanR[j] += l.Rounded[j]
		}
	}
	if n := float64(len(r.Levels)); n > 0 {
		for j := range mean {
			mean[j] /= n
			meanR[j] /= n
		}
	}
	r.WholeLung = Scores{TOT: mean[0], GG: mean[1], RET: mean[2], Rounded: meanR}
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(b, '\n'), nil
}

// CSVHeader is the header row of the CSV export (without the patient
// columns, which come first when present).
var CSVHeader = []string{"series_uid", "level", "z_mm", "slice_index", "TOT", "GG", "RET", "TOT_raw", "GG_raw", "RET_raw"}

// CSV returns the scores in the paper's layout: one row per level, then a
// "whole lung" row with the mean; TOT, GG, RET in steps of 5 and unrounded.
func (r *Report) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	head := CSVHeader
	var pre []string
	if r.Patient != nil {
		head = append([]string{"patient_name", "patient_id"}, head...)
		pre = []string{r.Patient.Name, r.Patient.ID}
	}
	if err := w.Write(head); err != nil {
		return nil, err
	}
	num := func(x float64, prec int) string { return strconv.FormatFloat(x, 'f', prec, 64) }
	for _, l := range r.Levels {
		row := append(append([]string(nil), pre...), r.Input.Series.UID, l.Level, num(l.ZMM, 2), strconv.Itoa(l.SliceIndex),
			num(l.Rounded[0], 0), num(l.Rounded[1], 0), num(l.Rounded[2], 0),
			num(l.TOT, 2), num(l.GG, 2), num(l.RET, 2))
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	m := r.WholeLung
	row := append(append([]string(nil), pre...), r.Input.Series.UID, "whole lung", "", "",
		num(m.Rounded[0], 1), num(m.Rounded[1], 1), num(m.Rounded[2], 1),
		num(m.TOT, 2), num(m.GG, 2), num(m.RET, 2))
	if err := w.Write(row); err != nil {
		return nil, err
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
