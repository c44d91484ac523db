package phantom

import (
	"bytes"
	"context"
	"math"
	"runtime"
	"sort"
	"testing"

	"sscscore/model/synth"
	"sscscore/model/volume"
)

// small returns options for fast tests: 256x256 images.
func small() Options {
	return Options{Matrix: 256, SliceSpacing: Range{2, 2}, Contrast: ContrastNone}
}

// TestLevelsAnatomy checks the five levels over many phantoms: strictly
// ordered from head to feet, the distances between them within the
// anatomical ranges of params.go, the carina where the airway splits, every
// level inside both lungs and inside the scan.
func TestLevelsAnatomy(t *testing.T) {
	n := 40
	if testing.Short() || runtime.GOARCH == "wasm" {
		n = 10
	}
	var d12, d23, d35 []float64
	for seed := int64(1); seed <= int64(n); seed++ {
		p := New(seed, Options{})
		lv := p.Levels()
		for i := 1; i < 5; i++ {
			if !(lv[i] < lv[i-1]) {
				t.Fatalf("seed %d: got levels %v, want them ordered head to feet (z decreasing)", seed, lv)
			}
		}
		if math.Abs(lv[L4]-(lv[L3]+lv[L5])/2) > 1e-9 {
			t.Errorf("seed %d: got L4 at %v, want %v ± 1e-9 (halfway L3-L5)", seed, lv[L4], (lv[L3]+lv[L5])/2)
		}
		for _, c := range []struct {
			name string
			d    float64
			r    Range
			acc  *[]float64
		}{
			{"L1-L2", lv[L1] - lv[L2], RangeL1L2, &d12},
			{"L2-L3", lv[L2] - lv[L3], RangeL2L3, &d23},
			{"L3-L5", lv[L3] - lv[L5], RangeL3L5, &d35},
		} {
			*c.acc = append(*c.acc, c.d)
			if c.d < c.r.Min || c.d > c.r.Max {
				t.Errorf("seed %d: %s: got %.1f mm, want within the anatomical range %v", seed, c.name, c.d, c.r)
			}
		}
		an := p.model()
		// The carina is where the airway splits: one lumen just above L2,
		// two just below.
		if c := an.airwayComponents(lv[L2] + 1); c != 1 {
			t.Errorf("seed %d: %d airway lumens 1 mm above the carina, want 1", seed, c)
		}
		if c := an.airwayComponents(lv[L2] - 1); c != 2 {
			t.Errorf("seed %d: %d airway lumens 1 mm below the carina, want 2", seed, c)
		}
		// Every level inside both lungs and inside the scan.
		g := p.Geometry()
		lo, hi := g.ZRange()
		for i, z := range lv {
			if z < lo || z > hi {
				t.Errorf("seed %d: L%d: got z=%.1f, want inside the scan [%.1f, %.1f]", seed, i+1, z, lo, hi)
			}
			r, l := an.lungAreas(z, 4)
			if r < 2000 || l < 2000 {
				t.Errorf("seed %d: L%d: got lung areas right %.0f, left %.0f mm², want >= 2000 each", seed, i+1, r, l)
			}
		}
	}
	for _, s := range []struct {
		name string
		v    []float64
	}{{"L1-L2", d12}, {"L2-L3", d23}, {"L3-L5", d35}} {
		sort.Float64s(s.v)
		t.Logf("%s: min %.1f median %.1f max %.1f mm", s.name, s.v[0], s.v[len(s.v)/2], s.v[len(s.v)-1])
	}
}

// lungAreas returns the analytic lung areas (mm²) on plane z, sampled
// every h mm.
func (an *anatomy) lungAreas(z, h float64) (right, left float64) {
	c := an.cavSect(z)
	for y := c.cy - c.bF; y <= c.cy+c.bB; y += h {
		for x := -c.a; x <= c.a; x += h {
			if an.lungSD(vec{x, y, z}) < 0 {
				if x < an.splitX(y) {
					right += h * h
				} else {
					left += h * h
				}
			}
		}
	}
	return
}

