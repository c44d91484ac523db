package volume

import (
	"context"
	"testing"
)

func TestVolumeGeometry(t *testing.T) {
	g := Geometry{Nz: 3, Ny: 2, Nx: 2, Spacing: [3]float64{0.5, 0.5, 8}, SliceZ: []float64{312, 304, 296}}
	v, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if s := v.HU.Shape(); len(s) != 3 || s[0] != 3 || s[1] != 2 || s[2] != 2 {
		t.Fatalf("shape %v", s)
	}
	v.SliceView(1)[3] = 40
	dst := make([]int16, 4)
	if err := v.Slice(context.Background(), 1, dst); err != nil || dst[3] != 40 || dst[0] != Air {
		t.Fatalf("slice = %v, %v", dst, err)
	}
	if v.Voxels()[7] != 40 {
		t.Fatal("Voxels does not share the backing array")
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
		t.Errorf("ZOf(3), ZOf(-1) = %v, %v", z, z0)
	}
	if _, err := FromVoxels(g, make([]int16, 5)); err == nil {
		t.Error("wrong voxel count accepted")
	}
}
