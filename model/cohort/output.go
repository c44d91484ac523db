package cohort

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ManifestFormat names the layout of the manifest and results files.
const ManifestFormat = "sscscore-batch/1"

// File name suffixes of a run's outputs, after the CSV's stem.
const (
	journalSuffix  = ".jsonl"
	manifestSuffix = ".manifest.json"
	csvSuffix      = ".csv"
)

// Paths names the three files of one output.
type Paths struct {
	CSV, Journal, Manifest string
}

// PathsOf returns the files of the output named by its CSV path (".csv"
// added when missing): NAME.csv, NAME.jsonl and NAME.manifest.json.
func PathsOf(out string) Paths {
	stem := strings.TrimSuffix(out, csvSuffix)
	return Paths{CSV: stem + csvSuffix, Journal: stem + journalSuffix, Manifest: stem + manifestSuffix}
}

// Manifest describes an output: which cohort it belongs to and which jobs
// it holds, so that Merge can check the shards.
type Manifest struct {
	Format    string   `json:"format"`
	Roots     []string `json:"roots"`
	AllSeries bool     `json:"all_series"`
	// Shard is "i/n", or "" for a whole cohort (a single run or a merge).
	Shard string `json:"shard,omitempty"`
	// CohortJobs counts the jobs of the whole cohort (every shard) and
	// CohortSHA256 identifies their keys.
	CohortJobs   int    `json:"cohort_jobs"`
	CohortSHA256 string `json:"cohort_sha256"`
	// Keys are the keys of the jobs of this output, sorted.
	Keys []string `json:"keys"`
	// Outside lists the files under the roots that belong to no study.
	Outside []Outside `json:"outside"`
}

// newManifest describes the jobs of shard sh of cohort c.
func newManifest(c *Cohort, allSeries bool, sh Shard) *Manifest {
	all := c.Jobs(allSeries, Shard{})
	m := &Manifest{Format: ManifestFormat, Roots: c.Roots, AllSeries: allSeries, Shard: sh.String(),
		CohortJobs: len(all), CohortSHA256: keysHash(all), Outside: c.Outside}
	if m.Outside == nil {
		m.Outside = []Outside{}
	}
	m.Keys = []string{}
	for _, j := range c.Jobs(allSeries, sh) {
		m.Keys = append(m.Keys, j.Key())
	}
	slices.Sort(m.Keys)
	return m
}

// keysHash identifies a set of jobs by their keys (in order).
func keysHash(jobs []Job) string {
	h := sha256.New()
	for _, j := range jobs {
		h.Write([]byte(j.Key()))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readManifest reads the manifest at path.
func readManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("cohort: %s: %w", path, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("cohort: %s: format %q, want %q", path, m.Format, ManifestFormat)
	}
	return &m, nil
}

// writeManifest writes m to path atomically.
func writeManifest(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("cohort: manifest: %w", err)
	}
	return writeAtomic(path, append(b, '\n'))
}

// csvBytes renders records as the batch CSV.
func csvBytes(recs []*Record) ([]byte, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(CSVHeader())
	for _, r := range recs {
		cw.Write(r.CSVRecord())
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return nil, fmt.Errorf("cohort: CSV: %w", err)
	}
	return buf.Bytes(), nil
}

// writeOutputs writes the final, sorted CSV and journal of recs and the
// manifest, each atomically (a kill leaves either the old file or the new).
func writeOutputs(p Paths, m *Manifest, recs []*Record) error {
	sortRecords(recs)
	var jb bytes.Buffer
	if err := writeRecords(&jb, recs); err != nil {
		return err
	}
	cb, err := csvBytes(recs)
	if err != nil {
		return err
	}
	if err := writeAtomic(p.Journal, jb.Bytes()); err != nil {
		return err
	}
	if err := writeAtomic(p.CSV, cb); err != nil {
		return err
	}
	return writeManifest(p.Manifest, m)
}

// writeAtomic writes b to a temporary file beside path, syncs it and
// renames it over path.
func writeAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cohort: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("cohort: writing %s: %w", path, werr)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable (best effort: not every system
// can sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// exists reports whether path exists.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cohort: %w", err)
	}
	return true, nil
}

// journal appends records to the JSON-lines file and rows to the CSV as
// scans finish; each record is synced to disk before the next.
type journal struct {
	jf, cf *os.File
	cw     *csv.Writer
}

// openJournal opens p's journal for appending at length good (cutting a
// torn last line) and rewrites the CSV with recs, sorted, ready for rows
// to be appended.
func openJournal(p Paths, good int64, recs []*Record) (*journal, error) {
	jf, err := os.OpenFile(p.Journal, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	if err := jf.Truncate(good); err != nil {
		jf.Close()
		return nil, fmt.Errorf("cohort: %s: %w", p.Journal, err)
	}
	if _, err := jf.Seek(good, 0); err != nil {
		jf.Close()
		return nil, fmt.Errorf("cohort: %s: %w", p.Journal, err)
	}
	sortRecords(recs)
	cb, err := csvBytes(recs)
	if err == nil {
		err = writeAtomic(p.CSV, cb)
	}
	if err != nil {
		jf.Close()
		return nil, err
	}
	cf, err := os.OpenFile(p.CSV, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		jf.Close()
		return nil, fmt.Errorf("cohort: %w", err)
	}
	return &journal{jf: jf, cf: cf, cw: csv.NewWriter(cf)}, nil
}

// add appends r to the journal (synced) and its row to the CSV.
func (j *journal) add(r *Record) error {
	b, err := marshalRecord(r)
	if err != nil {
		return err
	}
	if _, err := j.jf.Write(b); err != nil {
		return fmt.Errorf("cohort: %s: %w", j.jf.Name(), err)
	}
	if err := j.jf.Sync(); err != nil {
		return fmt.Errorf("cohort: %s: %w", j.jf.Name(), err)
	}
	j.cw.Write(r.CSVRecord())
	j.cw.Flush()
	if err := j.cw.Error(); err != nil {
		return fmt.Errorf("cohort: %s: %w", j.cf.Name(), err)
	}
	return nil
}

// close closes both files.
func (j *journal) close() error {
	err := j.jf.Close()
	if cerr := j.cf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("cohort: %w", err)
	}
	return nil
}
