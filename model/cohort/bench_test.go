package cohort

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"sscscore/model/cohort/cohorttest"
	"sscscore/model/phantom"
)

// benchStudies is the size of the benchmark cohort.
const benchStudies = 6

// benchCohort returns the folder of the benchmark cohort: benchStudies
// phantoms of 512² on 5 mm slices (about 60-80 slices each), generated once
// into $TMPDIR and kept for later runs.
func benchCohort(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("sscscore-bench-cohort-v1-%d", benchStudies))
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	opt := phantom.Options{Disease: true, SliceSpacing: phantom.Range{Min: 5, Max: 5}, Matrix: 512}
	if _, err := cohorttest.PhantomsWith(context.Background(), dir, benchStudies, 7001, opt); err != nil {
		b.Fatalf("cohorttest.PhantomsWith: got error %v, want nil", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "done"), nil, 0o644); err != nil {
		b.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	return dir
}

// BenchmarkCohortThroughput scores the benchmark cohort three ways, side by
// side in each iteration, and reports the scans per minute of each and the
// ratios the issue asks for:
//
//	serial-1core  one scan at a time on one core (GOMAXPROCS=1)
//	serial-all    one scan at a time, its networks on every core
//	jobs2         two scans at a time (Jobs 2), one core each
//
// Each run includes the header pass and writing the outputs, as `sscscore
// batch` does.
func BenchmarkCohortThroughput(b *testing.B) {
	dir := benchCohort(b)
	cores := runtime.GOMAXPROCS(0)
	modes := []struct {
		name    string
		procs   int
		jobs    int
		threads int
	}{
		{"serial-1core", 1, 1, 1},
		{"serial-all", cores, 1, cores},
		{"jobs2", cores, 2, 1},
	}
	rate := make([]float64, len(modes))
	n := 0
	for b.Loop() {
		for i, m := range modes {
			out := filepath.Join(b.TempDir(), m.name+".csv")
			prev := runtime.GOMAXPROCS(m.procs)
			t0 := time.Now()
			sum, err := Run(context.Background(), Config{Roots: []string{dir}, Out: out, Jobs: m.jobs, Threads: m.threads})
			el := time.Since(t0)
			runtime.GOMAXPROCS(prev)
			if err != nil {
				b.Fatalf("got error %v, want nil", err)
			}
			if sum.Scored != benchStudies {
				b.Fatalf("%s: got %d studies scored, want %d", m.name, sum.Scored, benchStudies)
			}
			rate[i] += float64(sum.Scored) / el.Minutes()
		}
		n++
	}
	for i, m := range modes {
		rate[i] /= float64(n)
		b.ReportMetric(rate[i], "scans/min-"+m.name)
	}
	b.ReportMetric(rate[2]/rate[0], "x-jobs2/serial-1core")
	b.ReportMetric(rate[2]/rate[1], "x-jobs2/serial-all")
}
