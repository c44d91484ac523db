package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/sr"
	"sscscore/wasm/internal/protocol"
	"sscscore/web/report"
)

// Report returns the current result as a report (nil without a result);
// the patient's name and ID are in it only when patient is true.
func (e *Engine) Report(patient bool) *report.Report {
	if e.result == nil || e.series == nil || e.opt.Cascade == nil {
		return nil
	}
	card := modelCard(e.opt.Cascade)
	s := e.series
	// A copy of the result, so that a later move does not change a
	// report already made.
	var res cascade.Result
	b, _ := json.Marshal(e.result.res)
	json.Unmarshal(b, &res)
	// The study and the level slices' instances, as `sscscore score
	// --json` writes them (the patient only on request).
	res.Source = sr.SourceOf(s, &res, patient)
	r := &report.Report{
		App:       report.App{Name: "sscscore", Version: e.opt.Build.Version, Commit: e.opt.Build.Commit, Where: "browser"},
		Created:   e.result.computed,
		Statement: card.Statement,
		ModelCard: card.Fields,
		Input: report.Input{
			Series: report.Series{
				UID: s.UID, Description: strings.TrimSpace(s.Description), Kernel: s.Kernel,
				Manufacturer: s.Manufacturer, Slices: s.Slices, Rows: s.Rows, Columns: s.Columns,
				ThicknessMM: s.Thickness, SpacingMM: s.Spacing,
			},
		},
		Moved:  e.result.moved(),
		Result: &res,
	}
	if e.invInfo != nil {
		r.Input.Files, r.Input.Used = e.invInfo.Files, e.invInfo.Used
		r.Input.Series.Chosen = e.invInfo.Why
		r.Input.Warnings = append([]string(nil), e.invInfo.Warnings...)
		if patient && e.invInfo.Patient != nil {
			p := e.invInfo.Patient
			r.Patient = &report.Patient{Name: p.Name, ID: p.ID, StudyDate: p.StudyDate}
		}
	}
	return r
}

// Export makes an export of the current result: "csv" or "json", with the
// patient's name and ID only when patient is true.
func (e *Engine) Export(job int, format string, patient bool, send Send) {
	var (
		x   *protocol.ExportInfo
		buf []byte
		err error
	)
	if format == protocol.FormatSR {
		x, buf, err = e.exportSR(job, patient)
	} else {
		x, err = e.export(job, format, patient)
	}
	if err != nil {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
		return
	}
	send(&protocol.Msg{Kind: protocol.Exported, Job: job, Export: x}, buf)
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
