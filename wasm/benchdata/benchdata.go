// Package benchdata makes the generated scans of the benchmarks: a
// 300-slice 512x512 phantom series written as DICOM files, the size of a
// thin-slice clinical chest CT. The files are made once and kept in the
// system's temporary directory (never in the repository).
package benchdata

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"sscscore/model/dcmwrite"
	"sscscore/model/phantom"
)

// Phantom300Slices is the number of slices of the generated series.
const Phantom300Slices = 300

// Phantom300 returns the folder of the generated 300-slice series, making it
// first if need be.
func Phantom300(ctx context.Context) (string, error) {
	dir := filepath.Join(os.TempDir(), "sscscore-bench-phantom300-v1")
	if ents, err := os.ReadDir(dir); err == nil && len(ents) == Phantom300Slices {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "sscscore-bench-phantom300-tmp")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	p := phantom.New(300, phantom.Options{
		Disease: true, Severity: 0.3, Matrix: 512,
		PixelSpacing: phantom.Range{Min: 0.7, Max: 0.7}, SliceSpacing: phantom.Range{Min: 1, Max: 1},
		Signed: 2,
	})
	g := phantom.Resample(p.Geometry(), 512, 512, Phantom300Slices)
	meta := dcmwrite.SeriesMeta{
		PatientID: "BENCH300", PatientName: "Bench^Phantom300",
		SeriesDescription: "sscscore benchmark phantom, 300 slices", Kernel: "B40f",
		Signed: true, Intercept: -1024, Slope: 1, UIDSeed: "sscscore-bench-phantom300-v1",
	}
	if _, err := dcmwrite.WriteSeries(ctx, tmp, p.Source(g), meta, nil); err != nil {
		return "", fmt.Errorf("benchdata: %w", err)
	}
	os.RemoveAll(dir)
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("benchdata: %w", err)
	}
	return dir, nil
}
