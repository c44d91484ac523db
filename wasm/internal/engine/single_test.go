package engine

import (
	"context"
	"path/filepath"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/shareddata"
	"sscscore/wasm/internal/protocol"
)

// TestSingleSlice opens one slice of A0002 alone: it is scored as that
// slice (the read-ahead pass delivers it once, the coronal is sent) and
// its levels are left to the reader.
func TestSingleSlice(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) < 20 {
		t.Fatalf("A0002 files: got %d (%v), want 30", len(files), err)
	}
	e := New(Options{Cascade: defaultCascade(t)})
	var rec recorder
	e.Open(context.Background(), 3, diskFiles(t, files[15]), rec.send)
	rec.checkEnd(t, 3, false)
	if m := rec.last(protocol.Error); m != nil {
		t.Fatalf("Open: got error %q, want none", m.Error)
	}
	res := e.result.res
	if len(res.ExtraSlices) != 1 || res.ExtraSlices[0].Status != cascade.StatusScored {
		t.Fatalf("extra slices: got %+v, want the slice scored", res.ExtraSlices)
	}
	for _, l := range res.Levels {
		if l.Status != cascade.StatusUnplaced {
			t.Errorf("%s: got %s, want %s", l.Name, l.Status, cascade.StatusUnplaced)
		}
	}
	if len(rec.kind(protocol.Image)) == 0 {
		t.Errorf("images: got none, want the coronal reformat at least")
	}
}
