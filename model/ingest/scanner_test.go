package ingest

import (
	"context"
	"reflect"
	"testing"

	"sscscore/model/shareddata"
)

// TestScannerMatchesScan feeds files to a Scanner one at a time, in
// several orders, and checks that its inventory is Scan's for the same
// files: the same series, files, choice and explanation.
func TestScannerMatchesScan(t *testing.T) {
	files, err := DiskFiles(shareddata.Path(t, "chest-ct/A0002-B40f"), shareddata.Path(t, "chest-ct/A0002-B70f"))
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	want, err := Scan(context.Background(), files, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	reversed := make([]File, len(files))
	for i, f := range files {
		reversed[len(files)-1-i] = f
	}
	for _, tc := range []struct {
		name  string
		files []File
	}{{"in order", files}, {"reversed", reversed}} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewScanner(Options{})
			for _, f := range tc.files {
				s.Add(f)
			}
			got := s.Inventory()
			if got.Chosen != want.Chosen || got.ChosenWhy != want.ChosenWhy {
				t.Errorf("chose %s (%s), want %s (%s)", got.Chosen, got.ChosenWhy, want.Chosen, want.ChosenWhy)
			}
			if !reflect.DeepEqual(got.Files, want.Files) {
				t.Errorf("file reports differ: got %d, want %d", len(got.Files), len(want.Files))
			}
			if len(got.Series) != len(want.Series) {
				t.Fatalf("%d series, want %d", len(got.Series), len(want.Series))
			}
			for i := range got.Series {
				g, w := got.Series[i], want.Series[i]
				if g.UID != w.UID || g.Slices != w.Slices || g.ZFirst != w.ZFirst || g.Spacing != w.Spacing || g.Rank != w.Rank {
					t.Errorf("series %d: got %s %d slices z0 %g spacing %v rank %d, want %s %d slices z0 %g spacing %v rank %d",
						i, g.UID, g.Slices, g.ZFirst, g.Spacing, g.Rank, w.UID, w.Slices, w.ZFirst, w.Spacing, w.Rank)
				}
			}
			if got.BytesRead != want.BytesRead {
				t.Errorf("read %d header bytes, want %d", got.BytesRead, want.BytesRead)
			}
		})
	}
}
