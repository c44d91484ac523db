package cohort

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"sscscore/model/cohort/cohorttest"
)

// fixture is the test cohort shared by this package's tests (its phantoms
// are generated once).
var fixture struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

// testRoots returns the roots of the shared test cohort (2 phantoms, A0002
// with both kernels, noise).
func testRoots(tb testing.TB) []string {
	tb.Helper()
	if runtime.GOOS == "js" {
		tb.Skip("batch scoring is a native tool (its tests score a cohort several times)")
	}
	fixture.once.Do(func() { fixture.dir, fixture.err = os.MkdirTemp("", "sscscore-cohort-") })
	if fixture.err != nil {
		tb.Fatalf("os.MkdirTemp: got error %v, want nil", fixture.err)
	}
	return cohorttest.Roots(tb, fixture.dir, 2)
}

func TestParseShard(t *testing.T) {
	tests := []struct {
		in      string
		want    Shard
		wantErr bool
	}{
		{"", Shard{}, false},
		{"1/4", Shard{1, 4}, false},
		{" 4 / 4 ", Shard{4, 4}, false},
		{"1/1", Shard{1, 1}, false},
		{"0/4", Shard{}, true},
		{"5/4", Shard{}, true},
		{"2", Shard{}, true},
		{"a/b", Shard{}, true},
		{"1/0", Shard{}, true},
	}
	for _, tc := range tests {
		got, err := ParseShard(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, ErrShard) {
			t.Errorf("ParseShard(%q): got error %v, want ErrShard", tc.in, err)
		}
		if err == nil && tc.in != "" && got.String() != strings.ReplaceAll(tc.in, " ", "") {
			t.Errorf("Shard%v.String() = %q, want %q", got, got.String(), tc.in)
		}
	}
}

// TestShardShare checks that the shards of a cohort hold every study
// exactly once, stably, and in roughly equal shares.
func TestShardShare(t *testing.T) {
	const studies = 400
	for _, n := range []int{1, 2, 4, 7} {
		counts := make([]int, n+1)
		for i := 0; i < studies; i++ {
			key := fmt.Sprintf("1.2.840.%d", i)
			in := 0
			for s := 1; s <= n; s++ {
				if (Shard{s, n}).Has(key) {
					in++
					counts[s]++
					if ShardOf(key, n) != s {
						t.Fatalf("ShardOf(%q, %d) = %d, want %d", key, n, ShardOf(key, n), s)
					}
				}
			}
			if in != 1 {
				t.Fatalf("study %s is in %d of %d shards, want 1", key, in, n)
			}
		}
		for s := 1; s <= n; s++ {
			if want := studies / n; counts[s] < want/2 || counts[s] > want*3/2 {
				t.Errorf("shard %d/%d holds %d of %d studies, want about %d", s, n, counts[s], studies, want)
			}
		}
	}
}

