package engine

import (
	"errors"
	"fmt"
	"strings"

	"sscscore/wasm/internal/protocol"
	"sscscore/web/report"
)

// Report returns the current result as a report (nil without a result);
// the patient's name and ID are in it only when patient is true.
func (e *Engine) Report(patient bool) *report.Report {
	if e.result == nil || e.series == nil || e.opt.Scorer == nil {
		return nil
	}
	card := e.opt.Scorer.Card()
	s := e.series
	r := &report.Report{
		App:       report.App{Name: "sscscore", Version: e.opt.Version, Where: "browser"},
		Created:   e.result.Computed,
		Statement: card.Statement,
		Model:     report.Model{Name: card.Name, Weights: card.Weights, Card: card.Fields},
		Input: report.Input{
			Series: report.Series{
				UID: s.UID, Description: strings.TrimSpace(s.Description), Kernel: s.Kernel,
				Manufacturer: s.Manufacturer, Slices: s.Slices, Rows: s.Rows, Columns: s.Columns,
				ThicknessMM: s.Thickness, SpacingMM: s.Spacing,
			},
		},
		Warnings: append([]string(nil), e.result.Warnings...),
	}
	if e.invInfo != nil {
		r.Input.Files, r.Input.Used = e.invInfo.Files, e.invInfo.Used
		r.Input.Series.Chosen = e.invInfo.Why
		r.Warnings = append(append([]string(nil), e.invInfo.Warnings...), r.Warnings...)
		if patient && e.invInfo.Patient != nil {
			p := e.invInfo.Patient
			r.Patient = &report.Patient{Name: p.Name, ID: p.ID, StudyDate: p.StudyDate}
		}
	}
	for _, l := range e.result.Levels {
		r.Levels = append(r.Levels, report.Level{
			SliceIndex: l.Slice, ZMM: l.Z, Predicted: l.Predicted, Moved: l.Moved,
			Scores: report.Scores{TOT: l.Scores.TOT, GG: l.Scores.GG, RET: l.Scores.RET},
		})
	}
	r.Complete()
	return r
}

// export formats the current result.
func (e *Engine) export(job int, format string, patient bool) (*protocol.ExportInfo, error) {
	r := e.Report(patient)
	if r == nil || job != e.job {
		return nil, errors.New("There is no scored scan to export.")
	}
	name := "sscscore-" + r.Created.Format("20060102-150405")
	switch format {
	case "csv":
		b, err := r.CSV()
		if err != nil {
			return nil, err
		}
		return &protocol.ExportInfo{Name: name + ".csv", Type: "text/csv", Text: string(b)}, nil
	case "json":
		b, err := r.JSON()
		if err != nil {
			return nil, err
		}
		return &protocol.ExportInfo{Name: name + ".json", Type: "application/json", Text: string(b)}, nil
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}
