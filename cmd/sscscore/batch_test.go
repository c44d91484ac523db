package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/cohort"
	"sscscore/model/cohort/cohorttest"
)

// testMainEnv makes the test binary run as sscscore (TestMain), so that
// tests can run the CLI as a process: killed half-way, or as Slurm jobs.
const testMainEnv = "SSCSCORE_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(testMainEnv) == "1" {
		os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
	}
	code := m.Run()
	if batchFixture.dir != "" {
		os.RemoveAll(batchFixture.dir)
	}
	os.Exit(code)
}

// batchFixture is the test cohort of this package's batch tests and its
// uninterrupted single-process run (made once).
var batchFixture struct {
	once  sync.Once
	dir   string
	roots []string
	ref   string // the reference run's CSV
	err   string
}

// cohortRun returns the roots of the test cohort (2 phantoms, A0002 with
// both kernels, noise) and the CSV of its reference run (`batch --jobs 2`).
func cohortRun(t *testing.T) (roots []string, ref string) {
	t.Helper()
	f := &batchFixture
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "sscscore-batch-")
		if err != nil {
			f.err = err.Error()
			return
		}
		f.dir = dir
		f.roots = cohorttest.Roots(t, dir, 2)
		f.ref = filepath.Join(dir, "ref.csv")
		args := append([]string{"batch", "-q", "--jobs", "2", "--out", f.ref}, f.roots...)
		if _, errs, code := run(t, args...); code != 0 {
			f.err = errs
		}
	})
	if f.err != "" {
		t.Fatalf("reference run: got %s, want success", f.err)
	}
	if f.roots == nil {
		t.Skip("no test cohort (see the first test that asked for it)")
	}
	return f.roots, f.ref
}

// readRecords reads the journal of the output named by its CSV.
func readRecords(t *testing.T, out string) []*cohort.Record {
	t.Helper()
	f, err := os.Open(cohort.PathsOf(out).Journal)
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	var recs []*cohort.Record
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r cohort.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: got error %v, want nil", out, err)
		}
		recs = append(recs, &r)
	}
	return recs
}

// TestBatchMatchesScore checks that each row of a batch run equals what
// `sscscore score --csv` writes for that study alone (its files given as
// the paths), and that a study batch could not score fails alone with the
// same reason.
func TestBatchMatchesScore(t *testing.T) {
	_, ref := cohortRun(t)
	b, err := os.ReadFile(ref)
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(bytes.NewReader(b)).ReadAll: got error %v, want nil", err)
	}
	paper := len(cascade.CSVHeader())
	recs := readRecords(t, ref)
	if len(recs) != len(rows)-1 || len(recs) < 6 {
		t.Fatalf("%d records and %d CSV rows, want equal and at least 6", len(recs), len(rows)-1)
	}
	scored := 0
	for i, r := range recs {
		row := rows[i+1]
		if row[paper] != r.Study {
			t.Fatalf("CSV row %d: got study %s, want %s (journal line %d): the same order", i+1, row[paper], r.Study, i+1)
		}
		var paths []string
		paths = append(paths, r.Files...)
		for _, l := range r.LeftOut {
			paths = append(paths, l.Path)
		}
		out, errs, code := run(t, append([]string{"score", "--csv", "-q"}, paths...)...)
		switch r.Status {
		case cohort.StatusScored:
			scored++
			if code != 0 {
				t.Errorf("study %s: score alone got %s, want it scored as batch did", r.Study, errs)
				continue
			}
			single, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(single) != 2 {
				t.Fatalf("score --csv: got %q (%v), want a header and a row", out, err)
			}
			if got, want := strings.Join(row[:paper], ","), strings.Join(single[1], ","); got != want {
				t.Errorf("study %s:\nbatch row got  %s\nscore row want %s", r.Study, got, want)
			}
		case cohort.StatusFailed:
			if code == 0 || !strings.Contains(strings.Join(strings.Fields(errs), " "), r.Reason) {
				t.Errorf("study %s: score alone got exit %d, %s; want a failure saying %q as batch did", r.Study, code, errs, r.Reason)
			}
		default:
			t.Errorf("study %s: got status %q, want scored or failed", r.Study, r.Status)
		}
	}
	if scored < 4 {
		t.Errorf("%d studies scored, want at least 4 (2 phantoms, A0002, a CT slice)", scored)
	}
}

// TestBatchKillResume kills a batch run (SIGKILL) after its first results,
// adds the torn line a kill in the middle of a write leaves, and checks
// that --resume scores only what is missing and ends with the outputs of
// an uninterrupted run, byte for byte.
func TestBatchKillResume(t *testing.T) {
	roots, ref := cohortRun(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("os.Executable: got error %v, want nil", err)
	}
	out := filepath.Join(t.TempDir(), "killed.csv")
	p := cohort.PathsOf(out)
	cmd := exec.Command(exe, append([]string{"batch", "-q", "--jobs", "1", "--out", out}, roots...)...)
	cmd.Env = append(os.Environ(), testMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("cmd.Start: got error %v, want nil", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if b, _ := os.ReadFile(p.Journal); bytes.Count(b, []byte("\n")) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("got no results after 2 minutes (%s), want some", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("cmd.Process.Signal: got error %v, want nil", err)
	}
	cmd.Wait()
	before := bytes.Count(mustRead(t, p.Journal), []byte("\n"))
	total := len(readRecords(t, ref))
	if before >= total {
		t.Fatalf("got %d of %d results before the kill, want fewer: the run finished first", before, total)
	}
	// The start of a record cut by the kill.
	f, err := os.OpenFile(p.Journal, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("os.OpenFile: got error %v, want nil", err)
	}
	f.WriteString(`{"key":"1.2.3","study":"1.2.3","series_uid":"1.2.3.4","patid":"P`)
	f.Close()

	sout, errs, code := run(t, append([]string{"batch", "-q", "--resume", "--jobs", "2", "--out", out}, roots...)...)
	if code != 0 {
		t.Fatalf("resume: got exit %d: %s, want 0", code, errs)
	}
	if !strings.Contains(sout, "from earlier runs") {
		t.Errorf("resume summary: got %q, want it to count the results \"from earlier runs\"", sout)
	}
	rp := cohort.PathsOf(ref)
	for _, pair := range [][2]string{{p.CSV, rp.CSV}, {p.Journal, rp.Journal}} {
		if got, want := mustRead(t, pair[0]), mustRead(t, pair[1]); !bytes.Equal(got, want) {
			t.Errorf("%s after kill and resume differs from the uninterrupted run:\n%s\nwant\n%s", filepath.Base(pair[0]), got, want)
		}
	}
	t.Logf("killed after %d of %d results; resumed to the same outputs", before, total)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	return b
}

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		out  string
		pos  string
	}{
		{[]string{"a", "b", "--out", "r.csv"}, "r.csv", "a b"},
		{[]string{"--out", "r.csv", "a"}, "r.csv", "a"},
		{[]string{"a", "--out=r.csv", "b"}, "r.csv", "a b"},
		{[]string{"a", "--", "--out"}, "", "a --out"},
	}
	for _, tc := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		out := fs.String("out", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || *out != tc.out || strings.Join(pos, " ") != tc.pos {
			t.Errorf("parseInterspersed(%q) = %q, out %q, %v; want %q, out %q", tc.args, pos, *out, err, tc.pos, tc.out)
		}
	}
}
