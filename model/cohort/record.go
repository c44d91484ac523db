package cohort

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/ingest"
)

// Status says whether a job was scored.
type Status string

// Job outcomes.
const (
	// StatusScored: the study (or series) was scored; the row holds its
	// scores.
	StatusScored Status = "scored"
	// StatusFailed: it could not be scored; Reason says why.
	StatusFailed Status = "failed"
)

// Record is the outcome of one job: one line of the JSON-lines file and one
// row of the CSV.
type Record struct {
	// Key identifies the job (Job.Key).
	Key string `json:"key"`
	// Study is the study key; Series the UID of the series scored (or
	// named), "" when none could be.
	Study  string `json:"study"`
	Series string `json:"series_uid"`
	// PatID is the CSV's PatID column (the DICOM PatientID, else the
	// series UID, else the study key).
	PatID  string `json:"patid"`
	Status Status `json:"status"`
	// Reason says why a failed job failed.
	Reason string `json:"reason,omitempty"`
	// ChosenWhy says why the series was chosen (automatic choice).
	ChosenWhy string `json:"chosen_why,omitempty"`
	// Files are the files of the scored series; LeftOut the study's other
	// files with the reason each was not used.
	Files   []string   `json:"files"`
	LeftOut []FileNote `json:"left_out,omitempty"`
	// Input is the study's Fingerprint when it was scored.
	Input string `json:"input_sha256"`
	// Result is the cascade's result (nil when the job failed): levels,
	// scores, model, warnings.
	Result *cascade.Result `json:"result,omitempty"`
	// Model is the cascade's provenance (the weights' SHA-256), also when
	// the job failed.
	Model cascade.ModelInfo `json:"model"`
	// Build is the sscscore build that wrote the record.
	Build buildinfo.Info `json:"build"`
}

// FileNote is a file of the study left out of the scan, and why.
type FileNote struct {
	Path   string        `json:"path"`
	Status ingest.Status `json:"status"`
	Reason string        `json:"reason"`
}

// Extra columns of the CSV after the paper's layout.
var extraColumns = []string{"Study", "Series", "Status", "Reason", "Warnings"}

// CSVHeader is the header of the batch CSV: the paper's layout
// (cascade.CSVHeader) followed by Study, Series, Status, Reason (why a job
// failed) and Warnings (the result's, such as a level outside the scan).
func CSVHeader() []string { return append(cascade.CSVHeader(), extraColumns...) }

// CSVRecord returns the record's CSV row: the paper's columns as `sscscore
// score --csv` writes them (empty for a failed job), then the extra ones.
func (r *Record) CSVRecord() []string {
	var row []string
	warnings := ""
	if r.Result != nil {
		row = r.Result.CSVRecord(r.PatID)
		warnings = oneLine(strings.Join(r.Result.Warnings, "; "))
	} else {
		row = make([]string, len(cascade.CSVHeader()))
		row[0] = r.PatID
	}
	return append(row, r.Study, r.Series, string(r.Status), r.Reason, warnings)
}

// sortRecords orders records by study, then series.
func sortRecords(recs []*Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.Study != b.Study {
			return a.Study < b.Study
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Series < b.Series
	})
}

// marshalRecord returns the record as one JSON line (with its newline).
func marshalRecord(r *Record) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("cohort: record %s: %w", r.Key, err)
	}
	return append(b, '\n'), nil
}

// ErrCorrupt reports a journal line that is not a record, other than a torn
// last line.
var ErrCorrupt = errors.New("cohort: corrupt results file")

// readJournal reads the records of a JSON-lines file. A last line that is
// not complete (no newline, or not a record: the write a kill interrupted)
// is dropped and good is the length of the file without it; any other bad
// line is an error naming its line. A key recorded twice keeps its last
// record.
func readJournal(r io.Reader, name string) (recs []*Record, good int64, torn bool, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	byKey := map[string]int{}
	line := 0
	for {
		b, rerr := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			complete := b[len(b)-1] == '\n'
			var rec Record
			uerr := json.Unmarshal(bytes.TrimSpace(b), &rec)
			if uerr == nil && rec.Key == "" {
				uerr = errors.New("no key")
			}
			switch {
			case complete && uerr == nil:
				if i, ok := byKey[rec.Key]; ok {
					recs[i] = &rec
				} else {
					byKey[rec.Key] = len(recs)
					recs = append(recs, &rec)
				}
				good += int64(len(b))
			case rerr == io.EOF || isLastLine(br):
				return recs, good, true, nil
			default:
				return nil, 0, false, fmt.Errorf("%w: %s line %d: %v", ErrCorrupt, name, line, uerr)
			}
		}
		if rerr == io.EOF {
			return recs, good, false, nil
		}
		if rerr != nil {
			return nil, 0, false, fmt.Errorf("cohort: reading %s: %w", name, rerr)
		}
	}
}

// isLastLine reports whether nothing but white space follows in br.
func isLastLine(br *bufio.Reader) bool {
	rest, _ := io.ReadAll(br)
	return len(bytes.TrimSpace(rest)) == 0
}

// writeRecords writes recs as JSON lines.
func writeRecords(w io.Writer, recs []*Record) error {
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		b, err := marshalRecord(r)
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	return bw.Flush()
}

// noteFiles splits the inventory's files into those of series uid and the
// others with their reasons.
func noteFiles(inv *ingest.Inventory, uid string) (used []string, left []FileNote) {
	if inv == nil {
		return nil, nil
	}
	for _, f := range inv.Files {
		if uid != "" && f.Series == uid && (f.Status == ingest.Accepted || f.Status == ingest.Decoded) {
			used = append(used, f.Path)
			continue
		}
		reason := f.Reason
		if reason == "" && f.Series != "" {
			reason = "belongs to series " + f.Series
		}
		left = append(left, FileNote{Path: f.Path, Status: f.Status, Reason: reason})
	}
	return used, left
}

// keysOf returns the keys of recs, sorted.
func keysOf(recs []*Record) []string {
	keys := make([]string, len(recs))
	for i, r := range recs {
		keys[i] = r.Key
	}
	slices.Sort(keys)
	return keys
}

// oneLine flattens an error message for a CSV cell and a log line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
