// Package cohorttest lays out small cohorts on disk for the tests and
// benchmarks of batch scoring: phantom studies generated on the spot, the
// shared real scans and noise from the shared robustness corpus (read in
// place, never copied).
package cohorttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sscscore/model/phantom"
	"sscscore/model/shareddata"
)

// FirstSeed is the seed of the first phantom of a test cohort.
const FirstSeed = 9001

// TestOptions are the phantoms of a test cohort: 8 mm slices of 256².
var TestOptions = phantom.Options{Disease: true, SliceSpacing: phantom.Range{Min: 8, Max: 8}, Matrix: 256}

// Phantoms writes n phantom studies of TestOptions (rendered at the demo's
// reduced quality: a second or two each) into dir/<PatID>/ and returns their
// folders. The same seed gives the same files.
func Phantoms(ctx context.Context, dir string, n int, seed int64) ([]string, error) {
	return PhantomsWith(ctx, dir, n, seed, TestOptions)
}

// PhantomsWith is Phantoms with other options (the rendering quality stays
// reduced: it changes the images' detail, not the cost of scoring them).
func PhantomsWith(ctx context.Context, dir string, n int, seed int64, opt phantom.Options) ([]string, error) {
	var out []string
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("COH%d-%03d", seed, i+1)
		p := phantom.New(seed+int64(i), opt)
		p.Quality = phantom.Quality{MaxSubSlices: 1, Downsample: 2, FieldStep: 4}
		d := filepath.Join(dir, id)
		if _, err := p.WriteDICOM(ctx, d, id, nil); err != nil {
			return nil, fmt.Errorf("cohorttest: %s: %w", id, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Noise are the files of the shared robustness corpus and slices a test
// cohort mixes in: a localizer, a coronal reformat, an MR image, truncated
// and malformed files, a one-slice CT and licence texts.
var Noise = []string{
	"robustness/misc-edge",
	"robustness/pydicom-edge/MR_truncated.dcm",
	"robustness/pydicom-edge/CT_small.dcm",
	"robustness/pydicom-edge/rtplan_truncated.dcm",
	"robustness/pydicom-edge/LICENSE_pydicom.txt",
	"slices/A048383_coronal_19010410-052.dcm",
}

// Roots returns the roots of a test cohort: n phantoms written under dir
// (phantoms/), the shared real scan A0002 (both kernels: one study of two
// series) and the Noise. It skips the test when the shared data is missing
// (fails in CI).
func Roots(tb testing.TB, dir string, n int) []string {
	tb.Helper()
	td := shareddata.Root(tb, "chest-ct", "robustness", "slices")
	ph := filepath.Join(dir, "phantoms")
	if _, err := os.Stat(ph); err != nil {
		if _, err := Phantoms(context.Background(), ph, n, FirstSeed); err != nil {
			tb.Fatal(err)
		}
	}
	roots := []string{ph, filepath.Join(td, "chest-ct", "A0002-B40f"), filepath.Join(td, "chest-ct", "A0002-B70f")}
	for _, n := range Noise {
		roots = append(roots, filepath.Join(td, n))
	}
	return roots
}
