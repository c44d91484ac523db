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
	PatID        string
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

// ReadLabelsCSV reads a CSV in the paper's layout (columns found by name,
// case-insensitive, in any order; extra columns ignored; empty cells are
// missing values).
func ReadLabelsCSV(r io.Reader) ([]CaseLabels, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("cascade: labels CSV: %w", err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("cascade: labels CSV is empty")
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	pid, ok := col["patid"]
	if !ok {
		return nil, fmt.Errorf("cascade: labels CSV has no PatID column")
	}
	num := func(row []string, name string, line int) (float64, error) {
		i, ok := col[strings.ToLower(name)]
		if !ok || i >= len(row) || strings.TrimSpace(row[i]) == "" {
			return math.NaN(), nil
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(row[i]), 64)
		if err != nil {
			return 0, fmt.Errorf("cascade: labels CSV line %d, %s: %w", line, name, err)
		}
		return v, nil
	}
	var out []CaseLabels
	for li, row := range rows[1:] {
		line := li + 2
		if pid >= len(row) || strings.TrimSpace(row[pid]) == "" {
			continue
		}
		c := CaseLabels{PatID: strings.TrimSpace(row[pid])}
		for i := 0; i < NumLevels; i++ {
			var err error
			if c.Pos[i], err = num(row, fmt.Sprintf("L%d_pos", i+1), line); err != nil {
				return nil, err
			}
			if c.TOT[i], err = num(row, fmt.Sprintf("L%d_disext", i+1), line); err != nil {
				return nil, err
			}
			if c.GG[i], err = num(row, fmt.Sprintf("L%d_gg", i+1), line); err != nil {
				return nil, err
			}
			if c.RET[i], err = num(row, fmt.Sprintf("L%d_retp", i+1), line); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}
