// Package view holds the page's pure computations, kept apart from the DOM
// code so they are tested natively: CT display windows, rendering
// Hounsfield pixels into RGBA, resampling the coronal reformat to its true
// aspect ratio, and the wording of counts, times and scores.
package view

import (
	"fmt"
	"math"
)

// A Window maps Hounsfield units to grey levels: Center-Width/2 is black,
// Center+Width/2 white.
type Window struct {
	Name          string
	Center, Width float64
}

// Window presets.
var (
	Lung        = Window{Name: "lung", Center: -600, Width: 1500}
	Mediastinum = Window{Name: "mediastinum", Center: 40, Width: 400}
)

// WindowByName returns the preset with the given name (lung by default).
func WindowByName(name string) Window {
	if name == Mediastinum.Name {
		return Mediastinum
	}
	return Lung
}

// LUT returns the grey level of every HU value from -32768 to 32767
// (index hu+32768) under the window.
func (w Window) LUT() *[65536]uint8 {
	var lut [65536]uint8
	lo := w.Center - w.Width/2
	for i := range lut {
		hu := float64(i - 32768)
		g := (hu - lo) / w.Width * 255
		lut[i] = uint8(math.Round(min(max(g, 0), 255)))
	}
	return &lut
}

// RGBA renders w*h HU pixels into dst (4*w*h bytes, opaque grey).
func RGBA(hu []int16, lut *[65536]uint8, dst []byte) {
	_ = dst[4*len(hu)-1]
	for i, v := range hu {
		g := lut[int(v)+32768]
		d := dst[4*i : 4*i+4 : 4*i+4]
		d[0], d[1], d[2], d[3] = g, g, g, 255
	}
}

// CoronalRows returns, for a coronal reformat whose image rows are slices
// at the patient z positions sliceZ (head first) and whose columns are
// pixelW mm apart, the number of display rows that gives square pixels
// (at most maxRows) and, for each display row, the two image rows to blend
// and the weight of the second. Display row 0 is the first slice's centre,
// the last row the last slice's.
func CoronalRows(sliceZ []float64, pixelW float64, maxRows int) (rows int, lo, hi []int, frac []float32) {
	n := len(sliceZ)
	if n == 0 || !(pixelW > 0) {
		return 0, nil, nil, nil
	}
	if n == 1 {
		return 1, []int{0}, []int{0}, []float32{0}
	}
	extent := math.Abs(sliceZ[n-1] - sliceZ[0])
	rows = int(math.Round(extent/pixelW)) + 1
	rows = min(max(rows, n), maxRows)
	if rows < 2 {
		rows = 2
	}
	lo, hi, frac = make([]int, rows), make([]int, rows), make([]float32, rows)
	// Positions along the scan axis, measured from the first slice.
	dist := make([]float64, n)
	for i := range sliceZ {
		dist[i] = math.Abs(sliceZ[i] - sliceZ[0])
	}
	j := 0
	for r := range rows {
		d := extent * float64(r) / float64(rows-1)
		for j < n-2 && dist[j+1] < d {
			j++
		}
		span := dist[j+1] - dist[j]
		f := 0.0
		if span > 0 {
			f = (d - dist[j]) / span
		}
		f = min(max(f, 0), 1)
		lo[r], hi[r], frac[r] = j, j+1, float32(f)
	}
	return rows, lo, hi, frac
}

// ResampleRows builds the display image of a coronal reformat: src has
// height rows of width HU values; the result has one row per entry of lo,
// blending rows lo[r] and hi[r].
func ResampleRows(src []int16, width int, lo, hi []int, frac []float32) []int16 {
	out := make([]int16, width*len(lo))
	for r := range lo {
		a := src[lo[r]*width : (lo[r]+1)*width]
		b := src[hi[r]*width : (hi[r]+1)*width]
		o := out[r*width : (r+1)*width]
		f := frac[r]
		if f == 0 {
			copy(o, a)
			continue
		}
		for x := range o {
			o[x] = int16(math.Round(float64(float32(a[x]) + f*float32(int32(b[x])-int32(a[x])))))
		}
	}
	return out
}

