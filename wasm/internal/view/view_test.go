package view

import (
	"fmt"
	"math"
	"testing"

	"sscscore/model/heatmap"
)

func TestLUT(t *testing.T) {
	lut := Lung.LUT()
	tests := []struct {
		hu   int
		want uint8
	}{
		{-1350, 0}, {-2000, 0}, {-32768, 0}, {150, 255}, {3000, 255}, {32767, 255},
		{-600, 128}, // centre: 127.5 rounds half away from zero
	}
	for _, tc := range tests {
		if got := lut[tc.hu+32768]; got != tc.want {
			t.Errorf("lung window, %d HU: grey %d, want %d", tc.hu, got, tc.want)
		}
	}
	m := Mediastinum.LUT()
	if m[-160+32768] != 0 || m[240+32768] != 255 || m[40+32768] != 128 {
		t.Errorf("mediastinum window at -160, 240, 40 HU: got %d %d %d, want 0 255 128", m[-160+32768], m[240+32768], m[40+32768])
	}
	for i := 1; i < len(lut); i++ {
		if lut[i] < lut[i-1] {
			t.Fatalf("LUT not monotonic at %d, got %v, want >= %v", i-32768, lut[i], lut[i-1])
		}
	}
	if WindowByName("mediastinum") != Mediastinum || WindowByName("x") != Lung {
		t.Errorf("WindowByName(mediastinum), WindowByName(x): got %v, %v; want Mediastinum, Lung", WindowByName("mediastinum"), WindowByName("x"))
	}
}

func TestRGBA(t *testing.T) {
	hu := []int16{-1400, -600, 200}
	dst := make([]byte, 12)
	RGBA(hu, Lung.LUT(), dst)
	want := []byte{0, 0, 0, 255, 128, 128, 128, 255, 255, 255, 255, 255}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("RGBA = %v, want %v", dst, want)
		}
	}
}

func TestCoronalRows(t *testing.T) {
	// 30 slices 8 mm apart, 0.65 mm pixels: 232 mm / 0.65 = 357 rows + 1.
	z := make([]float64, 30)
	for i := range z {
		z[i] = 312 - 8*float64(i)
	}
	rows, lo, hi, frac := CoronalRows(z, 0.65, 2000)
	if rows != 358 {
		t.Fatalf("rows %d, want 358", rows)
	}
	if lo[0] != 0 || frac[0] != 0 || hi[rows-1] != 29 || frac[rows-1] != 1 {
		t.Errorf("ends: got lo %d frac %v, hi %d frac %v; want lo 0 frac 0, hi 29 frac 1", lo[0], frac[0], hi[rows-1], frac[rows-1])
	}
	for k := range z {
		r := DisplayRowOfZ(z, rows, z[k])
		if got := NearestSlice(z, ZAtDisplayRow(z, rows, r)); got != k {
			t.Errorf("slice %d -> row %.1f -> slice %d, want %d", k, r, got, k)
		}
	}
	if r := DisplayRowOfZ(z, rows, 312); r != 0 {
		t.Errorf("first slice at row %v, want 0", r)
	}
	if r := DisplayRowOfZ(z, rows, 80); r != float64(rows-1) {
		t.Errorf("last slice: got row %v, want %d", r, rows-1)
	}
	if got := ZAtDisplayRow(z, rows, -50); got != 312 {
		t.Errorf("clamped z %v, want 312", got)
	}
	// A cap on the rows.
	if rows, _, _, _ := CoronalRows(z, 0.65, 100); rows != 100 {
		t.Errorf("capped rows %d, want 100", rows)
	}
	// Blending: two rows, halfway is the mean.
	src := []int16{0, 100, 200, 300}
	out := ResampleRows(src, 2, []int{0, 0, 0}, []int{1, 1, 1}, []float32{0, 0.5, 1})
	want := []int16{0, 100, 100, 200, 200, 300}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("ResampleRows = %v, want %v", out, want)
		}
	}
	// Uneven spacing: the display follows true distances.
	zu := []float64{0, -1, -10}
	rows, lo, _, frac = CoronalRows(zu, 1, 100)
	if rows != 11 || lo[1] != 0 || frac[1] != 1 || lo[2] != 1 || math.Abs(float64(frac[2])-1.0/9) > 1e-6 {
		t.Errorf("uneven: got rows %d lo %v frac %v; want 11 rows, lo[1:3] 0 1, frac[1:3] 1 1/9", rows, lo, frac)
	}
	if r, _, _, _ := CoronalRows(nil, 1, 10); r != 0 {
		t.Errorf("empty: got %v, want 0", r)
	}
}

