package lungmask_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/lungmask"
	"sscscore/model/phantom"
	"sscscore/model/shareddata"
	"sscscore/model/volume"
)

func load(t testing.TB, paths ...string) *volume.Volume {
	t.Helper()
	files, err := ingest.DiskFiles(paths...)
	if err != nil {
		t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	v, _, _, err := ingest.LoadFiles(context.Background(), files, ingest.Options{})
	if err != nil {
		t.Fatalf("ingest.LoadFiles: got error %v, want nil", err)
	}
	return v
}

// sides returns the lung areas (mm²) left and right of the image centre
// line of the body.
func sides(m []bool, hu []int16, nx, ny int, sp [2]float64) (right, left float64) {
	// body centre: mean x of pixels above -300 HU
	var sx, n float64
	for i, v := range hu {
		if v > -300 {
			sx += float64(i % nx)
			n++
		}
	}
	cx := int(sx / n)
	a := sp[0] * sp[1]
	for i, v := range m {
		if !v {
			continue
		}
		if i%nx < cx {
			right += a
		} else {
			left += a
		}
	}
	return
}

// TestA0002 measures the mask on the 30 slices of A0002-B40f: both lungs
// on every slice from L1 (268) down to L5 (168, just above the right dome).
// Below the domes the lung shrinks to the posterior costophrenic recesses,
// which in this patient reach the last slice (z=80): there, only small
// crescents in the back of the body may remain.
func TestA0002(t *testing.T) {
	td := shareddata.Root(t)
	v := load(t, filepath.Join(td, "chest-ct", "A0002-B40f"))
	g := v.Geometry()
	sp := [2]float64{g.Spacing[0], g.Spacing[1]}
	masks, err := lungmask.Volume(context.Background(), v, lungmask.Options{})
	if err != nil {
		t.Fatalf("lungmask.Volume: got error %v, want nil", err)
	}
	n := g.Nx * g.Ny
	peak := 0.0
	for k := 0; k < g.Nz; k++ {
		z := g.SliceZ[k]
		m := masks[k*n : (k+1)*n]
		hu := v.SliceView(k)
		r, l := sides(m, hu, g.Nx, g.Ny, sp)
		peak = max(peak, r+l)
		front := backFraction(m, hu, g.Nx)
		t.Logf("z=%6.1f right %7.0f mm²  left %7.0f mm²  lung in the back half: %3.0f%%", z, r, l, 100*front)
		switch {
		case z <= 268 && z >= 168:
			if r < 1500 || l < 1500 {
				t.Errorf("z=%.0f: got right %.0f, left %.0f mm² of lung, want >= 1500 each", z, r, l)
			}
		case z <= 96:
			if r+l > 0.15*peak {
				t.Errorf("z=%.0f: %.0f mm² of lung below the domes (peak %.0f), want <= %v", z, r+l, peak, 0.15*peak)
			}
			if r+l > 0 && front < 0.95 {
				t.Errorf("z=%.0f: got %.0f%% of the lung in the back half, want >= 95%% (the posterior recesses)", z, 100*front)
			}
		}
	}
}

// backFraction returns the fraction of mask pixels in the back half of the
// body (rows below the middle of the body's front-to-back extent).
func backFraction(m []bool, hu []int16, nx int) float64 {
	y0, y1 := len(hu)/nx, -1
	for i, v := range hu {
		if v > -300 {
			y0, y1 = min(y0, i/nx), max(y1, i/nx)
		}
	}
	mid := (y0 + y1) / 2
	var in, all float64
	for i, v := range m {
		if v {
			all++
			if i/nx >= mid {
				in++
			}
		}
	}
	if all == 0 {
		return 1
	}
	return in / all
}

// TestSlices checks the real single slices: the abdominal negative control
// gives no lung, the others two lungs, whatever the GE padding.
func TestSlices(t *testing.T) {
	td := shareddata.Root(t)
	for _, c := range []struct {
		file string
		lung bool
	}{
		{"A058062_axial_19001231-084.dcm", false},
		{"A048383_axial_19010410-30.dcm", true},
		{"A002304_axial_19010112-135.dcm", true},
	} {
		v := load(t, filepath.Join(td, "slices", c.file))
		g := v.Geometry()
		sp := [2]float64{g.Spacing[0], g.Spacing[1]}
		hu := v.SliceView(0)
		m := lungmask.Slice(hu, g.Nx, g.Ny, sp, lungmask.Options{})
		r, l := sides(m, hu, g.Nx, g.Ny, sp)
		t.Logf("%s: right %.0f mm², left %.0f mm²", c.file, r, l)
		if c.lung && (r < 3000 || l < 3000) {
			t.Errorf("%s: got right %.0f, left %.0f mm² of lung, want >= 3000 each", c.file, r, l)
		}
		if !c.lung && r+l > 0 {
			t.Errorf("%s: got %.0f mm² of lung, want 0", c.file, r+l)
		}
		// GE padding written as -3024 HU must not change anything.
		pad := append([]int16(nil), hu...)
		cx, cy := float64(g.Nx)/2, float64(g.Ny)/2
		for i := range pad {
			x, y := float64(i%g.Nx)-cx, float64(i/g.Nx)-cy
			if x*x+y*y > cx*cx {
				pad[i] = -3024
			}
		}
		m2 := lungmask.Slice(pad, g.Nx, g.Ny, sp, lungmask.Options{})
		diff := 0
		for i := range m {
			if m[i] != m2[i] {
				diff++
			}
		}
		if diff > len(m)/1000 {
			t.Errorf("%s: padding changed %d pixels of the mask, want <= %v", c.file, diff, len(m)/1000)
		}
	}
}

// TestPhantom compares the mask with the phantom's true lung mask.
func TestPhantom(t *testing.T) {
	for _, seed := range []int64{11, 12, 13} {
		p := phantom.New(seed, phantom.Options{Matrix: 256, SliceSpacing: phantom.Range{Min: 2, Max: 2}})
		g := p.SliceGrid()
		n := g.Nx * g.Ny
		hu := make([]int16, n)
		fl := make([]uint8, n)
		lv := p.Levels()
		for _, z := range []float64{lv[phantom.L1], lv[phantom.L3], lv[phantom.L5]} {
			if err := p.RenderSlice(z, g, hu, fl); err != nil {
				t.Fatalf("p.RenderSlice: got error %v, want nil", err)
			}
			m := lungmask.Slice(hu, g.Nx, g.Ny, [2]float64{g.DX, g.DY}, lungmask.Options{})
			var inter, a, b int
			for i := range m {
				tr := fl[i]&phantom.MaskLung != 0
				if tr {
					a++
				}
				if m[i] {
					b++
				}
				if tr && m[i] {
					inter++
				}
			}
			dice := 2 * float64(inter) / float64(a+b)
			t.Logf("seed %d z=%.0f: dice %.3f (%d true, %d found)", seed, z, dice, a, b)
			if dice < 0.9 {
				t.Errorf("seed %d z=%.0f: dice %.3f < 0.9, want >= 0.9", seed, z, dice)
			}
		}
	}
}

// TestEmpty checks degenerate input.
func TestEmpty(t *testing.T) {
	hu := make([]int16, 64*64)
	for i := range hu {
		hu[i] = int16(rand.IntN(100)) - 1024
	}
	if m := lungmask.Slice(hu, 64, 64, [2]float64{1, 1}, lungmask.Options{}); any(m) {
		t.Errorf("Slice(air): got %d lung pixels, want 0", count(m))
	}
	for i := range hu {
		hu[i] = 40
	}
	if m := lungmask.Slice(hu, 64, 64, [2]float64{1, 1}, lungmask.Options{}); any(m) {
		t.Errorf("Slice(soft tissue): got %d lung pixels, want 0", count(m))
	}
}

func any(m []bool) bool { return count(m) > 0 }

// count returns the number of pixels set in m.
func count(m []bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
