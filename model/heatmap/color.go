package heatmap

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"slices"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Scale maps heat-map values (score points) to overlay colours: a
// diverging scale symmetric around 0, yellow to dark red for negative
// values (disease that raises the score) and light to dark blue for
// positive ones (lung that lowers it). The opacity grows with |v| and
// reaches MaxAlpha at a quarter of Range, so that values near 0 leave the
// CT visible. The CLI's PNGs and the web page use the same scale.
type Scale struct {
	// Range is the value (points) at which the end colours are reached;
	// the legend spans -Range … +Range.
	Range float64
	// MaxAlpha is the overlay's largest opacity (0 … 1).
	MaxAlpha float64
}

// DefaultScale is ±3 points at 75 % opacity.
func DefaultScale() Scale { return Scale{Range: 3, MaxAlpha: 0.75} }

// AutoScale returns a scale whose range is the 99th percentile of |v| over
// the lung pixels of maps for score s, rounded up to 1, 2 or 5 times a
// power of ten (at least 1 point): pass the maps of all levels to compare
// them on one legend.
func AutoScale(s Score, maps ...*Maps) Scale {
	var v []float64
	for _, m := range maps {
		if m == nil {
			continue
		}
		for i, l := range m.Lung {
			if l {
				v = append(v, math.Abs(float64(m.Values[s][i])))
			}
		}
	}
	sc := DefaultScale()
	if len(v) == 0 {
		return sc
	}
	slices.Sort(v)
	q := v[min(len(v)-1, int(0.99*float64(len(v))))]
	sc.Range = niceCeil(math.Max(q, 1))
	return sc
}

// niceCeil rounds x > 0 up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// Colour stops of the two sides (t = |v|/Range from 0 to 1): YlOrRd and
// Blues (ColorBrewer).
var (
	negStops = [][3]float64{{255, 255, 178}, {254, 178, 76}, {240, 59, 32}, {189, 0, 38}}
	posStops = [][3]float64{{239, 243, 255}, {107, 174, 214}, {33, 113, 181}, {8, 69, 148}}
)

func ramp(stops [][3]float64, t float64) (r, g, b uint8) {
	t = math.Max(0, math.Min(1, t)) * float64(len(stops)-1)
	i := min(int(t), len(stops)-2)
	f := t - float64(i)
	c := func(k int) uint8 { return uint8(math.Round(stops[i][k] + f*(stops[i+1][k]-stops[i][k]))) }
	return c(0), c(1), c(2)
}

// Color returns the overlay colour of value v (non-premultiplied alpha).
func (sc Scale) Color(v float64) color.NRGBA {
	rg := sc.Range
	if !(rg > 0) {
		rg = 1
	}
	t := math.Abs(v) / rg
	stops := negStops
	if v > 0 {
		stops = posStops
	}
	r, g, b := ramp(stops, t)
	a := sc.MaxAlpha
	if !(a > 0) {
		a = 0.75
	}
	a *= math.Min(1, 4*t)
	return color.NRGBA{r, g, b, uint8(math.Round(255 * math.Min(1, a)))}
}

// Ticks returns the legend's tick values: -Range, -Range/2, 0, Range/2,
// Range.
func (sc Scale) Ticks() []float64 {
	return []float64{-sc.Range, -sc.Range / 2, 0, sc.Range / 2, sc.Range}
}

// Legend draws the scale as a horizontal bar of w × h pixels from -Range
// (left) to +Range (right), blended over mid-grey lung as on a slice.
func (sc Scale) Legend(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		v := (2*(float64(x)+0.5)/float64(w) - 1) * sc.Range
		c := blend(color.NRGBA{60, 60, 60, 255}, sc.Color(v))
		for y := 0; y < h; y++ {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// blend composes overlay colour o over opaque colour c.
func blend(c, o color.NRGBA) color.NRGBA {
	a := float64(o.A) / 255
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-a) + float64(y)*a)) }
	return color.NRGBA{mix(c.R, o.R), mix(c.G, o.G), mix(c.B, o.B), 255}
}

// Lung window of the overlay's CT background (HU).
const (
	windowLoHU = -1350
	windowHiHU = 150
)

// Overlay draws the slice hu (m.Nx × m.Ny, HU) in a lung window with the
// map of score s blended over its lung pixels, a title line above and the
// legend below (ticks in score points).
func Overlay(hu []int16, m *Maps, s Score, sc Scale, title string) (*image.RGBA, error) {
	nx, ny := m.Nx, m.Ny
	if len(hu) != nx*ny {
		return nil, fmt.Errorf("heatmap: slice of %d pixels for a %dx%d map", len(hu), nx, ny)
	}
	const top, bottom = 18, 40
	img := image.NewRGBA(image.Rect(0, 0, nx, top+ny+bottom))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Black), image.Point{}, draw.Src)
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			i := y*nx + x
			g := uint8(math.Round(255 * math.Max(0, math.Min(1, float64(int(hu[i])-windowLoHU)/(windowHiHU-windowLoHU)))))
			c := color.NRGBA{g, g, g, 255}
			if m.Lung[i] {
				c = blend(c, sc.Color(float64(m.Values[s][i])))
			}
			img.Set(x, top+y, c)
		}
	}
	white := image.NewUniform(color.White)
	text := func(x, y int, s string) {
		d := font.Drawer{Dst: img, Src: white, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	text(4, 13, title)
	// legend: a bar across the middle half, ticks and labels below it
	lw := max(nx/2, 100)
	lx := (nx - lw) / 2
	ly := top + ny + 4
	draw.Draw(img, image.Rect(lx, ly, lx+lw, ly+12), sc.Legend(lw, 12), image.Point{}, draw.Src)
	for _, t := range sc.Ticks() {
		x := lx + int(math.Round((t/sc.Range+1)/2*float64(lw-1)))
		for y := ly + 12; y < ly+15; y++ {
			img.Set(x, y, color.White)
		}
		label := fmt.Sprintf("%+g", t)
		if t == 0 {
			label = "0"
		}
		text(x-len(label)*7/2, ly+27, label)
	}
	text(min(lx+lw+8, nx-50), ly+11, "points")
	return img, nil
}

// WritePNG writes the overlay of score s (see Overlay) as a PNG.
func WritePNG(w io.Writer, hu []int16, m *Maps, s Score, sc Scale, title string) error {
	img, err := Overlay(hu, m, s, sc, title)
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}
