package followup

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/cohort"
)

// CohortScan is one scored scan of a batch CSV.
type CohortScan struct {
	PatID string
	// Label is the row's Study column (else "row N"), Line its line in the
	// CSV.
	Label     string
	Line      int
	StudyDate string
	Result    *cascade.Result
}

// PatientChanges are the changes between the consecutive scans of one
// patient.
type PatientChanges struct {
	PatID string `json:"patid"`
	// Order says how the scans were ordered: "study date" or "file order".
	Order       string        `json:"order"`
	Scans       []string      `json:"scans"`
	Comparisons []*Comparison `json:"comparisons"`
}

// CohortChanges are the per-patient change tables of a batch CSV.
type CohortChanges struct {
	Source string `json:"source"`
	// Dates says where the study dates came from (a StudyDate column, the
	// batch's journal beside the CSV, or none).
	Dates    string           `json:"dates"`
	Patients []PatientChanges `json:"patients"`
	// Skipped lists rows left out (failed jobs, rows without PatID) and
	// patients with a single scan, each with the reason.
	Skipped []string `json:"skipped"`
	Limits  Limits   `json:"limits"`
	Note    string   `json:"note"`
}

// ReadCohortCSV reads the scored rows of a batch CSV (`sscscore batch`:
// the paper's layout, then Study, Series, Status, ...; columns found by name
// in any order, as any CSV in the paper's layout), each as a result with
// the positions and scores of its cells. A level with no position is not
// placed; one with a position and no scores is not scored. Failed rows and
// rows without PatID are returned in skipped, with their line.
func ReadCohortCSV(r io.Reader, name string) (scans []CohortScan, skipped []string, hasDates bool, err error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", name, err)
	}
	if len(rows) == 0 {
		return nil, nil, false, fmt.Errorf("%s: empty CSV", name)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	if _, ok := col["patid"]; !ok {
		return nil, nil, false, fmt.Errorf("%s: no PatID column (want the paper's layout, as `sscscore batch` writes it)", name)
	}
	_, hasDates = col["studydate"]
	get := func(row []string, c string) string {
		if i, ok := col[strings.ToLower(c)]; ok && i < len(row) {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	for li, row := range rows[1:] {
		line := li + 2
		s := CohortScan{PatID: get(row, "PatID"), Label: get(row, "Study"), Line: line, StudyDate: get(row, "StudyDate")}
		if s.Label == "" {
			s.Label = fmt.Sprintf("row %d", line)
		}
		switch {
		case s.PatID == "":
			skipped = append(skipped, fmt.Sprintf("%s line %d: no PatID", name, line))
			continue
		case strings.EqualFold(get(row, "Status"), string(cohort.StatusFailed)):
			skipped = append(skipped, fmt.Sprintf("%s line %d (%s): not scored: %s", name, line, s.PatID, get(row, "Reason")))
			continue
		}
		res := &cascade.Result{SeriesUID: get(row, "Series"), Warnings: []string{}}
		for i, ln := range cascade.LevelNames {
			l := cascade.LevelResult{Name: ln, Status: cascade.StatusScored}
			vals := make([]*float64, 4)
			for j, c := range []string{"L%d_pos", "L%d_disext", "L%d_gg", "L%d_retp"} {
				c = fmt.Sprintf(c, i+1)
				v := get(row, c)
				if v == "" {
					continue
				}
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil, nil, false, fmt.Errorf("%s line %d, %s: %q is not a number", name, line, c, v)
				}
				vals[j] = &f
			}
			l.ZMM, l.TOT, l.GG, l.RET = vals[0], vals[1], vals[2], vals[3]
			switch {
			case l.ZMM == nil:
				l.Status, l.Message = cascade.StatusOutside, "no position in the CSV (outside the scan)"
			case l.TOT == nil || l.GG == nil || l.RET == nil:
				l.Status, l.Message = cascade.StatusNoLung, "no scores in the CSV"
			}
			res.Levels = append(res.Levels, l)
		}
		res.Mean = cascade.MeanOf(res.Levels)
		s.Result = res
		scans = append(scans, s)
	}
	return scans, skipped, hasDates, nil
}

// journalDates returns the study dates of the batch's journal beside the
// CSV (NAME.jsonl, whose records hold the full results), by study key; an
// empty map when there is none.
func journalDates(csvPath string) (map[string]string, error) {
	p := cohort.PathsOf(csvPath).Journal
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dates := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec cohort.Record
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue // a line cut by an interrupted run
		}
		if rec.Result != nil && rec.Result.Source != nil && rec.Result.Source.StudyDate != "" {
			dates[rec.Study] = rec.Result.Source.StudyDate
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return dates, nil
}

// CompareCohortFile turns a batch CSV into per-patient change tables: the
// scans of each PatID (in the order the patients first appear) ordered by
// study date when every one has a date (a StudyDate column, else the batch's
// journal NAME.jsonl beside the CSV), else in file order, and each compared
// with the one before.
func CompareCohortFile(csvPath string, opt Options) (*CohortChanges, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	scans, skipped, hasDates, err := ReadCohortCSV(f, csvPath)
	if err != nil {
		return nil, err
	}
	out := &CohortChanges{Source: csvPath, Skipped: skipped, Dates: "the CSV's StudyDate column", Limits: DefaultLimits(), Note: Note}
	if opt.Limits != nil {
		out.Limits = *opt.Limits
	}
	if !hasDates {
		dates, err := journalDates(csvPath)
		if err != nil {
			return nil, err
		}
		out.Dates = "none (no StudyDate column and no " + cohort.PathsOf(csvPath).Journal + ")"
		if len(dates) > 0 {
			out.Dates = "the batch journal " + cohort.PathsOf(csvPath).Journal
			for i := range scans {
				scans[i].StudyDate = dates[scans[i].Label]
			}
		}
	}
	if out.Skipped == nil {
		out.Skipped = []string{}
	}
	byPat := map[string][]CohortScan{}
	var order []string
	for _, s := range scans {
		if _, ok := byPat[s.PatID]; !ok {
			order = append(order, s.PatID)
		}
		byPat[s.PatID] = append(byPat[s.PatID], s)
	}
	for _, id := range order {
		ss := byPat[id]
		if len(ss) < 2 {
			out.Skipped = append(out.Skipped, fmt.Sprintf("%s: a single scored scan (line %d), nothing to compare", id, ss[0].Line))
			continue
		}
		pc := PatientChanges{PatID: id, Order: "file order", Comparisons: []*Comparison{}}
		dated := true
		for _, s := range ss {
			dated = dated && len(s.StudyDate) == 8
		}
		if dated {
			pc.Order = "study date"
			sort.SliceStable(ss, func(i, j int) bool { return ss[i].StudyDate < ss[j].StudyDate })
		}
		for i, s := range ss {
			pc.Scans = append(pc.Scans, s.Label)
			if i == 0 {
				continue
			}
			p := ss[i-1]
			// One PatID: the identity check is the PatID itself.
			pat := &cascade.Patient{ID: id}
			c, err := Compare(Input{Label: p.Label, Result: p.Result, Patient: pat, StudyDate: p.StudyDate},
				Input{Label: s.Label, Result: s.Result, Patient: pat, StudyDate: s.StudyDate}, opt)
			if err != nil {
				return nil, err
			}
			pc.Comparisons = append(pc.Comparisons, c)
		}
		out.Patients = append(out.Patients, pc)
	}
	return out, nil
}

// WriteCSV writes every comparison of the cohort as rows of the change
// table (CSVHeader), patient by patient.
func (cc *CohortChanges) WriteCSV(w io.Writer) error {
	var cs []*Comparison
	var ids []string
	for _, p := range cc.Patients {
		for _, c := range p.Comparisons {
			cs = append(cs, c)
			ids = append(ids, p.PatID)
		}
	}
	return WriteCSV(w, cs, ids)
}

// WriteText writes the per-patient change tables for a terminal.
func (cc *CohortChanges) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: %d patients with two or more scans; study dates from %s\n", cc.Source, len(cc.Patients), cc.Dates)
	for _, p := range cc.Patients {
		fmt.Fprintf(w, "\n== %s: %d scans in %s order\n", p.PatID, len(p.Scans), p.Order)
		for _, c := range p.Comparisons {
			if err := c.WriteText(w); err != nil {
				return err
			}
		}
	}
	for _, s := range cc.Skipped {
		fmt.Fprintln(w, "skipped:", s)
	}
	return nil
}