func TestReadJournal(t *testing.T) {
	a := `{"key":"A","study":"A","status":"scored"}` + "\n"
	b := `{"key":"B","study":"B","status":"failed","reason":"r"}` + "\n"
	a2 := `{"key":"A","study":"A","status":"failed","reason":"again"}` + "\n"
	tests := []struct {
		name    string
		in      string
		keys    string
		good    int
		torn    bool
		corrupt bool
		statusA Status
	}{
		{"empty", "", "", 0, false, false, ""},
		{"complete", a + b, "A B", len(a + b), false, false, StatusScored},
		{"torn-prefix", a + b[:20], "A", len(a), true, false, StatusScored},
		{"torn-whole-record-no-newline", a + strings.TrimSuffix(b, "\n"), "A", len(a), true, false, StatusScored},
		{"torn-garbage-last-line", a + "{\"key\":\x00\n", "A", len(a), true, false, StatusScored},
		{"corrupt-middle", a + "not json\n" + b, "", 0, false, true, ""},
		{"no-key", a + `{"study":"A"}` + "\n" + b, "", 0, false, true, ""},
		{"last-wins", a + b + a2, "A B", len(a + b + a2), false, false, StatusFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, good, torn, err := readJournal(strings.NewReader(tc.in), "r.jsonl")
			if tc.corrupt {
				if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "r.jsonl line 2") {
					t.Fatalf("error %v, want ErrCorrupt naming r.jsonl line 2", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			var keys []string
			for _, r := range recs {
				keys = append(keys, r.Key)
				if r.Key == "A" && r.Status != tc.statusA {
					t.Errorf("A has status %q, want %q", r.Status, tc.statusA)
				}
			}
			if got := strings.Join(keys, " "); got != tc.keys || good != int64(tc.good) || torn != tc.torn {
				t.Errorf("keys %q, good %d, torn %v; want %q, %d, %v", got, good, torn, tc.keys, tc.good, tc.torn)
			}
		})
	}
}

// readOutputs returns the CSV and journal of an output.
func readOutputs(t *testing.T, out string) (csv, jsonl []byte) {
	t.Helper()
	p := PathsOf(out)
	var err error
	if csv, err = os.ReadFile(p.CSV); err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if jsonl, err = os.ReadFile(p.Journal); err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	return csv, jsonl
}

// TestRunMerge scores the test cohort with 2 workers, checks every study is
// in the outputs (scored, or failed with its reason), that a second run does
// not overwrite them, and that 3 shards run one job at a time and merged
// give the same bytes; then that Merge refuses missing and duplicated
// shards and jobs.
func TestRunMerge(t *testing.T) {
	roots := testRoots(t)
	dir := t.TempDir()
	ctx := context.Background()
	whole := filepath.Join(dir, "whole.csv")
	sum, err := Run(ctx, Config{Roots: roots, Out: whole, Jobs: 2})
	if err != nil {
		t.Fatalf("Run: got error %v, want nil", err)
	}
	c, err := Discover(ctx, roots, nil)
	if err != nil {
		t.Fatalf("Discover: got error %v, want nil", err)
	}
	if sum.Jobs != len(c.Studies) || sum.Scored+sum.Failed != sum.Jobs || sum.Scored < 4 || sum.Failed < 2 {
		t.Errorf("summary %+v: want %d jobs, at least 4 scored (2 phantoms, A0002, a CT slice) and 2 failed", sum, len(c.Studies))
	}
	csvWhole, jsonWhole := readOutputs(t, whole)
	for _, st := range c.Studies {
		if !bytes.Contains(csvWhole, []byte(","+st.Key+",")) {
			t.Errorf("study %s: got no row in the CSV, want one", st.Key)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(csvWhole)).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(bytes.NewReader(csvWhole)).ReadAll: got error %v, want nil", err)
	}
	h := CSVHeader()
	for _, row := range rows[1:] {
		status, reason := row[len(h)-3], row[len(h)-2]
		if row[0] == "" || (status == string(StatusFailed)) != (reason != "") {
			t.Errorf("row %q: got PatID %q, status %q with reason %q; want a PatID, and a reason exactly when failed", row, row[0], status, reason)
		}
	}
	if !bytes.Contains(csvWhole, []byte("no usable axial CT series")) {
		t.Errorf("got no failed row saying \"no usable axial CT series\", want one:\n%s", csvWhole)
	}
	if _, err := Run(ctx, Config{Roots: roots, Out: whole, Jobs: 2}); !errors.Is(err, ErrExists) {
		t.Errorf("second run into the same outputs: error %v, want ErrExists", err)
	}

	const n = 3
	var shards []string
	for i := 1; i <= n; i++ {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.csv", i))
		if _, err := Run(ctx, Config{Roots: roots, Out: out, Jobs: 1, Shard: Shard{i, n}}); err != nil {
			t.Fatalf("shard %d: got error %v, want nil", i, err)
		}
		shards = append(shards, out)
	}
	merged := filepath.Join(dir, "merged.csv")
	if _, err := Merge(shards, merged); err != nil {
		t.Fatalf("Merge: got error %v, want nil", err)
	}
	csvMerged, jsonMerged := readOutputs(t, merged)
	if !bytes.Equal(csvMerged, csvWhole) || !bytes.Equal(jsonMerged, jsonWhole) {
		t.Errorf("merged shards differ from the single run:\n%s\nwant\n%s", csvMerged, csvWhole)
	}
	mw, _ := os.ReadFile(PathsOf(whole).Manifest)
	mm, _ := os.ReadFile(PathsOf(merged).Manifest)
	if !bytes.Equal(mw, mm) {
		t.Errorf("merged manifest:\n%s\nwant\n%s", mm, mw)
	}

	// A shard whose journal lost a job.
	lost := filepath.Join(dir, "lost.csv")
	big := shards[0]
	for _, s := range shards {
		if m, _ := readManifest(PathsOf(s).Manifest); m != nil && len(m.Keys) > 0 {
			big = s
		}
	}
	copyOutput(t, big, lost, true)
	var others []string
	for _, s := range shards {
		if s != big {
			others = append(others, s)
		}
	}
	tests := []struct {
		name   string
		shards []string
		want   string
	}{
		{"missing-shard", others, "shards missing"},
		{"duplicate-shard", append([]string{big, big}, others...), "given twice"},
		{"missing-job", append([]string{lost}, others...), "misses 1 of its"},
		{"whole-and-shard", []string{whole, big}, "different shard counts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.shards, filepath.Join(dir, tc.name+".csv"))
			if !errors.Is(err, ErrMerge) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Merge: error %v, want ErrMerge saying %q", err, tc.want)
			}
			if _, serr := os.Stat(filepath.Join(dir, tc.name+".csv")); serr == nil {
				t.Errorf("failed merge: got its output written, want none")
			}
		})
	}
}