// TestTissueStatistics renders the level slices of unenhanced phantoms
// and checks the tissue values: aerated lung -900..-800 HU, soft tissue
// 20..60 HU, bone >= 300 HU.
func TestTissueStatistics(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	if testing.Short() || runtime.GOARCH == "wasm" {
		seeds = seeds[:3]
	}
	for _, seed := range seeds {
		p := New(seed, small())
		an := p.full()
		g := p.SliceGrid()
		n := g.Nx * g.Ny
		hu := make([]int16, n)
		fl := make([]uint8, n)
		var lungSum, lungN, boneSum, boneN float64
		var soft []float64
		for _, z := range p.Levels() {
			if err := p.RenderSlice(z, g, hu, fl); err != nil {
				t.Fatalf("p.RenderSlice: got error %v, want nil", err)
			}
			mus, cav := an.muscleSect(z), an.cavSect(z)
			for k := 0; k < n; k++ {
				v := float64(hu[k])
				if fl[k]&MaskLung != 0 {
					lungSum += v
					lungN++
				}
				if fl[k]&MaskBone != 0 {
					boneSum += v
					boneN++
				}
				x, y := p.local(g.X0+float64(k%g.Nx)*g.DX, g.Y0+float64(k/g.Nx)*g.DY)
				if mus.sd(x, y) < -4 && cav.sd(x, y) > 14 && fl[k]&MaskBone == 0 {
					soft = append(soft, v)
				}
			}
		}
		sort.Float64s(soft)
		lung, bone, med := lungSum/lungN, boneSum/boneN, soft[len(soft)/2]
		t.Logf("seed %d: lung %.0f HU, chest-wall muscle median %.0f HU, bone %.0f HU", seed, lung, med, bone)
		if lung < -900 || lung > -800 {
			t.Errorf("seed %d: got mean lung %.0f HU, want -900..-800", seed, lung)
		}
		if med < 20 || med > 60 {
			t.Errorf("seed %d: got soft tissue %.0f HU, want 20..60", seed, med)
		}
		if bone < 300 {
			t.Errorf("seed %d: got mean bone %.0f HU, want >= 300", seed, bone)
		}
	}
}

// TestDeterministic checks that a seed always gives the same pixels, and
// that different seeds differ.
func TestDeterministic(t *testing.T) {
	render := func(seed int64) []int16 {
		p := New(seed, small())
		g := p.SliceGrid()
		hu := make([]int16, g.Nx*g.Ny)
		if err := p.RenderSlice(p.Levels()[L3], g, hu, nil); err != nil {
			t.Fatalf("p.RenderSlice: got error %v, want nil", err)
		}
		return hu
	}
	a, b, c := render(7), render(7), render(8)
	if !equal16(a, b) {
		t.Error("render(7) twice: got different pixels, want the same")
	}
	if equal16(a, c) {
		t.Error("render(7), render(8): got the same pixels, want different ones")
	}
	// A renderer reused for other slices gives the same pixels again.
	p := New(7, small())
	g := p.SliceGrid()
	lv := p.Levels()
	x := make([]int16, g.Nx*g.Ny)
	for _, z := range []float64{lv[L3], lv[L1], lv[L5] - 30, lv[L5] - 60, lv[L5] - 90, lv[L3]} {
		if err := p.RenderSlice(z, g, x, nil); err != nil {
			t.Fatalf("p.RenderSlice: got error %v, want nil", err)
		}
	}
	if !equal16(a, x) {
		t.Error("reused renderer: got different pixels, want those of a fresh one")
	}
}

