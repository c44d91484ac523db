package followup

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// CSVHeader is the change table's layout: one row per level (L1..L5) and
// one for the whole lung ("lung") of each comparison. ReaderPlaced says in
// which scan a reader placed the level ("baseline", "followup", "both").
func CSVHeader() []string {
	h := []string{"PatID", "Baseline", "FollowUp", "BaselineDate", "FollowUpDate", "Months", "Level", "BaselineZ", "FollowUpZ", "ReaderPlaced"}
	for _, s := range ScoreNames {
		h = append(h, s+"_baseline", s+"_followup", s+"_change", s+"_limit", s+"_verdict")
	}
	return append(h, "Summary")
}

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func readerOf(l *LevelChange) string {
	switch {
	case l.BaselineReader && l.FollowUpReader:
		return "both"
	case l.BaselineReader:
		return "baseline"
	case l.FollowUpReader:
		return "followup"
	}
	return ""
}

// CSVRecords returns the comparison's rows (CSVHeader) under patID.
func (c *Comparison) CSVRecords(patID string) [][]string {
	var rows [][]string
	for _, l := range append(append([]LevelChange(nil), c.Levels...), c.Lung) {
		row := []string{patID, c.Baseline.Label, c.FollowUp.Label, c.Baseline.StudyDate, c.FollowUp.StudyDate, num(c.IntervalMonths),
			l.Name, num(l.BaselineZ), num(l.FollowUpZ), readerOf(&l)}
		for _, ch := range []Change{l.TOT, l.GG, l.RET} {
			row = append(row, num(ch.Baseline), num(ch.FollowUp), num(ch.Delta), strconv.FormatFloat(ch.Limit, 'f', 1, 64), ch.Verdict)
		}
		rows = append(rows, append(row, l.Summary))
	}
	return rows
}

// WriteCSV writes the header and the rows of the comparisons, each under
// the PatID at the same index of patIDs (empty when patIDs is shorter).
func WriteCSV(w io.Writer, cs []*Comparison, patIDs []string) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader())
	for i, c := range cs {
		id := ""
		if i < len(patIDs) {
			id = patIDs[i]
		}
		cw.WriteAll(c.CSVRecords(id))
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes the comparison as a table for a terminal: per level and
// for the whole lung the scores of both scans, the change and its verdict.
func (c *Comparison) WriteText(w io.Writer) error {
	date := func(s Scan) string {
		if s.StudyDate == "" {
			return "date unknown"
		}
		return s.StudyDate
	}
	fmt.Fprintf(w, "baseline  %s (%s, series %s)\nfollow-up %s (%s, series %s)\n", c.Baseline.Label, date(c.Baseline), c.Baseline.SeriesUID,
		c.FollowUp.Label, date(c.FollowUp), c.FollowUp.SeriesUID)
	if c.IntervalMonths != nil {
		fmt.Fprintf(w, "interval  %.1f months\n", *c.IntervalMonths)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "level\tz (mm)\tTOT\tGG\tRET\tchange")
	for _, l := range append(append([]LevelChange(nil), c.Levels...), c.Lung) {
		z := num(l.BaselineZ) + mark(l.BaselineReader) + " -> " + num(l.FollowUpZ) + mark(l.FollowUpReader)
		if l.Name == "lung" {
			z = ""
		}
		cells := []string{l.Name, z}
		for _, ch := range []Change{l.TOT, l.GG, l.RET} {
			cells = append(cells, cell(ch))
		}
		fmt.Fprintln(tw, strings.Join(append(cells, l.Summary), "\t"))
	}
	tw.Flush()
	fmt.Fprintf(w, "(scores in percent of the lung area: baseline -> follow-up (change); * a level placed by the reader; measurement error of a change per level TOT %.1f, GG %.1f, RET %.1f, whole lung %.1f, %.1f, %.1f points)\n",
		c.Limits.Level[0], c.Limits.Level[1], c.Limits.Level[2], c.Limits.Lung[0], c.Limits.Lung[1], c.Limits.Lung[2])
	for _, wn := range c.Warnings {
		fmt.Fprintln(w, "warning:", wn)
	}
	_, err := fmt.Fprintln(w, "note:", c.Note)
	return err
}

func mark(reader bool) string {
	if reader {
		return "*"
	}
	return ""
}

func cell(ch Change) string {
	if ch.Delta == nil {
		return "-"
	}
	return fmt.Sprintf("%s -> %s (%+.1f)", num(ch.Baseline), num(ch.FollowUp), *ch.Delta)
}
