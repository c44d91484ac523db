package cascade

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// CSVHeader is the paper's layout of one scan's reading: patient ID, the
// five level positions (patient z, mm), then for each level the total
// disease extent, ground glass and reticulation (percent of the lung).
func CSVHeader() []string {
	h := []string{"PatID"}
	for i := 1; i <= NumLevels; i++ {
		h = append(h, fmt.Sprintf("L%d_pos", i))
	}
	for i := 1; i <= NumLevels; i++ {
		h = append(h, fmt.Sprintf("L%d_disext", i), fmt.Sprintf("L%d_gg", i), fmt.Sprintf("L%d_retp", i))
	}
	return h
}

// CaseLabels is one row of the paper's CSV. Missing values are NaN.
type CaseLabels struct {
	PatID string
	// Line is the row's line in the CSV (1 is the header; 0 when unknown).
	Line         int
	Pos          [NumLevels]float64
	TOT, GG, RET [NumLevels]float64
}

func fmtNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// CSVRecord returns the result as one row of the paper's layout (empty
// cells for levels outside the scan or not scored).
func (r *Result) CSVRecord(patID string) []string {
	if patID == "" {
		patID = r.SeriesUID
	}
	rec := []string{patID}
	byName := map[string]LevelResult{}
	for _, l := range r.Levels {
		byName[l.Name] = l
	}
	for _, n := range LevelNames {
		l := byName[n]
		if l.ZMM == nil {
			rec = append(rec, "")
		} else {
			rec = append(rec, fmtNum(*l.ZMM))
		}
	}
	for _, n := range LevelNames {
		l := byName[n]
		for _, v := range []*float64{l.TOT, l.GG, l.RET} {
			if v == nil {
				rec = append(rec, "")
			} else {
				rec = append(rec, fmtNum(*v))
			}
		}
	}
	return rec
}

// WriteCSV writes the header and the result's row.
func (r *Result) WriteCSV(w io.Writer, patID string) error {
	cw := csv.NewWriter(w)
	cw.Write(CSVHeader())
	cw.Write(r.CSVRecord(patID))
	cw.Flush()
	return cw.Error()
}

// LabelIssue is one problem found in a labels CSV, or in matching its
// rows with the scans: where (file, line, PatID), what, and whether it is
// an error (the data cannot be used as they are) or a warning (they are
// used, or the item is left out, as the message says).
type LabelIssue struct {
	File string
	// Line is the CSV line (1 is the header); 0 for an issue that is no
	// row's, such as a scan that no row names.
	Line    int
	PatID   string
	Warning bool
	Msg     string
}

// String formats the issue as "FILE:LINE: PatID P: error: MESSAGE".
func (i LabelIssue) String() string {
	var b strings.Builder
	b.WriteString(i.File)
	if i.Line > 0 {
		fmt.Fprintf(&b, ":%d", i.Line)
	}
	b.WriteString(": ")
	if i.PatID != "" {
		fmt.Fprintf(&b, "PatID %s: ", i.PatID)
	}
	if i.Warning {
		b.WriteString("warning: ")
	} else {
		b.WriteString("error: ")
	}
	b.WriteString(i.Msg)
	return b.String()
}

// LabelErrors returns the issues that are errors.
func LabelErrors(issues []LabelIssue) []LabelIssue {
	var out []LabelIssue
	for _, i := range issues {
		if !i.Warning {
			out = append(out, i)
		}
	}
	return out
}

// ReadLabelsCSV reads a CSV in the paper's layout (see
// ReadLabelsCSVChecked) and fails on the first error in it.
func ReadLabelsCSV(r io.Reader) ([]CaseLabels, error) {
	labels, issues, err := ReadLabelsCSVChecked(r, "labels CSV")
	if err != nil {
		return nil, err
	}
	if errs := LabelErrors(issues); len(errs) > 0 {
		return nil, fmt.Errorf("cascade: %s (and %d more errors)", errs[0], len(errs)-1)
	}
	return labels, nil
}

// ReadLabelsCSVChecked reads a CSV in the paper's layout (columns found by
// name, case-insensitive, in any order; extra columns ignored; empty cells
// are missing values) and checks every row, naming file in its issues:
// a number that does not parse, a score outside 0-100, a PatID given
// twice, a row without PatID (errors; such a row is not returned), and
// scores not in steps of 5 as the method reports them (a warning). The
// error is for a file that cannot be read as such a CSV at all.
func ReadLabelsCSVChecked(r io.Reader, file string) ([]CaseLabels, []LabelIssue, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, fmt.Errorf("cascade: %s: %w", file, err)
	}
	if len(rows) == 0 {
		return nil, nil, fmt.Errorf("cascade: %s is empty", file)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	pid, ok := col["patid"]
	if !ok {
		return nil, nil, fmt.Errorf("cascade: %s has no PatID column (the paper's layout: %s)", file, strings.Join(CSVHeader()[:3], ","))
	}
	var out []CaseLabels
	var issues []LabelIssue
	seen := map[string]int{}
	for li, row := range rows[1:] {
		line := li + 2
		issue := func(patID string, warning bool, format string, a ...any) {
			issues = append(issues, LabelIssue{File: file, Line: line, PatID: patID, Warning: warning, Msg: fmt.Sprintf(format, a...)})
		}
		if pid >= len(row) || strings.TrimSpace(row[pid]) == "" {
			if strings.TrimSpace(strings.Join(row, "")) != "" {
				issue("", false, "the row has no PatID: not used")
			}
			continue
		}
		c := CaseLabels{PatID: strings.TrimSpace(row[pid]), Line: line}
		if first, dup := seen[c.PatID]; dup {
			issue(c.PatID, false, "PatID given again (first on line %d): not used", first)
			continue
		}
		seen[c.PatID] = line
		bad := false
		var off5 []string
		num := func(name string, score bool) float64 {
			i, ok := col[strings.ToLower(name)]
			if !ok || i >= len(row) || strings.TrimSpace(row[i]) == "" {
				return math.NaN()
			}
			cell := strings.TrimSpace(row[i])
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				issue(c.PatID, false, "%s is %q, not a number", name, cell)
				bad = true
				return math.NaN()
			}
			if score && (v < 0 || v > 100) {
				issue(c.PatID, false, "%s is %s, outside 0-100 (percent of the lung)", name, cell)
				bad = true
			} else if score && math.Abs(v-5*math.Round(v/5)) > 1e-9 {
				off5 = append(off5, name+" "+cell)
			}
			return v
		}
		for i := 0; i < NumLevels; i++ {
			c.Pos[i] = num(fmt.Sprintf("L%d_pos", i+1), false)
			c.TOT[i] = num(fmt.Sprintf("L%d_disext", i+1), true)
			c.GG[i] = num(fmt.Sprintf("L%d_gg", i+1), true)
			c.RET[i] = num(fmt.Sprintf("L%d_retp", i+1), true)
		}
		if len(off5) > 0 {
			issue(c.PatID, true, "not in steps of 5 as readers score: %s (used as given)", strings.Join(off5, ", "))
		}
		if bad {
			continue
		}
		out = append(out, c)
	}
	return out, issues, nil
}