func equal16(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCoarseMatchesFull renders a block of the phantom at full resolution,
// averages it down, and compares it with the same block rendered directly
// on the coarse grid: the levels network trains on the latter.
func TestCoarseMatchesFull(t *testing.T) {
	p := New(5, Options{Matrix: 256, SliceSpacing: Range{1, 1}, Contrast: ContrastNone})
	full := p.Geometry()
	// 24 slices around L2, full resolution
	k0, _ := full.NearestSlice(p.Levels()[L2] + 12)
	full.Nz = 24
	full.Origin[2] = full.SliceZ[k0]
	full.SliceZ = full.SliceZ[k0 : k0+24]
	vf, _, err := p.Render(context.Background(), full)
	if err != nil {
		t.Fatalf("p.Render: got error %v, want nil", err)
	}
	const f = 4 // 4x4x4 blocks
	coarse := Resample(full, full.Nx/f, full.Ny/f, full.Nz/f)
	vc, _, err := p.Render(context.Background(), coarse)
	if err != nil {
		t.Fatalf("p.Render: got error %v, want nil", err)
	}
	down := downsample(vf, f)
	var sum, sumAbs float64
	var body int
	for i, v := range vc.Voxels() {
		d := float64(v) - down[i]
		if down[i] > -900 || v > -900 { // inside the body
			sum += d
			sumAbs += math.Abs(d)
			body++
		}
	}
	mean, mae := sum/float64(body), sumAbs/float64(body)
	t.Logf("coarse vs averaged full: bias %.1f HU, MAE %.1f HU over %d voxels", mean, mae, body)
	if math.Abs(mean) > 15 || mae > 60 {
		t.Errorf("coarse vs averaged full rendering: got bias %.1f, MAE %.1f HU; want |bias| <= 15, MAE <= 60", mean, mae)
	}
}

func downsample(v *volume.Volume, f int) []float64 {
	g := v.Geom
	nx, ny, nz := g.Nx/f, g.Ny/f, g.Nz/f
	out := make([]float64, nx*ny*nz)
	vox := v.Voxels()
	for z := 0; z < nz*f; z++ {
		for y := 0; y < ny*f; y++ {
			for x := 0; x < nx*f; x++ {
				out[(z/f)*nx*ny+(y/f)*nx+x/f] += float64(vox[z*g.Nx*g.Ny+y*g.Nx+x])
			}
		}
	}
	for i := range out {
		out[i] /= float64(f * f * f)
	}
	return out
}

// TestDiseaseLabels checks the 3D disease: labels at the levels are valid
// percentages with TOT between max(GG, RET) and GG + RET, lesions only in
// the lungs, and more disease at the bases than at the top on average.
func TestDiseaseLabels(t *testing.T) {
	var top, base float64
	for _, seed := range []int64{21, 22, 23} {
		p := New(seed, Options{Matrix: 256, SliceSpacing: Range{2, 2}, Disease: true, Severity: 0.6})
		lab, zs, err := p.LevelLabels(context.Background(), p.Geometry())
		if err != nil {
			t.Fatalf("p.LevelLabels: got error %v, want nil", err)
		}
		for i, l := range lab {
			t.Logf("seed %d L%d z=%.1f: TOT %.1f GG %.1f RET %.1f", seed, i+1, zs[i], l.TOT, l.GG, l.RET)
			checkLabels(t, l)
		}
		top += lab[L1].TOT
		base += lab[L5].TOT
		// masks stay inside the lung
		g := p.SliceGrid()
		hu := make([]int16, g.Nx*g.Ny)
		fl := make([]uint8, g.Nx*g.Ny)
		if err := p.RenderSlice(zs[L5], g, hu, fl); err != nil {
			t.Fatalf("p.RenderSlice: got error %v, want nil", err)
		}
		for _, f := range fl {
			if f&(MaskGG|MaskRET) != 0 && f&MaskLung == 0 {
				t.Fatalf("seed %d: got disease flags %#x outside the lung, want none", seed, f)
			}
		}
	}
	if base <= top {
		t.Errorf("basal predominance: got TOT at L5 %.1f, want > TOT at L1 %.1f (sums of 3)", base, top)
	}
}

func checkLabels(t *testing.T, l synth.Labels) {
	t.Helper()
	for _, v := range []float64{l.TOT, l.GG, l.RET} {
		if v < 0 || v > 100 || math.IsNaN(v) {
			t.Errorf("labels %+v: got %v, want 0..100", l, v)
		}
	}
	if l.TOT < math.Max(l.GG, l.RET)-1e-9 || l.TOT > l.GG+l.RET+1e-9 {
		t.Errorf("labels %+v: got TOT %v, want between max(GG,RET) and GG+RET", l, l.TOT)
	}
}

// TestDICOMDeterministic writes the same slices twice in memory.
func TestDICOMDeterministic(t *testing.T) {
	p := New(9, Options{Matrix: 64, SliceSpacing: Range{8, 8}})
	g := p.Geometry()
	g.Nz = 3
	g.SliceZ = g.SliceZ[:3]
	meta := p.SeriesMeta("T9")
	a, err := encodeSeries(context.Background(), p.Source(g), meta, nil)
	if err != nil {
		t.Fatalf("encodeSeries: got error %v, want nil", err)
	}
	b, err := encodeSeries(context.Background(), New(9, Options{Matrix: 64, SliceSpacing: Range{8, 8}}).Source(g), meta, nil)
	if err != nil {
		t.Fatalf("encodeSeries: got error %v, want nil", err)
	}
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) || a[i].Name != b[i].Name {
			t.Fatalf("file %d: got %s and %s differing between runs, want the same bytes", i, a[i].Name, b[i].Name)
		}
	}
}

// TestResample checks that a coarse grid covers the same field.
func TestResample(t *testing.T) {
	p := New(3, Options{})
	g := p.Geometry()
	c := Resample(g, 96, 96, 128)
	if err := c.Validate(); err != nil {
		t.Fatalf("c.Validate: got error %v, want nil", err)
	}
	lo, hi := g.ZRange()
	clo, chi := c.ZRange()
	if math.Abs((hi+g.Spacing[2]/2)-(chi+c.Spacing[2]/2)) > 1e-6 || math.Abs((lo-g.Spacing[2]/2)-(clo-c.Spacing[2]/2)) > 1e-6 {
		t.Errorf("z extent: got [%v %v], want that of [%v %v] (centres; edges equal)", clo, chi, lo, hi)
	}
	if math.Abs(float64(g.Nx)*g.Spacing[0]-float64(c.Nx)*c.Spacing[0]) > 1e-6 {
		t.Errorf("x extent: got %v mm, want %v", float64(c.Nx)*c.Spacing[0], float64(g.Nx)*g.Spacing[0])
	}
}

