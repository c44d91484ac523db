package synth_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/lungmask"
	"sscscore/model/phantom"
	"sscscore/model/shareddata"
	"sscscore/model/synth"
)

var (
	sliceOnce      sync.Once
	baseHU         []int16
	baseLung       []bool
	baseNx, baseNy int
	basePx         float64
)

// healthySlice renders a healthy phantom slice (160x160) at L4 with its
// true lung mask.
func healthySlice(t testing.TB) ([]int16, []bool, int, int, float64) {
	sliceOnce.Do(func() {
		p := phantom.New(4, phantom.Options{Matrix: 160, SliceSpacing: phantom.Range{Min: 1.25, Max: 1.25}, Contrast: phantom.ContrastNone})
		g := p.SliceGrid()
		n := g.Nx * g.Ny
		baseHU = make([]int16, n)
		fl := make([]uint8, n)
		if err := p.RenderSlice(p.Levels()[phantom.L4], g, baseHU, fl); err != nil {
			panic(err)
		}
		baseLung = make([]bool, n)
		for i, f := range fl {
			baseLung[i] = f&phantom.MaskLung != 0
		}
		baseNx, baseNy, basePx = g.Nx, g.Ny, g.DX
	})
	return append([]int16(nil), baseHU...), baseLung, baseNx, baseNy, basePx
}

func count(m []bool) int {
	c := 0
	for _, v := range m {
		if v {
			c++
		}
	}
	return c
}

// TestLabelsExact checks that the labels are the mask areas, that the
// masks lie in the lung, and TOT between max(GG, RET) and GG + RET.
func TestLabelsExact(t *testing.T) {
	_, lung, nx, ny, px := healthySlice(t)
	nl := float64(count(lung))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mode := range []synth.Mode{synth.ModeRandom, synth.ModeNone, synth.ModeGG, synth.ModeRET, synth.ModeBoth} {
		for i := 0; i < 12; i++ {
			hu, _, _, _, _ := healthySlice(t)
			lab, m := synth.Paste(hu, nx, ny, lung, rng, synth.Options{Mode: mode, PixelSpacing: px})
			var gg, ret, tot int
			for k := range lung {
				g := m.GG != nil && m.GG[k]
				r := m.RET != nil && m.RET[k]
				if (g || r) && !lung[k] {
					t.Fatalf("mode %d: pixel %d: got disease (GG %v, RET %v) outside the lung, want none", mode, k, g, r)
				}
				if g {
					gg++
				}
				if r {
					ret++
				}
				if g || r {
					tot++
				}
			}
			want := synth.Labels{TOT: 100 * float64(tot) / nl, GG: 100 * float64(gg) / nl, RET: 100 * float64(ret) / nl}
			if lab != want {
				t.Fatalf("mode %d: got labels %+v, want the mask areas %+v", mode, lab, want)
			}
			if lab.TOT < math.Max(lab.GG, lab.RET) || lab.TOT > lab.GG+lab.RET+1e-9 {
				t.Fatalf("mode %d: got %+v, want max(GG,RET) <= TOT <= GG+RET", mode, lab)
			}
			switch mode {
			case synth.ModeNone:
				if lab.TOT != 0 {
					t.Fatalf("ModeNone: got %+v, want TOT 0", lab)
				}
			case synth.ModeGG:
				if lab.RET != 0 || lab.GG == 0 {
					t.Fatalf("ModeGG: got %+v, want GG > 0 and RET 0", lab)
				}
			case synth.ModeRET:
				if lab.GG != 0 || lab.RET == 0 {
					t.Fatalf("ModeRET: got %+v, want RET > 0 and GG 0", lab)
				}
			}
		}
	}
}

