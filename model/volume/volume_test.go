package volume

import (
	"context"
	"testing"
)

func TestVolumeGeometry(t *testing.T) {
	g := Geometry{Nz: 3, Ny: 2, Nx: 2, Spacing: [3]float64{0.5, 0.5, 8}, SliceZ: []float64{312, 304, 296}}
	v, err := New(g)
	if err != nil {
		t.Fatalf("New: got error %v, want nil", err)
	}
	if n := len(v.Voxels()); n != 3*2*2 {
		t.Fatalf("len(Voxels()): got %d, want %d", n, 3*2*2)
	}
	v.SliceView(1)[3] = 40
	dst := make([]int16, 4)
	if err := v.Slice(context.Background(), 1, dst); err != nil || dst[3] != 40 || dst[0] != Air {
		t.Fatalf("Slice(1): got %v, %v; want [%d %d %d 40], nil", dst, err, Air, Air, Air)
	}
	if got := v.Voxels()[7]; got != 40 {
		t.Fatalf("Voxels()[7] after SliceView(1)[3] = 40: got %d, want 40 (a shared backing array)", got)
	}
	tests := []struct {
		z      float64
		k      int
		inside bool
	}{{312, 0, true}, {300.1, 1, true}, {317, 0, false}, {293, 2, true}, {280, 2, false}}
	for _, tc := range tests {
		k, in := g.NearestSlice(tc.z)
		if k != tc.k || in != tc.inside {
			t.Errorf("NearestSlice(%v) = %d,%v want %d,%v", tc.z, k, in, tc.k, tc.inside)
		}
	}
	if z, z0 := g.ZOf(3), g.ZOf(-1); z != 288 || z0 != 320 {
		t.Errorf("ZOf(3), ZOf(-1): got %v, %v; want 288, 320", z, z0)
	}
	if _, err := FromVoxels(g, make([]int16, 5)); err == nil {
		t.Error("FromVoxels(5 voxels for 3x2x2): got nil error, want an error")
	}
}
