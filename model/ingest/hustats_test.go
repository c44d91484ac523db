package ingest

import (
	"context"
	"path/filepath"
	"testing"

	"sscscore/model/shareddata"
	"sscscore/model/volume"
)

func TestBodyMask(t *testing.T) {
	// 12x12: a tissue ring (rows/cols 2..8) around an air "lung" (4..6),
	// a separate "table" strip on row 11, air elsewhere.
	const n = 12
	p := make([]int16, n*n)
	for i := range p {
		p[i] = volume.Air
	}
	for y := 2; y <= 8; y++ {
		for x := 2; x <= 8; x++ {
			p[y*n+x] = 40
			if y >= 4 && y <= 6 && x >= 4 && x <= 6 {
				p[y*n+x] = -850
			}
		}
	}
	for x := 0; x < n; x++ {
		p[11*n+x] = 200
	}
	mask := make([]bool, n*n)
	bodyMask(p, n, n, mask, make([]int32, n*n), nil)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			want := y >= 2 && y <= 8 && x >= 2 && x <= 8
			if mask[y*n+x] != want {
				t.Fatalf("mask(%d,%d) = %v, want %v", x, y, mask[y*n+x], want)
			}
		}
	}
}

// TestHUStatsIdentity: the same images in two encodings give the same
// digest; the body is denser than the air around it.
func TestHUStatsIdentity(t *testing.T) {
	td := shareddata.Root(t)
	var first HUStats
	for i, dir := range []string{"A0002-B40f", "A0002-B40f-rle"} {
		files, err := DiskFiles(filepath.Join(td, "chest-ct", dir))
		if err != nil {
			t.Fatalf("DiskFiles: got error %v, want nil", err)
		}
		inv, err := Scan(context.Background(), files, Options{})
		if err != nil {
			t.Fatalf("Scan: got error %v, want nil", err)
		}
		lv, err := inv.Open("")
		if err != nil {
			t.Fatalf("inv.Open: got error %v, want nil", err)
		}
		st, err := ComputeHUStats(context.Background(), lv)
		if err != nil {
			t.Fatalf("ComputeHUStats: got error %v, want nil", err)
		}
		if st.MeanBody < -400 || st.MeanBody > 100 || st.MeanOutside > -900 || st.BodyVoxels+st.OutsideVoxels != 30*512*512 {
			t.Errorf("%s: got %+v, want body mean -400..100, outside mean <= -900, 30 x 512² voxels", dir, st)
		}
		if i == 0 {
			first = st
		} else if st != first {
			t.Errorf("%s: %+v, want %+v", dir, st, first)
		}
	}
}