// copyOutput copies the output src to dst, dropping the journal's first
// record when dropFirst is set.
func copyOutput(t *testing.T, src, dst string, dropFirst bool) {
	t.Helper()
	ps, pd := PathsOf(src), PathsOf(dst)
	for _, f := range [][2]string{{ps.CSV, pd.CSV}, {ps.Journal, pd.Journal}, {ps.Manifest, pd.Manifest}} {
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatalf("os.ReadFile: got error %v, want nil", err)
		}
		if dropFirst && f[0] == ps.Journal {
			if _, rest, ok := bytes.Cut(b, []byte("\n")); ok {
				b = rest
			}
		}
		if err := os.WriteFile(f[1], b, 0o644); err != nil {
			t.Fatalf("os.WriteFile: got error %v, want nil", err)
		}
	}
}

// TestRunAllSeries checks --all-series: A0002's two reconstructions (one
// study) give two rows, one per series, the automatic choice's among them.
func TestRunAllSeries(t *testing.T) {
	roots := testRoots(t)[1:3] // A0002-B40f, A0002-B70f
	out := filepath.Join(t.TempDir(), "all.csv")
	sum, err := Run(context.Background(), Config{Roots: roots, Out: out, AllSeries: true, Jobs: 2})
	if err != nil {
		t.Fatalf("Run: got error %v, want nil", err)
	}
	if sum.Jobs != 2 || sum.Scored != 2 {
		t.Fatalf("summary %+v, want 2 jobs scored", sum)
	}
	_, jsonl := readOutputs(t, out)
	recs, _, _, err := readJournal(bytes.NewReader(jsonl), out)
	if err != nil {
		t.Fatalf("readJournal: got error %v, want nil", err)
	}
	if len(recs) != 2 || recs[0].Study != recs[1].Study || recs[0].Series == recs[1].Series || recs[0].Series >= recs[1].Series {
		t.Fatalf("records %+v, want two series of one study in series order", recs)
	}
	for _, r := range recs {
		if r.Key != r.Study+" "+r.Series || r.Result == nil || r.Result.SeriesUID != r.Series || len(r.Files) != 30 {
			t.Errorf("record %s: series %s, result series %v, %d files; want the key's series scored from its 30 files", r.Key, r.Series, r.Result != nil && r.Result.SeriesUID == r.Series, len(r.Files))
		}
	}
}

// TestDiscoverDICOMDIR checks that a DICOMDIR given as a root stands for
// its folder (the files it lists are found by content), and that files of
// no study are listed with their reason.
func TestDiscoverDICOMDIR(t *testing.T) {
	roots := testRoots(t)
	phantoms := roots[0]
	entries, err := os.ReadDir(phantoms)
	if err != nil || len(entries) == 0 {
		t.Fatalf("phantom folder: got %v, %v; want phantom studies", entries, err)
	}
	dicomdir := filepath.Join(phantoms, "DICOMDIR")
	if err := os.WriteFile(dicomdir, []byte("a media directory"), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	defer os.Remove(dicomdir)
	tests := []struct {
		name  string
		roots []string
	}{
		{"folder", []string{phantoms}},
		{"dicomdir", []string{dicomdir}},
	}
	for _, tc := range tests {
		c, err := Discover(context.Background(), tc.roots, nil)
		if err != nil {
			t.Fatalf("Discover: got error %v, want nil", err)
		}
		if len(c.Studies) != len(entries) {
			t.Errorf("%s: got %d studies, want %d", tc.name, len(c.Studies), len(entries))
		}
		for _, st := range c.Studies {
			if len(st.Series) != 1 || len(st.Files) == 0 || st.PatientID == "" {
				t.Errorf("%s: study %s: got %d series, %d files, PatientID %q; want 1 series, its files and the PatientID", tc.name, st.Key, len(st.Series), len(st.Files), st.PatientID)
			}
		}
		if len(c.Outside) != 1 || c.Outside[0].Path != dicomdir || c.Outside[0].Reason == "" {
			t.Errorf("%s: got outside %+v, want the DICOMDIR with its reason", tc.name, c.Outside)
		}
	}
}
