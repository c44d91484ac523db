package phantom

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"sscscore/model/internal/scalar"
	"sscscore/model/volume"
)

// SheetOptions controls ContactSheet.
type SheetOptions struct {
	// Row is the image row (y index) of the coronal reformat; a negative
	// value picks the row through the middle of the lungs.
	Row int
	// Panel is the size in pixels of each axial panel (default 256); the
	// coronal panel is twice as high.
	Panel int
	// Window centre and width (default lung window -600 / 1500).
	Center, Width float64
	// Title is written at the top left.
	Title string
	// Notes are written under each level panel (e.g. the scores).
	Notes [5]string
	// Legend heads the list of the levels' z (default "true levels:", a
	// phantom's; a scored scan's are the found levels).
	Legend string
}

// levelColors are the line colours of L1..L5.
var levelColors = [5]color.RGBA{
	{255, 80, 80, 255}, {255, 200, 40, 255}, {80, 220, 80, 255}, {60, 200, 255, 255}, {230, 100, 255, 255},
}

// ContactSheet draws a coronal reformat of src with the five levels as
// coloured lines, beside the five axial slices nearest the levels, in a
// lung window. It reads every slice of src once.
func ContactSheet(ctx context.Context, src volume.Source, levels [5]float64, opt SheetOptions) (*image.Paletted, error) {
	g := src.Geometry()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("phantom: sheet: %w", err)
	}
	if opt.Panel <= 0 {
		opt.Panel = 256
	}
	if opt.Width <= 0 {
		opt.Center, opt.Width = -600, 1500
	}
	n := g.Nx * g.Ny
	buf := make([]int16, n)
	// level slices
	var lv [5][]int16
	var lk [5]int
	for i, z := range levels {
		lk[i], _ = g.NearestSlice(z)
	}
	row := opt.Row
	mid := g.Nz / 2
	if row < 0 || row >= g.Ny {
		if err := src.Slice(ctx, lk[L3], buf); err != nil {
			return nil, err
		}
		row = airRow(buf, g.Nx, g.Ny)
	}
	_ = mid
	cor := make([]int16, g.Nz*g.Nx)
	for k := 0; k < g.Nz; k++ {
		if err := src.Slice(ctx, k, buf); err != nil {
			return nil, fmt.Errorf("phantom: sheet: slice %d: %w", k, err)
		}
		copy(cor[k*g.Nx:(k+1)*g.Nx], buf[row*g.Nx:(row+1)*g.Nx])
		for i := range lk {
			if lk[i] == k {
				lv[i] = append([]int16(nil), buf...)
			}
		}
	}
	P := opt.Panel
	H := 2 * P
	// coronal panel: isotropic in mm, fitted into H x H
	zlo, zhi := g.ZRange()
	ext := zhi - zlo + g.Spacing[2]
	wmm := float64(g.Nx) * g.Spacing[0]
	scale := math.Min(float64(H)/ext, float64(H)/wmm) // px per mm
	cw := int(wmm * scale)
	ch := int(ext * scale)
	W := cw + 3*P + 8
	pal := color.Palette{}
	for i := 0; i < 248; i++ {
		v := uint8(i * 255 / 247)
		pal = append(pal, color.RGBA{v, v, v, 255})
	}
	for _, c := range levelColors {
		pal = append(pal, c)
	}
	pal = append(pal, color.RGBA{255, 255, 255, 255}, color.RGBA{20, 20, 40, 255})
	bg := uint8(len(pal) - 1)
	white := uint8(len(pal) - 2)
	img := image.NewPaletted(image.Rect(0, 0, W, H+16), pal)
	for i := range img.Pix {
		img.Pix[i] = bg
	}
	win := func(v float64) uint8 {
		t := (v - (opt.Center - opt.Width/2)) / opt.Width
		return uint8(scalar.Clamp(t, 0, 1) * 247)
	}
	oy := 16 + (H-ch)/2
	for y := 0; y < ch; y++ {
		z := zhi + g.Spacing[2]/2 - (float64(y)+0.5)/scale
		// linear interpolation between slices
		fk := (g.SliceZ[0] - z) / math.Max(g.Spacing[2], 1e-6)
		if len(g.SliceZ) > 1 {
			fk = (g.SliceZ[0] - z) / ((g.SliceZ[0] - g.SliceZ[g.Nz-1]) / float64(g.Nz-1))
		}
		k0 := int(math.Floor(fk))
		t := fk - float64(k0)
		k0c, k1c := min(max(k0, 0), g.Nz-1), min(max(k0+1, 0), g.Nz-1)
		for x := 0; x < cw; x++ {
			xi := min(int((float64(x)+0.5)/scale/g.Spacing[0]), g.Nx-1)
			v := scalar.Lerp(float64(cor[k0c*g.Nx+xi]), float64(cor[k1c*g.Nx+xi]), t)
			img.Pix[(oy+y)*img.Stride+x] = win(v)
		}
	}
	// level lines
	for i, z := range levels {
		y := int((zhi + g.Spacing[2]/2 - z) * scale)
		if y < 0 || y >= ch {
			continue
		}
		c := uint8(248 + i)
		for x := 0; x < cw; x++ {
			if (x/4)%2 == 0 || x < 18 {
				img.Pix[(oy+y)*img.Stride+x] = c
			}
		}
		drawText(img, 2, oy+y-2, fmt.Sprintf("L%d", i+1), c)
	}
	// axial panels: 3 x 2 grid, the sixth holds the legend
	for i := 0; i < 5; i++ {
		px := cw + 8 + (i%3)*P
		py := 16 + (i/3)*P
		if lv[i] == nil {
			continue
		}
		for y := 0; y < P; y++ {
			sy := min(int((float64(y)+0.5)*float64(g.Ny)/float64(P)), g.Ny-1)
			for x := 0; x < P; x++ {
				sx := min(int((float64(x)+0.5)*float64(g.Nx)/float64(P)), g.Nx-1)
				img.Pix[(py+y)*img.Stride+px+x] = win(float64(lv[i][sy*g.Nx+sx]))
			}
		}
		c := uint8(248 + i)
		for x := 0; x < P; x++ {
			img.Pix[py*img.Stride+px+x] = c
			img.Pix[(py+1)*img.Stride+px+x] = c
		}
		drawText(img, px+3, py+14, fmt.Sprintf("L%d z=%.1f", i+1, g.SliceZ[lk[i]]), c)
		if opt.Notes[i] != "" {
			drawText(img, px+3, py+P-4, opt.Notes[i], white)
		}
	}
	lx, ly := cw+8+2*P, 16+P
	if opt.Legend == "" {
		opt.Legend = "true levels:"
	}
	drawText(img, lx+4, ly+16, opt.Legend, white)
	for i, z := range levels {
		drawText(img, lx+4, ly+34+16*i, fmt.Sprintf("L%d %8.1f mm", i+1, z), uint8(248+i))
	}
	drawText(img, lx+4, ly+34+16*5+8, fmt.Sprintf("%dx%dx%d", g.Nx, g.Ny, g.Nz), white)
	drawText(img, lx+4, ly+34+16*6+8, fmt.Sprintf("%.3g x %.3g mm", g.Spacing[0], g.Spacing[2]), white)
	drawText(img, 2, 12, opt.Title, white)
	return img, nil
}

