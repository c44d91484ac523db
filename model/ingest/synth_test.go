package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"sscscore/model/dcmwrite"
	"sscscore/model/volume"
)

// synthSource is a chest-like volume computed slice by slice (nothing is
// held in memory): air outside an elliptic body, soft tissue, two lungs and
// a spine, with deterministic noise. Values stay in [-1024, 3071].
type synthSource struct {
	g volume.Geometry
}

func newSynth(nz, ny, nx int, dz float64) *synthSource {
	g := volume.Geometry{
		Nz: nz, Ny: ny, Nx: nx,
		Spacing:   [3]float64{0.7, 0.7, dz},
		Origin:    [3]float64{-0.35 * float64(nx-1), -0.35 * float64(ny-1), 100},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
	}
	for k := 0; k < nz; k++ {
		g.SliceZ = append(g.SliceZ, 100-dz*float64(k))
	}
	return &synthSource{g: g}
}

func (s *synthSource) Geometry() *volume.Geometry { return &s.g }

func (s *synthSource) Slice(_ context.Context, k int, dst []int16) error {
	ny, nx := s.g.Ny, s.g.Nx
	if k < 0 || k >= s.g.Nz {
		return fmt.Errorf("slice %d out of range", k)
	}
	cy, cx := float64(ny)/2, float64(nx)/2
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			u, v := (float64(x)-cx)/(0.45*float64(nx)), (float64(y)-cy)/(0.35*float64(ny))
			h := uint32(x*73856093^y*19349663^k*83492791) * 2654435761
			noise := int(h>>24) % 41
			val := volume.Air
			switch {
			case u*u+v*v > 1:
			case sq((u-0.45)/0.3)+sq(v/0.7) < 1 || sq((u+0.45)/0.3)+sq(v/0.7) < 1:
				val = -860 + noise
			case sq(u/0.08)+sq((v-0.6)/0.12) < 1:
				val = 700 + 8*noise
			default:
				val = 20 + noise
			}
			dst[y*nx+x] = int16(val)
		}
	}
	return nil
}

func sq(v float64) float64 { return v * v }

// writeSynth writes a synthetic series into dir and returns the source.
func writeSynth(t testing.TB, dir string, nz, ny, nx int, meta dcmwrite.SeriesMeta) *synthSource {
	t.Helper()
	src := newSynth(nz, ny, nx, 1.25)
	if _, err := dcmwrite.WriteSeries(context.Background(), dir, src, meta, nil); err != nil {
		t.Fatalf("dcmwrite.WriteSeries: got error %v, want nil", err)
	}
	return src
}

// benchSeries returns a directory holding a generated series of nz
// 512x512 slices, written once per machine under the OS temp directory
// (about 0.5 MB per slice).
func benchSeries(b testing.TB, nz int) string {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("sscscore-ingest-bench-%d", nz))
	done := dir + ".complete"
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	os.Remove(done)
	src := newSynth(nz, 512, 512, 0.6)
	if _, err := dcmwrite.WriteSeries(context.Background(), dir, src, dcmwrite.SeriesMeta{
		Intercept: -1024, BitsStored: 12, Kernel: "B60f", SeriesDescription: fmt.Sprintf("synthetic %d", nz), UIDSeed: fmt.Sprint("bench", nz),
	}, nil); err != nil {
		b.Fatalf("dcmwrite.WriteSeries: got error %v, want nil", err)
	}
	if err := os.WriteFile(done, []byte("ok\n"), 0o644); err != nil {
		b.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	return dir
}