// DisplayRowOfZ returns the display row (of rows, as made by CoronalRows
// from rowZ) at patient z; z outside the reformat maps beyond its ends.
func DisplayRowOfZ(rowZ []float64, rows int, z float64) float64 {
	n := len(rowZ)
	if n < 2 || rows < 2 {
		return 0
	}
	extent := rowZ[n-1] - rowZ[0]
	if extent == 0 {
		return 0
	}
	return (z - rowZ[0]) / extent * float64(rows-1)
}

// ZAtDisplayRow returns the patient z shown at display row r (clamped to
// the reformat).
func ZAtDisplayRow(rowZ []float64, rows int, r float64) float64 {
	n := len(rowZ)
	if n == 0 {
		return 0
	}
	if n < 2 || rows < 2 {
		return rowZ[0]
	}
	r = min(max(r, 0), float64(rows-1))
	return rowZ[0] + (rowZ[n-1]-rowZ[0])*r/float64(rows-1)
}

// NearestSlice returns the index of the slice whose z is nearest z.
func NearestSlice(sliceZ []float64, z float64) int {
	best, bestD := 0, math.Inf(1)
	for i, zi := range sliceZ {
		if d := math.Abs(zi - z); d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// LevelNames names the five Goh levels.
var LevelNames = [5]string{
	"origin of the great vessels",
	"main carina",
	"pulmonary venous confluence",
	"halfway between L3 and L5",
	"just above the right hemidiaphragm",
}

// Round5 rounds a percentage to the nearest multiple of 5 (halves up), as
// the scoring method reports scores.
func Round5(x float64) float64 {
	return math.Floor(x/5+0.5) * 5
}

// Percent formats a score: a multiple of 5 without decimals when rounded,
// one decimal otherwise.
func Percent(x float64, rounded bool) string {
	if rounded {
		return fmt.Sprintf("%.0f", Round5(x))
	}
	return fmt.Sprintf("%.1f", x)
}

// Remaining estimates the time left in a stage from the time spent so far
// and the counts; ok is false when there is not enough to go on yet.
func Remaining(elapsedMS float64, done, total int) (ms float64, ok bool) {
	if done <= 0 || total <= done || elapsedMS < 300 {
		return 0, false
	}
	return elapsedMS / float64(done) * float64(total-done), true
}

// Duration says a time in milliseconds in words, e.g. "about 12 s left".
func Duration(ms float64) string {
	s := ms / 1000
	switch {
	case s < 1:
		return "less than 1 s"
	case s < 60:
		return fmt.Sprintf("about %.0f s", math.Ceil(s))
	default:
		return fmt.Sprintf("about %d min %02d s", int(s)/60, int(s)%60)
	}
}

// Count formats "done / total unit".
func Count(done, total int, unit string) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("%d / %d %s", done, total, unit)
}

// Millimetres formats a length, dropping needless decimals ("8 mm",
// "0.625 mm").
func Millimetres(x float64) string {
	if x == 0 || math.IsNaN(x) {
		return "–"
	}
	s := fmt.Sprintf("%.3f", x)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	s = stringsTrimDot(s)
	return s + " mm"
}

func stringsTrimDot(s string) string {
	if s[len(s)-1] == '.' {
		return s[:len(s)-1]
	}
	return s
}

// Plural returns "1 file" or "n files".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// OutlineColour is the colour of the lung outline (RGBA).
var OutlineColour = [4]byte{57, 217, 138, 255}

// Outline paints the pixels listed (index y*width+x) into an RGBA overlay.
func Outline(pixels []int32, rgba []byte) {
	for _, i := range pixels {
		j := 4 * int(i)
		if j >= 0 && j+3 < len(rgba) {
			copy(rgba[j:j+4], OutlineColour[:])
		}
	}
}
