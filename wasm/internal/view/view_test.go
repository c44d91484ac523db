package view

import (
	"math"
	"testing"
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
		t.Errorf("mediastinum window: %d %d %d", m[-160+32768], m[240+32768], m[40+32768])
	}
	for i := 1; i < len(lut); i++ {
		if lut[i] < lut[i-1] {
			t.Fatalf("LUT not monotonic at %d", i-32768)
		}
	}
	if WindowByName("mediastinum") != Mediastinum || WindowByName("x") != Lung {
		t.Error("WindowByName")
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
		t.Errorf("ends: lo %d frac %v, hi %d frac %v", lo[0], frac[0], hi[rows-1], frac[rows-1])
	}
	for k := range z {
		r := DisplayRowOfZ(z, rows, z[k])
		if got := NearestSlice(z, ZAtDisplayRow(z, rows, r)); got != k {
			t.Errorf("slice %d -> row %.1f -> slice %d", k, r, got)
		}
	}
	if r := DisplayRowOfZ(z, rows, 312); r != 0 {
		t.Errorf("first slice at row %v", r)
	}
	if r := DisplayRowOfZ(z, rows, 80); r != float64(rows-1) {
		t.Errorf("last slice at row %v", r)
	}
	if got := ZAtDisplayRow(z, rows, -50); got != 312 {
		t.Errorf("clamped z %v", got)
	}
	// A cap on the rows.
	if rows, _, _, _ := CoronalRows(z, 0.65, 100); rows != 100 {
		t.Errorf("capped rows %d", rows)
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
		t.Errorf("uneven: rows %d lo %v frac %v", rows, lo, frac)
	}
	if r, _, _, _ := CoronalRows(nil, 1, 10); r != 0 {
		t.Error("empty")
	}
}

func TestRound5(t *testing.T) {
	tests := []struct{ x, want float64 }{
		{0, 0}, {2.4, 0}, {2.5, 5}, {7.49, 5}, {7.5, 10}, {97.6, 100}, {-1, 0},
	}
	for _, tc := range tests {
		if got := Round5(tc.x); got != tc.want {
			t.Errorf("Round5(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	if Percent(12.34, false) != "12.3" || Percent(12.34, true) != "10" {
		t.Error("Percent")
	}
}

func TestWords(t *testing.T) {
	if _, ok := Remaining(100, 1, 10); ok {
		t.Error("estimate from 100 ms")
	}
	if ms, ok := Remaining(1000, 10, 30); !ok || ms != 2000 {
		t.Errorf("Remaining = %v %v", ms, ok)
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
		t.Error("Count")
	}
	if Plural(1, "file", "files") != "1 file" || Plural(12, "file", "files") != "12 files" {
		t.Error("Plural")
	}
}

func TestOutline(t *testing.T) {
	rgba := make([]byte, 4*6)
	Outline([]int32{1, 4, 99, -1}, rgba)
	for i := range 6 {
		lit := rgba[4*i+3] == 255
		if lit != (i == 1 || i == 4) {
			t.Errorf("pixel %d lit %v", i, lit)
		}
	}
}
