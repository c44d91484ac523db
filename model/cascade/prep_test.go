package cascade

import (
	"context"
	"math"
	"testing"

	"sscscore/model/volume"
)

func TestBoxWeights(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		c0      float64
		step    float64
		ns      int
		total   float64 // sum of weights + outside of every cell
		outside float64 // total outside weight
	}{
		{"aligned 4 to 1", 4, 1.5, 4, 16, 16, 0},
		{"half outside", 2, -0.5, 2, 2, 4, 2},
		{"fractional", 3, 0.7, 1.3, 10, 3.9, 0},
	}
	for _, tc := range tests {
		cs := boxWeights(tc.n, tc.c0, tc.step, tc.ns)
		var tot, out float64
		for _, c := range cs {
			for _, w := range c.w {
				tot += float64(w)
			}
			tot += float64(c.outside)
			out += float64(c.outside)
		}
		if math.Abs(tot-tc.total) > 1e-4 || math.Abs(out-tc.outside) > 1e-4 {
			t.Errorf("%s: total %v outside %v, want %v %v", tc.name, tot, out, tc.total, tc.outside)
		}
	}
}

// rampSource is a synthetic scan whose slices are constant, HU = z.
type rampSource struct{ g volume.Geometry }

func (r *rampSource) Geometry() *volume.Geometry { return &r.g }
func (r *rampSource) Slice(_ context.Context, k int, dst []int16) error {
	v := int16(math.Round(r.g.SliceZ[k]))
	for i := range dst[:r.g.Nx*r.g.Ny] {
		dst[i] = v
	}
	return nil
}

func newRamp(nz int, dz, px float64) *rampSource {
	g := volume.Geometry{Nz: nz, Ny: 64, Nx: 64, Spacing: [3]float64{px, px, dz}, SliceZ: make([]float64, nz)}
	for k := range g.SliceZ {
		g.SliceZ[k] = 100 - float64(k)*dz
	}
	return &rampSource{g}
}

func TestBuildCoarseInterpolates(t *testing.T) {
	for _, dz := range []float64{0.625, 1.25, 3, 5, 8} {
		src := newRamp(int(200/dz)+1, dz, 8) // 512 mm field: the grid is inside
		co, err := BuildCoarse(context.Background(), src, nil)
		if err != nil {
			t.Fatalf("BuildCoarse: got error %v, want nil", err)
		}
		n := CoarseWide * CoarseWide
		for j := 1; j < co.Nz-1; j++ {
			v := co.HU[j*n+n/2+CoarseWide/2]
			want := co.ZOf(float64(j))
			if dz <= CoarseMM && math.Abs(float64(v)-want) > 0.6 {
				t.Errorf("dz %v: coarse slice %d: got %.2f, want %.1f ± 0.6 (its z)", dz, j, v, want)
			}
			if dz > CoarseMM && math.Abs(float64(v)-want) > 0.6 {
				t.Errorf("dz %v: linear interpolation at z %.1f: got %.2f, want %.1f ± 0.6", dz, want, v, want)
			}
		}
	}
}

func TestCoarseOutsideImageIsAir(t *testing.T) {
	// A 64 x 64 image of 1 mm pixels covers only the central 64 mm of the
	// 512 mm grid: the rest must be air.
	src := newRamp(20, 4, 1)
	co, err := BuildCoarse(context.Background(), src, nil)
	if err != nil {
		t.Fatalf("BuildCoarse: got error %v, want nil", err)
	}
	if v := co.HU[0]; v != volume.Air {
		t.Errorf("corner cell = %v, want air", v)
	}
	c := CoarseWide/2*CoarseWide + CoarseWide/2
	if v := co.HU[c]; math.Abs(float64(v)-100) > 0.5 {
		t.Errorf("centre cell = %v, want 100", v)
	}
}

func TestLevelsInputPadding(t *testing.T) {
	src := newRamp(30, 4, 4)
	co, err := BuildCoarse(context.Background(), src, nil)
	if err != nil {
		t.Fatalf("BuildCoarse: got error %v, want nil", err)
	}
	x := co.LevelsInput(CoarseWide/2-0.5, CoarseWide/2-0.5, 3)
	n := LevelsXY * LevelsXY
	d := len(x) / n
	if d != co.Nz+2*LevelsPad+3 {
		t.Fatalf("input of %d slices for %d coarse slices, want %v", d, co.Nz, co.Nz+2*LevelsPad+3)
	}
	out := NormLevelsHU(OutsideHU)
	for _, j := range []int{0, LevelsPad - 1, LevelsPad + co.Nz, d - 1} {
		if x[j*n+n/2] != out {
			t.Errorf("slice %d is not outside: %v, want %v", j, x[j*n+n/2], out)
		}
	}
	if v := x[LevelsPad*n+n/2+LevelsXY/2]; v != NormLevelsHU(100) {
		t.Errorf("first scan slice = %v, want %v", v, NormLevelsHU(100))
	}
}

func TestPrepareSliceNoLung(t *testing.T) {
	nx, ny := 128, 128
	hu := make([]int16, nx*ny)
	for i := range hu {
		hu[i] = 40 // soft tissue everywhere
	}
	in := PrepareSlice(hu, nx, ny, [2]float64{1, 1})
	if !in.NoLung || in.LungAreaMM2 != 0 {
		t.Fatalf("soft tissue slice: got NoLung %v, area %v; want true, 0", in.NoLung, in.LungAreaMM2)
	}
	if len(in.X) != 2*SliceSide*SliceSide {
		t.Fatalf("input has %d values, want %v", len(in.X), 2*SliceSide*SliceSide)
	}
}

func TestPrepareSliceLungs(t *testing.T) {
	// Body disc with two elliptic "lungs" of -850 HU.
	nx, ny := 256, 256
	hu := make([]int16, nx*ny)
	sp := 1.5
	area := 0
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			dx, dy := float64(x-128)*sp, float64(y-128)*sp
			v := int16(-1000)
			if dx*dx/(170*170)+dy*dy/(120*120) < 1 {
				v = 40
				for _, cx := range []float64{-70, 70} {
					if (dx-cx)*(dx-cx)/(50*50)+dy*dy/(80*80) < 1 {
						v = -850
						area++
					}
				}
			}
			hu[y*nx+x] = v
		}
	}
	in := PrepareSlice(hu, nx, ny, [2]float64{sp, sp})
	want := float64(area) * sp * sp
	if in.NoLung || math.Abs(in.LungAreaMM2-want) > 0.1*want {
		t.Fatalf("lung area %.0f mm², want about %.0f (NoLung %v)", in.LungAreaMM2, want, in.NoLung)
	}
	// The lung channel sums to the lung area in input pixels.
	var s float64
	for _, v := range in.X[SliceSide*SliceSide:] {
		s += float64(v)
	}
	if got := s * SliceMM * SliceMM; math.Abs(got-in.LungAreaMM2) > 0.02*in.LungAreaMM2 {
		t.Errorf("lung channel covers %.0f mm², want %.0f ± %.0f (the mask)", got, in.LungAreaMM2, 0.02*in.LungAreaMM2)
	}
}

func TestSlicePos(t *testing.T) {
	g := &volume.Geometry{SliceZ: []float64{100, 95, 90, 85}}
	for _, tc := range []struct{ z, want float64 }{
		{100, 0}, {97.5, 0.5}, {85, 3}, {105, -1}, {80, 4}, {91, 1.8},
	} {
		if got := g.SlicePos(tc.z); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("SlicePos(%v) = %v, want %v", tc.z, got, tc.want)
		}
	}
}