// TestHistogram draws 1,000 pastes: every 10-point bin of TOT, GG and RET
// below 80 % is populated.
func TestHistogram(t *testing.T) {
	_, lung, nx, ny, px := healthySlice(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var hist [3][10]int
	n := 1000
	for i := 0; i < n; i++ {
		hu, _, _, _, _ := healthySlice(t)
		lab, _ := synth.Paste(hu, nx, ny, lung, rng, synth.Options{PixelSpacing: px})
		for j, v := range []float64{lab.TOT, lab.GG, lab.RET} {
			hist[j][min(int(v/10), 9)]++
		}
	}
	for j, name := range []string{"TOT", "GG", "RET"} {
		t.Logf("%s: %v", name, hist[j])
		for b := 0; b < 8; b++ {
			if hist[j][b] == 0 {
				t.Errorf("%s: no draw in %d-%d %%, got %v, want != 0", name, 10*b, 10*b+10, hist[j][b])
			}
		}
	}
}

// TestGroundGlassLook checks the ground glass: a hazy increase of about
// +300 HU on aerated lung, never denser than soft tissue, vessels left
// alone.
func TestGroundGlassLook(t *testing.T) {
	orig, lung, nx, ny, px := healthySlice(t)
	rng := rand.New(rand.NewPCG(5, 6))
	var incSum float64
	var incN int
	for i := 0; i < 6; i++ {
		hu := append([]int16(nil), orig...)
		_, m := synth.Paste(hu, nx, ny, lung, rng, synth.Options{Mode: synth.ModeGG, Extent: 0.5, PixelSpacing: px, BlurPx: 8})
		for k := range hu {
			o, v := float64(orig[k]), float64(hu[k])
			if o >= -80 && v != o {
				t.Fatalf("soft-tissue pixel %d: got %v, want %v (unchanged)", k, v, o)
			}
			if v > o && v > -80 {
				t.Fatalf("pixel %d: got %v HU from %v, want ground glass at most -80 HU (softer than soft tissue)", k, v, o)
			}
			if m.GG[k] && o < -750 {
				incSum += v - o
				incN++
			}
		}
	}
	mean := incSum / float64(incN)
	t.Logf("mean increase on aerated lung inside the GG masks: %.0f HU", mean)
	if mean < 150 || mean > 400 {
		t.Errorf("mean ground-glass increase %.0f HU, want about +300", mean)
	}
}

// TestReticulationLook checks that reticulation adds a texture: the
// standard deviation inside the region grows.
func TestReticulationLook(t *testing.T) {
	orig, lung, nx, ny, px := healthySlice(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 4; i++ {
		hu := append([]int16(nil), orig...)
		_, m := synth.Paste(hu, nx, ny, lung, rng, synth.Options{Mode: synth.ModeRET, Extent: 0.4, PixelSpacing: px})
		// on aerated lung (vessels excluded)
		aer := make([]bool, len(m.RET))
		for k, r := range m.RET {
			aer[k] = r && orig[k] < -700
		}
		before, after := stdIn(orig, aer), stdIn(hu, aer)
		t.Logf("RET region std on aerated lung %.0f -> %.0f HU", before, after)
		if after < before*1.3 {
			t.Errorf("reticulation did not add texture: std %.0f -> %.0f, want >= %v", before, after, before*1.3)
		}
	}
}

func stdIn(hu []int16, m []bool) float64 {
	var s, s2, n float64
	for i, v := range m {
		if v {
			x := float64(hu[i])
			s += x
			s2 += x * x
			n++
		}
	}
	mean := s / n
	return math.Sqrt(s2/n - mean*mean)
}

// TestRealSlice pastes disease on the near-normal real slice A048383 with
// the lung mask of the lungmask package.
func TestRealSlice(t *testing.T) {
	td := shareddata.Root(t)
	files, err := ingest.DiskFiles(filepath.Join(td, "slices", "A048383_axial_19010410-30.dcm"))
	if err != nil {
		t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	v, _, _, err := ingest.LoadFiles(context.Background(), files, ingest.Options{})
	if err != nil {
		t.Fatalf("ingest.LoadFiles: got error %v, want nil", err)
	}
	g := v.Geometry()
	hu := append([]int16(nil), v.SliceView(0)...)
	lung := lungmask.Slice(hu, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]}, lungmask.Options{})
	if count(lung) < 10000 {
		t.Fatalf("lung mask has %d pixels, want >= 10000", count(lung))
	}
	rng := rand.New(rand.NewPCG(9, 10))
	lab, m := synth.Paste(hu, g.Nx, g.Ny, lung, rng, synth.Options{Mode: synth.ModeBoth, Extent: 0.5, PixelSpacing: g.Spacing[0]})
	t.Logf("A048383: %+v", lab)
	if lab != synth.Measure(lung, m.GG, m.RET) || lab.TOT < 20 || lab.TOT > 80 {
		t.Errorf("Paste: got labels %+v, want Measure's %+v with TOT in [20, 80]", lab, synth.Measure(lung, m.GG, m.RET))
	}
}