func TestWords(t *testing.T) {
	if _, ok := Remaining(100, 1, 10); ok {
		t.Error("Remaining(100, 1, 10): got an estimate, want none from 100 ms")
	}
	if ms, ok := Remaining(1000, 10, 30); !ok || ms != 2000 {
		t.Errorf("Remaining(1000, 10, 30) = %v %v, want 2000 true", ms, ok)
	}
	for ms, want := range map[float64]string{500: "less than 1 s", 1200: "about 2 s", 75000: "about 1 min 15 s"} {
		if got := Duration(ms); got != want {
			t.Errorf("Duration(%v) = %q, want %q", ms, got, want)
		}
	}
	for x, want := range map[float64]string{8: "8 mm", 0.625: "0.625 mm", 1.25: "1.25 mm", 0: "–", 0.6467: "0.647 mm"} {
		if got := Millimetres(x); got != want {
			t.Errorf("Millimetres(%v) = %q, want %q", x, got, want)
		}
	}
	if Count(3, 30, "files") != "3 / 30 files" || Count(0, 0, "x") != "" {
		t.Errorf("Count: got %q, %q; want \"3 / 30 files\", \"\"", Count(3, 30, "files"), Count(0, 0, "x"))
	}
	if Plural(1, "file", "files") != "1 file" || Plural(12, "file", "files") != "12 files" {
		t.Errorf("Plural: got %q, %q; want \"1 file\", \"12 files\"", Plural(1, "file", "files"), Plural(12, "file", "files"))
	}
}

func TestOutline(t *testing.T) {
	rgba := make([]byte, 4*6)
	Outline([]int32{1, 4, 99, -1}, rgba)
	for i := range 6 {
		lit := rgba[4*i+3] == 255
		if lit != (i == 1 || i == 4) {
			t.Errorf("pixel %d lit %v, want %v", i, lit, (i == 1 || i == 4))
		}
	}
}

func TestMaskAndOutline(t *testing.T) {
	// A 4x4 block in a 6x6 image, as runs: its 12 border pixels are the
	// outline.
	var runs []int32
	for y := 1; y <= 4; y++ {
		runs = append(runs, int32(y*6+1), 4)
	}
	runs = append(runs, 40, 10) // clipped at the end of the image
	mask := MaskFromRuns(runs, 36)
	n := 0
	for _, m := range mask {
		if m {
			n++
		}
	}
	if n != 16 {
		t.Fatalf("mask of %d pixels, want 16", n)
	}
	got := OutlineOf(mask, 6, 6)
	if r := OutlineOfRuns(runs, mask, 6, 6); fmt.Sprint(r) != fmt.Sprint(got) {
		t.Errorf("outline from runs: got %v, want %v (from the mask)", r, got)
	}
	if len(got) != 12 {
		t.Fatalf("outline has %d pixels, want 12: %v", len(got), got)
	}
	for _, i := range got {
		x, y := int(i)%6, int(i)/6
		if x != 1 && x != 4 && y != 1 && y != 4 {
			t.Errorf("outline: got inner pixel (%d,%d), want only the border ring", x, y)
		}
	}
}

