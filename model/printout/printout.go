// Package printout lays out the printable report of a result as a PDF
// (model/pdf): the research-use statement, the patient (only when the
// result's source holds it), the study and series, the coronal reformat
// with the five level lines and the five level slices, the table of
// levels and scores with the whole-lung means, the warnings, and the
// provenance (build, the networks' weight hashes). Pure Go, so the
// browser's worker can make it too.
package printout

import (
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/pdf"
)

// Statement is the intended-use statement at the top of every report.
const Statement = "Research use only. Not a medical device. The networks are trained on synthetic data."

// Report is what the printable report shows.
type Report struct {
	Result *cascade.Result
	// Series describes the scored series in words (description, slices,
	// spacing, kernel); may be empty.
	Series string
	// Sheet is the picture of the levels: the coronal reformat with the
	// level lines beside the five level slices; nil for none.
	Sheet image.Image
	// Build is the software that made the result.
	Build buildinfo.Info
	// Created is when the report was made.
	Created time.Time
}

// Page layout (points).
const (
	margin  = 40.0
	width   = pdf.A4Width - 2*margin
	bottom  = 50.0
	rowH    = 14.0
	quality = 88
)

var (
	red   = pdf.Color{R: 0.7, G: 0.05, B: 0.05}
	grey  = pdf.Color{R: 0.35, G: 0.35, B: 0.35}
	light = pdf.Color{R: 0.9, G: 0.9, B: 0.9}
)

// writer places lines of content down the pages.
type writer struct {
	doc  *pdf.Document
	page *pdf.Page
	y    float64
}

func (w *writer) newPage() {
	w.page = w.doc.AddPage(pdf.A4Width, pdf.A4Height)
	w.y = pdf.A4Height - margin
}

// need starts a new page unless h points are left on this one.
func (w *writer) need(h float64) {
	if w.y-h < bottom {
		w.newPage()
	}
}

// text writes wrapped text and moves down.
func (w *writer) text(size float64, f pdf.Font, c pdf.Color, s string) {
	for _, line := range pdf.Wrap(f, size, width, s) {
		w.need(size * 1.3)
		w.y -= size * 1.3
		w.page.TextColor(margin, w.y, size, f, c, line)
	}
}

func (w *writer) heading(s string) {
	w.need(40)
	w.y -= 8
	w.text(11, pdf.Bold, pdf.Black, s)
	w.y -= 2
}

// PDF returns the printable report as a PDF file.
func PDF(r Report) ([]byte, error) {
	res := r.Result
	if res == nil || len(res.Levels) == 0 {
		return nil, errors.New("printout: no result to print")
	}
	w := &writer{doc: pdf.New()}
	w.newPage()
	w.text(16, pdf.Bold, pdf.Black, "sscscore: lung involvement of systemic sclerosis on chest CT")
	w.y -= 2
	w.text(10, pdf.Bold, red, Statement)
	w.y -= 4
	src := res.Source
	switch {
	case src != nil && src.Patient != nil:
		p := src.Patient
		line := fmt.Sprintf("Patient: %s, ID %s", strings.ReplaceAll(p.Name, "^", " "), p.ID)
		if p.BirthDate != "" {
			line += ", born " + dicomDate(p.BirthDate)
		}
		if p.Sex != "" {
			line += ", sex " + p.Sex
		}
		w.text(10, pdf.Regular, pdf.Black, line)
	default:
		w.text(10, pdf.Regular, grey, "Patient: name and ID not included (not requested).")
	}
	if src != nil {
		study := "Study " + src.StudyUID
		if src.StudyDate != "" {
			study += " of " + dicomDate(src.StudyDate)
		}
		if src.AccessionNumber != "" {
			study += ", accession " + src.AccessionNumber
		}
		w.text(9, pdf.Regular, pdf.Black, study)
	}
	series := "Series " + res.SeriesUID
	if r.Series != "" {
		series += ": " + r.Series
	}
	w.text(9, pdf.Regular, pdf.Black, series)

	if r.Sheet != nil {
		b := r.Sheet.Bounds()
		iw, ih := width, width*float64(b.Dy())/float64(b.Dx())
		if ih > 330 {
			iw, ih = iw*330/ih, 330
		}
		w.need(ih + 20)
		w.y -= ih + 8
		if err := w.page.Image(r.Sheet, margin, w.y, iw, ih, quality); err != nil {
			return nil, fmt.Errorf("printout: %w", err)
		}
		w.text(8, pdf.Regular, grey, "Coronal reformat with the five level lines (L1 top to L5 bottom) and the level slices, lung window. Check that each line lies at its level.")
	}

	w.heading("Levels and scores (percent of the lung area)")
	table(w, res)
	w.text(8, pdf.Regular, grey, "Each level's score is the mean over its slice and the two neighbours; in brackets rounded to 5 as Goh's method reports it. Slice: index in the series, 0 = most cranial. A level outside the scan or without lung is not scored.")

	if len(res.Warnings) > 0 {
		w.heading("Warnings")
		for _, s := range res.Warnings {
			w.text(9, pdf.Regular, red, "• "+s)
		}
	}
	w.heading("Provenance")
	m := res.Model
	for _, s := range []string{
		"Build: " + r.Build.String(),
		"Levels network " + m.Levels.Spec + ", weights SHA-256 " + m.Levels.SHA256,
		"Scores network " + m.Scores.Spec + ", weights SHA-256 " + m.Scores.SHA256,
		"Training data: " + m.Training + "; level decoding: " + m.LevelDecoding,
		weightsLine(m),
		"Report made " + r.Created.UTC().Format("2006-01-02 15:04 UTC"),
	} {
		w.text(8, pdf.Regular, pdf.Black, s)
	}
	if res.Note != "" {
		w.y -= 4
		w.text(8, pdf.Regular, grey, res.Note)
	}
	return w.doc.Bytes(pdf.Info{Title: "sscscore report " + res.SeriesUID, Creator: "sscscore " + r.Build.Version, Created: r.Created})
}