// TestFollowUp checks the follow-up of a seed: the same anatomy, scanner,
// levels and lesion positions; the disease grown as asked (every level's
// extent at least the baseline's, most larger) or, with no growth, the
// same labels; another noise realisation, study date and UIDs.
func TestFollowUp(t *testing.T) {
	base := New(31, Options{Matrix: 256, SliceSpacing: Range{2, 2}, Disease: true, Severity: 0.5, Contrast: ContrastNone})
	ctx := context.Background()
	g := base.Geometry()
	labBase, _, err := base.LevelLabels(ctx, g)
	if err != nil {
		t.Fatalf("base.LevelLabels: got error %v, want nil", err)
	}
	tests := []struct {
		name   string
		growth float64
		months int
		date   string
	}{
		{"grown 40 %", 0.4, 12, "20250101"},
		{"unchanged", 0, 6, "20240701"},
		{"shrunk 30 %", -0.3, 18, "20250701"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base.FollowUp(tc.growth, tc.months)
			if f.Anatomy != base.Anatomy || f.Scanner != base.Scanner || f.Levels() != base.Levels() {
				t.Fatalf("follow-up: got anatomy/scanner/levels differing from the baseline's, want the same")
			}
			lb, lf := base.model().lesions, f.model().lesions
			if len(lb) != len(lf) {
				t.Fatalf("lesions: got %d, want the baseline's %d", len(lf), len(lb))
			}
			for i := range lb {
				if lb[i].e.c != lf[i].e.c {
					t.Errorf("lesion %d: got centre %v, want the baseline's %v", i, lf[i].e.c, lb[i].e.c)
				}
			}
			lab, _, err := f.LevelLabels(ctx, g)
			if err != nil {
				t.Fatalf("f.LevelLabels: got error %v, want nil", err)
			}
			grew, shrank := 0, 0
			for i := range lab {
				d := lab[i].TOT - labBase[i].TOT
				t.Logf("L%d: TOT %.1f -> %.1f (GG %.1f -> %.1f, RET %.1f -> %.1f)", i+1, labBase[i].TOT, lab[i].TOT, labBase[i].GG, lab[i].GG, labBase[i].RET, lab[i].RET)
				checkLabels(t, lab[i])
				switch {
				case tc.growth == 0 && lab[i] != labBase[i]:
					t.Errorf("L%d: got labels %+v, want the baseline's %+v", i+1, lab[i], labBase[i])
				case tc.growth > 0 && d < 0:
					t.Errorf("L%d: got TOT %.2f after growth, want at least the baseline's %.2f", i+1, lab[i].TOT, labBase[i].TOT)
				case tc.growth < 0 && d > 0:
					t.Errorf("L%d: got TOT %.2f after shrinking, want at most the baseline's %.2f", i+1, lab[i].TOT, labBase[i].TOT)
				}
				if d > 1 {
					grew++
				}
				if d < -1 {
					shrank++
				}
			}
			if tc.growth > 0 && grew < 3 || tc.growth < 0 && shrank < 3 {
				t.Errorf("growth %v: got %d levels grown and %d shrunk by over 1 point, want at least 3 in its direction", tc.growth, grew, shrank)
			}
			// Another scan: other noise, date and UIDs, the same patient.
			sg := base.SliceGrid()
			a, b := make([]int16, sg.Nx*sg.Ny), make([]int16, sg.Nx*sg.Ny)
			z := base.Levels()[L3]
			if err := base.RenderSlice(z, sg, a, nil); err != nil {
				t.Fatalf("base.RenderSlice: got error %v, want nil", err)
			}
			if err := f.RenderSlice(z, sg, b, nil); err != nil {
				t.Fatalf("f.RenderSlice: got error %v, want nil", err)
			}
			if equal16(a, b) {
				t.Error("follow-up slice: got the baseline's pixels, want another noise realisation")
			}
			mb, mf := base.SeriesMeta("P31"), f.SeriesMeta("P31")
			if mf.UIDSeed == mb.UIDSeed || mf.PatientID != mb.PatientID || mf.PatientName != mb.PatientName {
				t.Errorf("meta: got UID seeds %q/%q, patients %q/%q, want other UIDs, the same patient", mb.UIDSeed, mf.UIDSeed, mb.PatientID, mf.PatientID)
			}
			if mf.StudyDate != tc.date {
				t.Errorf("study date: got %s, want %s (%d months after %s)", mf.StudyDate, tc.date, tc.months, mb.StudyDate)
			}
		})
	}
}