// airRow returns the row through the middle of the air inside the body of
// slice hu (for the coronal reformat): the mean row of pixels below -400
// HU that have body (> -300 HU) both to their left and right.
func airRow(hu []int16, nx, ny int) int {
	var sum, cnt float64
	for y := 0; y < ny; y++ {
		row := hu[y*nx : (y+1)*nx]
		l, r := -1, -1
		for x := 0; x < nx; x++ {
			if row[x] > -300 {
				if l < 0 {
					l = x
				}
				r = x
			}
		}
		if l < 0 {
			continue
		}
		for x := l; x <= r; x++ {
			if row[x] < -400 {
				sum += float64(y)
				cnt++
			}
		}
	}
	if cnt == 0 {
		return ny / 2
	}
	return int(sum / cnt)
}

func drawText(img *image.Paletted, x, y int, s string, c uint8) {
	d := font.Drawer{
		Dst:  img,
		Src:  image.NewUniform(img.Palette[c]),
		Face: basicfont.Face7x13,
		Dot:  fixed.P(x, y),
	}
	d.DrawString(s)
}

// Sheet draws the contact sheet of the phantom on grid g: the coronal
// reformat through the carina with the five true levels, and the five
// level slices annotated with their disease labels when the phantom has
// disease.
func (p *Phantom) Sheet(ctx context.Context, g volume.Geometry, title string) (*image.Paletted, error) {
	an := p.model()
	row := int(math.Round((an.carinaP.Y + p.Anatomy.Offset[1] - g.Origin[1]) / g.Spacing[1]))
	opt := SheetOptions{Row: row, Title: title}
	if p.Opt.Disease {
		lab, _, err := p.LevelLabels(ctx, g)
		if err != nil {
			return nil, err
		}
		for i, l := range lab {
			opt.Notes[i] = fmt.Sprintf("TOT %.0f GG %.0f RET %.0f %%", l.TOT, l.GG, l.RET)
		}
	}
	return ContactSheet(ctx, p.Source(g), p.Levels(), opt)
}
