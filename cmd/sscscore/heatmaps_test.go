package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/phantom"
)

func TestHeatmapsEval(t *testing.T) {
	out, errs, code := run(t, "heatmaps", "--eval", "2", "--methods", "gradient,dense", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s, want 0", code, errs)
	}
	for _, w := range []string{"| gradient | -0.6 | TOT |", "| dense | -0.6 | RET |", "2 synthetic slices"} {
		if !strings.Contains(out, w) {
			t.Errorf("output: got\n%s\nwant %q in it", out, w)
		}
	}
	if _, _, code := run(t, "heatmaps", "--eval", "1", "--methods", "saliency"); code == 0 {
		t.Errorf("an unknown method was accepted: got %v, want != 0", code)
	}
}

// TestWriteHeatmaps writes the maps of a small diseased phantom scan
// (128² pixels, about 3 mm) with its true levels as the scored ones.
func TestWriteHeatmaps(t *testing.T) {
	c, err := cascade.Default()
	if err != nil {
		t.Skip("no shipped weights:", err)
	}
	p := phantom.New(3_900_003, phantom.Options{Disease: true, Matrix: 128, SliceSpacing: phantom.Range{Min: 5, Max: 5}})
	g := p.Geometry()
	src := p.Source(g)
	res := &cascade.Result{}
	lv := p.Levels()
	for i, z := range lv[:2] {
		k, _ := g.NearestSlice(z)
		res.Levels = append(res.Levels, cascade.LevelResult{Name: cascade.LevelNames[i], Slice: &k, Status: cascade.StatusScored})
	}
	res.Levels = append(res.Levels, cascade.LevelResult{Name: "L3", Status: cascade.StatusOutside})
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := writeHeatmaps(context.Background(), dir, "gradient,dense", c, src, res, &stderr, true); err != nil {
		t.Fatalf("writeHeatmaps: got error %v, want nil", err)
	}
	var index []heatmapLevel
	b, err := os.ReadFile(filepath.Join(dir, "heatmaps.json"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	if len(index) != 2*3*2 {
		t.Fatalf("%d maps, want 2 levels × 3 scores × 2 methods", len(index))
	}
	for _, e := range index {
		f, err := os.Open(filepath.Join(dir, e.File))
		if err != nil {
			t.Fatalf("os.Open: got error %v, want nil", err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", e.File, err)
		}
		if img.Bounds().Dx() != g.Nx || img.Bounds().Dy() <= g.Ny {
			t.Errorf("%s: got bounds %v, want %d wide, over %d high", e.File, img.Bounds(), g.Nx, g.Ny)
		}
		if e.Threshold != -0.6 || e.Range <= 0 || e.Map < 0 || e.Map > 100 {
			t.Errorf("entry: got %+v, want threshold -0.6, range > 0, map 0..100", e)
		}
	}
	if err := writeHeatmaps(context.Background(), dir, "nonsense", c, src, res, &stderr, true); err == nil {
		t.Errorf("an unknown method was accepted: got nil error, want an error")
	}
}