// table draws the levels and the whole lung.
func table(w *writer, res *cascade.Result) {
	cols := []float64{margin, margin + 50, margin + 125, margin + 170, margin + 245, margin + 320, margin + 395}
	cell := func(f pdf.Font, c pdf.Color, vals ...string) {
		w.need(rowH)
		w.y -= rowH
		for i, v := range vals {
			w.page.TextColor(cols[i]+3, w.y+4, 9, f, c, v)
		}
	}
	w.need(rowH)
	w.page.Rect(margin, w.y-rowH, width, rowH, light)
	cell(pdf.Bold, pdf.Black, "Level", "z (mm)", "Slice", "TOT", "GG", "RET", "Status")
	for _, l := range res.Levels {
		z, k := "-", "-"
		if l.ZMM != nil {
			z = fmt.Sprintf("%.1f", *l.ZMM)
		}
		if l.Slice != nil {
			k = fmt.Sprint(*l.Slice)
		}
		status := l.Status
		if l.Outside != "" {
			status += " (" + l.Outside + ")"
		}
		if l.ReaderPlaced {
			status += ", moved by a reader"
		}
		var rt, rg, rr *int
		if l.Rounded != nil {
			rt, rg, rr = &l.Rounded.TOT, &l.Rounded.GG, &l.Rounded.RET
		}
		cell(pdf.Regular, pdf.Black, l.Name, z, k, score(l.TOT, rt), score(l.GG, rg), score(l.RET, rr), status)
		w.page.Line(margin, w.y, margin+width, w.y, 0.3, light)
	}
	mn := res.Mean
	var rt, rg, rr *int
	if mn.Rounded != nil {
		rt, rg, rr = &mn.Rounded.TOT, &mn.Rounded.GG, &mn.Rounded.RET
	}
	cell(pdf.Bold, pdf.Black, "Whole lung", "", "", score(mn.TOT, rt), score(mn.GG, rg), score(mn.RET, rr), fmt.Sprintf("mean of %d levels", mn.Levels))
	w.page.Line(margin, w.y, margin+width, w.y, 0.6, grey)
}

// score formats a score and its rounded value.
func score(v *float64, rounded *int) string {
	if v == nil {
		return "-"
	}
	s := fmt.Sprintf("%.1f", *v)
	if rounded != nil {
		s += fmt.Sprintf(" (%d)", *rounded)
	}
	return s
}

// dicomDate formats YYYYMMDD as YYYY-MM-DD (anything else as it is).
func dicomDate(d string) string {
	if t, err := time.Parse("20060102", d); err == nil {
		return t.Format("2006-01-02")
	}
	return d
}

// weightsLine names the weights that made the result: a weights folder's
// name, or the shipped weights.
func weightsLine(m cascade.ModelInfo) string {
	if m.Weights == "" {
		return "Weights: the shipped ones"
	}
	return "Weights: " + m.Weights + " (not the shipped ones)"
}