func TestHeatAt(t *testing.T) {
	// A 2x2 grid over a 10x10 image: values at pixels (2,2), (6,2), (2,6), (6,6).
	h := &Heat{W: 2, H: 2, Values: []float32{0, 10, 20, 30}, X0: 2, Y0: 2, StepX: 4, StepY: 4}
	tests := []struct{ x, y, want float64 }{
		{2, 2, 0}, {6, 2, 10}, {2, 6, 20}, {6, 6, 30},
		{4, 2, 5}, {4, 4, 15}, {0, 0, 0}, {9, 9, 30}, {9, 2, 10},
	}
	for _, tc := range tests {
		if got := h.At(tc.x, tc.y); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("At(%v,%v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

// TestHeatColour checks the page's scale against model/heatmap's, the
// one the command line's PNGs use.
func TestHeatColour(t *testing.T) {
	for _, rng := range []float64{1, 3, 20} {
		sc := heatmap.Scale{Range: rng, MaxAlpha: HeatMaxAlpha}
		for v := -1.5 * rng; v <= 1.5*rng; v += rng / 97 {
			rgb, a := HeatColour(v, rng)
			want := sc.Color(v)
			if rgb != [3]uint8{want.R, want.G, want.B} || uint8(math.Round(255*a)) != want.A {
				t.Fatalf("range %v, value %v: got %v %v, want model/heatmap's %+v", rng, v, rgb, a, want)
			}
		}
	}
	if _, a := HeatColour(0, 3); a != 0 {
		t.Errorf("0 is drawn: got %v, want 0", a)
	}
	neg, _ := HeatColour(-3, 3)
	pos, _ := HeatColour(3, 3)
	if neg != [3]uint8{189, 0, 38} || pos != [3]uint8{8, 69, 148} {
		t.Errorf("ends: got %v %v, want [189 0 38] [8 69 148]", neg, pos)
	}
}

func TestPaintHeat(t *testing.T) {
	h := &Heat{W: 1, H: 1, Values: []float32{-2}, X0: 0, Y0: 0, StepX: 1, StepY: 1}
	mask := []bool{true, false, true, false}
	dst := make([]byte, 16)
	PaintHeat(h, 3, mask, 2, 2, dst)
	for i := range 4 {
		if got := dst[4*i+3] != 0; got != mask[i] {
			t.Errorf("pixel %d: got painted %v, want %v (in the lung)", i, got, mask[i])
		}
	}
	// A bad map paints nothing.
	dst = make([]byte, 16)
	PaintHeat(&Heat{W: 2, H: 2, Values: []float32{1}}, 1, mask, 2, 2, dst)
	for _, b := range dst {
		if b != 0 {
			t.Fatalf("bad map painted: got %v, want 0", b)
		}
	}
}

func TestLegendAndLabels(t *testing.T) {
	dst := make([]byte, 4*100*2)
	LegendRGBA(100, 2, dst)
	sc := heatmap.Scale{Range: 1, MaxAlpha: HeatMaxAlpha}.Legend(100, 2)
	for x := range 100 {
		c := sc.NRGBAAt(x, 1)
		if d := dst[4*(100+x) : 4*(100+x)+4]; d[0] != c.R || d[1] != c.G || d[2] != c.B || d[3] != 255 {
			t.Fatalf("legend at %d: got %v, want model/heatmap's %+v", x, d, c)
		}
	}
	for x, want := range map[float64]string{0: "0", 100: "100", 2.54: "2.5", 0.0412: "0.041", -3: "-3", 2: "2", 0.5: "0.5", 20: "20"} {
		if got := ScaleLabel(x); got != want {
			t.Errorf("ScaleLabel(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestPaintHeatMatchesAt checks the fast painter against HeatColour of At
// at every lung pixel (up to the painter's 1024-step colour table).
func TestPaintHeatMatchesAt(t *testing.T) {
	h := &Heat{W: 4, H: 3, X0: 3.5, Y0: 5, StepX: 8, StepY: 9}
	for i := range 12 {
		h.Values = append(h.Values, float32(i*37%23)/22*8-5)
	}
	w, ht := 32, 24
	mask := make([]bool, w*ht)
	for i := range mask {
		mask[i] = i%7 != 0
	}
	dst := make([]byte, 4*w*ht)
	PaintHeat(h, 3, mask, w, ht, dst)
	for y := range ht {
		for x := range w {
			i := y*w + x
			d := dst[4*i : 4*i+4]
			if !mask[i] {
				if d[3] != 0 {
					t.Fatalf("pixel (%d,%d) outside the mask painted, got %v, want 0", x, y, d[3])
				}
				continue
			}
			rgb, a := HeatColour(h.At(float64(x), float64(y)), 3)
			if wa := math.Round(a * 255); math.Abs(float64(d[3])-wa) > 2 {
				t.Fatalf("(%d,%d): alpha %d, want %v", x, y, d[3], wa)
			}
			for c := range 3 {
				if d[3] > 0 && math.Abs(float64(d[c])-float64(rgb[c])) > 3 {
					t.Fatalf("(%d,%d): colour %v, want %v", x, y, d[:3], rgb)
				}
			}
		}
	}
}
