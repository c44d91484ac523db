// Package view holds the page's pure computations, kept apart from the DOM
// code so they are tested natively: CT display windows, rendering
// Hounsfield pixels into RGBA, resampling the coronal reformat to its true
// aspect ratio, and the wording of counts, times and scores.
package view

import (
	"fmt"
	"math"
	"strconv"
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

// MaskFromRuns returns the mask of n pixels whose set pixels are the runs
// (start, length, start, length...); runs outside the mask are clipped.
func MaskFromRuns(runs []int32, n int) []bool {
	m := make([]bool, n)
	for i := 0; i+1 < len(runs); i += 2 {
		a, l := int(runs[i]), int(runs[i+1])
		for j := max(a, 0); j < min(a+l, n); j++ {
			m[j] = true
		}
	}
	return m
}

// OutlineOf returns the pixels (index y*w+x) of mask (w x h) that have a
// 4-neighbour outside it or lie on the image border: the mask's edge.
func OutlineOf(mask []bool, w, h int) []int32 {
	var out []int32
	for y := range h {
		for x := range w {
			i := y*w + x
			if !mask[i] {
				continue
			}
			if x == 0 || y == 0 || x == w-1 || y == h-1 || !mask[i-1] || !mask[i+1] || !mask[i-w] || !mask[i+w] {
				out = append(out, int32(i))
			}
		}
	}
	return out
}

// OutlineOfRuns returns OutlineOf(mask, w, h) for the mask made of runs
// (MaskFromRuns), looking only at the mask's pixels.
func OutlineOfRuns(runs []int32, mask []bool, w, h int) []int32 {
	var out []int32
	n := w * h
	for r := 0; r+1 < len(runs); r += 2 {
		a, b := max(int(runs[r]), 0), min(int(runs[r]+runs[r+1]), n)
		for i := a; i < b; i++ {
			x, y := i%w, i/w
			if x == 0 || y == 0 || x == w-1 || y == h-1 || !mask[i-1] || !mask[i+1] || !mask[i-w] || !mask[i+w] {
				out = append(out, int32(i))
			}
		}
	}
	return out
}

// Heat is a heat map on a coarse grid placed over an image: value (i, j)
// (row-major, W x H) belongs at image pixel (X0 + i*StepX, Y0 + j*StepY).
type Heat struct {
	W, H                 int
	Values               []float32
	X0, Y0, StepX, StepY float64
}

// At returns the heat map's value at image pixel (x, y), interpolated
// bilinearly between the grid's values (and held constant beyond them).
func (h *Heat) At(x, y float64) float64 {
	gx := min(max((x-h.X0)/h.StepX, 0), float64(h.W-1))
	gy := min(max((y-h.Y0)/h.StepY, 0), float64(h.H-1))
	i0, j0 := int(gx), int(gy)
	i1, j1 := min(i0+1, h.W-1), min(j0+1, h.H-1)
	fx, fy := gx-float64(i0), gy-float64(j0)
	v := func(i, j int) float64 { return float64(h.Values[j*h.W+i]) }
	top := v(i0, j0)*(1-fx) + v(i1, j0)*fx
	bot := v(i0, j1)*(1-fx) + v(i1, j1)*fx
	return top*(1-fy) + bot*fy
}

// The heat-map colour scale, the one model/heatmap's Scale defines for the
// command line's PNGs (kept equal by a test; the page does not link the
// model): diverging around 0, yellow to dark red (ColorBrewer YlOrRd) for
// negative values (disease that raises the score), light to dark blue
// (Blues) for positive ones; the opacity grows with |v| and reaches
// HeatMaxAlpha at a quarter of the range, so that values near 0 leave the
// CT visible.
var (
	heatNeg = [][3]float64{{255, 255, 178}, {254, 178, 76}, {240, 59, 32}, {189, 0, 38}}
	heatPos = [][3]float64{{239, 243, 255}, {107, 174, 214}, {33, 113, 181}, {8, 69, 148}}
)

// HeatMaxAlpha is the largest opacity of a heat map's colour.
const HeatMaxAlpha = 0.75

// LegendBackground is the grey the legend blends the scale over (lung as
// it looks on a slice).
var LegendBackground = [3]uint8{60, 60, 60}

// HeatColour returns the colour and opacity (0..1) of value v on the scale
// of range rng (the end colours at ±rng).
func HeatColour(v, rng float64) (rgb [3]uint8, alpha float64) {
	if !(rng > 0) {
		rng = 1
	}
	t := math.Abs(v) / rng
	stops := heatNeg
	if v > 0 {
		stops = heatPos
	}
	p := math.Max(0, math.Min(1, t)) * float64(len(stops)-1)
	k := min(int(p), len(stops)-2)
	f := p - float64(k)
	for i := range rgb {
		rgb[i] = uint8(math.Round(stops[k][i] + f*(stops[k+1][i]-stops[k][i])))
	}
	return rgb, math.Min(1, HeatMaxAlpha*math.Min(1, 4*t))
}

// PaintHeat draws a heat map into an RGBA overlay of w x h pixels (straight
// alpha), only at the pixels where mask is set (the lungs): the colour of
// each pixel's interpolated value (as At) on the scale of range rng.
func PaintHeat(h *Heat, rng float64, mask []bool, w, ht int, dst []byte) {
	if h == nil || h.W < 1 || h.H < 1 || len(h.Values) < h.W*h.H || !(h.StepX > 0) || !(h.StepY > 0) || !(rng > 0) {
		return
	}
	// The colours of 2048 steps from -rng to rng, and each column's grid
	// cells and weight, computed once.
	const steps = 2048
	var lut [steps][4]uint8
	for i := range lut {
		rgb, a := HeatColour((2*float64(i)/(steps-1)-1)*rng, rng)
		lut[i] = [4]uint8{rgb[0], rgb[1], rgb[2], uint8(math.Round(a * 255))}
	}
	scale := float64(steps-1) / (2 * rng)
	cell := func(p, p0, step float64, n int) (int, int, float32) {
		g := min(math.Max((p-p0)/step, 0), float64(n-1))
		i := int(g)
		return i, min(i+1, n-1), float32(g - float64(i))
	}
	x0, x1, fx := make([]int, w), make([]int, w), make([]float32, w)
	for x := range w {
		x0[x], x1[x], fx[x] = cell(float64(x), h.X0, h.StepX, h.W)
	}
	for y := range ht {
		row := mask[y*w : (y+1)*w]
		j0, j1, fy := cell(float64(y), h.Y0, h.StepY, h.H)
		r0, r1 := h.Values[j0*h.W:(j0+1)*h.W], h.Values[j1*h.W:(j1+1)*h.W]
		for x, in := range row {
			if !in {
				continue
			}
			a, b := x0[x], x1[x]
			top := r0[a] + (r0[b]-r0[a])*fx[x]
			bot := r1[a] + (r1[b]-r1[a])*fx[x]
			v := float64(top + (bot-top)*fy)
			k := int((v+rng)*scale + 0.5)
			c := lut[min(max(k, 0), steps-1)]
			if c[3] == 0 {
				continue
			}
			i := 4 * (y*w + x)
			copy(dst[i:i+4], c[:])
		}
	}
}

// LegendRGBA renders the colour scale as a w x h strip from -range (left)
// to +range (right), blended over LegendBackground as on a slice.
func LegendRGBA(w, h int, dst []byte) {
	for x := range w {
		v := 2*(float64(x)+0.5)/float64(w) - 1
		rgb, a := HeatColour(v, 1)
		a = math.Round(a*255) / 255 // as an 8-bit alpha
		var c [3]uint8
		for i := range c {
			c[i] = uint8(math.Round(float64(LegendBackground[i])*(1-a) + float64(rgb[i])*a))
		}
		for y := range h {
			d := dst[4*(y*w+x) : 4*(y*w+x)+4]
			d[0], d[1], d[2], d[3] = c[0], c[1], c[2], 255
		}
	}
}

// ScaleLabel formats a colour scale's end for the legend, to two
// significant digits (integers in full): "100", "2", "2.5", "0.041".
func ScaleLabel(x float64) string {
	a := math.Abs(x)
	if a >= 10 {
		return strconv.FormatFloat(math.Round(x), 'f', -1, 64)
	}
	if a == 0 {
		return "0"
	}
	p := math.Pow(10, 1-math.Floor(math.Log10(a)))
	return strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64)
}
