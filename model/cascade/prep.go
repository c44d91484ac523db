package cascade

import (
	"context"
	"fmt"
	"math"

	"sscscore/model/lungmask"
	"sscscore/model/volume"
)

// Fixed physical grids of the two networks. They are part of the trained
// models: changing one needs retraining.
const (
	// CoarseMM is the voxel size (mm, in-plane and along z) of the levels
	// network's grid.
	CoarseMM = 4.0
	// CoarseWide is the side (cells) of the square grid the sequential pass
	// fills, centred on the image centre: 128 cells of 4 mm = 512 mm.
	CoarseWide = 128
	// LevelsXY is the side (cells) of the levels network's in-plane crop,
	// centred on the body: 96 cells of 4 mm = 384 mm.
	LevelsXY = 96
	// LevelsPad is the number of "outside the scan" slices added above and
	// below the scan (32 mm each), into which the network can place a
	// level that the scan misses.
	LevelsPad = 8
	// OutsideHU is the value the levels input holds outside the scan (no
	// real voxel is below -1024 HU after ingestion).
	OutsideHU = -1500

	// SliceMM is the pixel size (mm) of the score network's input grid.
	SliceMM = 1.5
	// SliceSide is the side (pixels) of the score network's input: 256
	// pixels of 1.5 mm = 384 mm, centred on the lungs.
	SliceSide = 256
	// CellStride is the score network's output stride: one output cell
	// covers 8x8 input pixels (12 mm).
	CellStride = 8
	// CellSide is the side of the score network's output map (32).
	CellSide = SliceSide / CellStride

	// MinLungAreaMM2 is the smallest lung area (mm², both lungs) on a slice
	// that is scored: 10 cm². Below it the slice holds no lung worth
	// scoring (for example the abdomen, or the neck above the apices),
	// whereas any of the five Goh levels shows well over 100 cm² of lung in
	// an adult.
	MinLungAreaMM2 = 1000.0
)

// NormLevelsHU maps Hounsfield units to the levels network's input: clipped
// to [-1500, 1500] HU and scaled so that air is about -1, water 1 and the
// outside of the scan -2.
func NormLevelsHU(hu float32) float32 {
	if hu < -1500 {
		hu = -1500
	} else if hu > 1500 {
		hu = 1500
	}
	return hu/500 + 1
}

// NormSliceHU maps Hounsfield units to the score network's input: a lung
// window clipped to [-1100, 500] HU, so that normal lung is about -1.1,
// ground glass -0.8 to 0, soft tissue 0.7.
func NormSliceHU(hu float32) float32 {
	if hu < -1100 {
		hu = -1100
	} else if hu > 500 {
		hu = 500
	}
	return (hu + 300) / 500
}

// boxWeights returns, for each of n output cells of width step (in source
// pixels) whose first cell is centred at c0 (source pixel coordinates,
// pixel p covering [p-0.5, p+0.5]), the source pixels it overlaps and the
// overlap lengths, plus the part of the cell outside the source [0, ns).
type boxCell struct {
	lo, hi  int       // source pixels lo..hi-1
	w       []float32 // overlap of each
	outside float32   // overlap with the outside of the image
	total   float32   // cell width
}

func boxWeights(n int, c0, step float64, ns int) []boxCell {
	cells := make([]boxCell, n)
	for i := range cells {
		a := c0 + float64(i)*step - step/2
		b := a + step
		c := &cells[i]
		c.total = float32(step)
		lo := int(math.Floor(a + 0.5))
		hi := int(math.Ceil(b + 0.5))
		inside := 0.0
		for p := max(lo, 0); p < min(hi, ns); p++ {
			o := math.Min(b, float64(p)+0.5) - math.Max(a, float64(p)-0.5)
			if o <= 0 {
				continue
			}
			if len(c.w) == 0 {
				c.lo = p
			}
			c.w = append(c.w, float32(o))
			c.hi = p + 1
			inside += o
		}
		c.outside = float32(math.Max(0, step-inside))
	}
	return cells
}

// resampleBox averages src (nx x ny, row-major) over the cells of an
// ox x oy output grid (area weighting); cells extending beyond the image
// take fill for their outside part. cx and cy describe the columns and
// rows.
func resampleBox(src []float32, nx, ny int, cx, cy []boxCell, fill float32, dst []float32) {
	ox := len(cx)
	tmp := make([]float32, ny*ox)
	for y := 0; y < ny; y++ {
		row := src[y*nx : (y+1)*nx]
		out := tmp[y*ox : (y+1)*ox]
		for i := range cx {
			c := &cx[i]
			var s float32
			for k, w := range c.w {
				s += w * row[c.lo+k]
			}
			out[i] = (s + c.outside*fill) / c.total
		}
	}
	for j := range cy {
		c := &cy[j]
		out := dst[j*ox : (j+1)*ox]
		for i := range out {
			out[i] = c.outside * fill
		}
		for k, w := range c.w {
			r := tmp[(c.lo+k)*ox : (c.lo+k+1)*ox]
			for i, v := range r {
				out[i] += w * v
			}
		}
		inv := 1 / c.total
		for i := range out {
			out[i] *= inv
		}
	}
}

// Coarse is a scan on the levels network's grid: CoarseWide x CoarseWide
// cells of CoarseMM, centred on the image centre, and Nz slices CoarseMM
// apart from ZTop (the most cranial slice of the scan) downwards.
type Coarse struct {
	Nz   int
	ZTop float64 // patient z (mm) of coarse slice 0
	// ZBottom is the patient z of the scan's last (most caudal) slice, and
	// SliceSpacing its slice spacing (mm).
	ZBottom      float64
	SliceSpacing float64
	// HU holds Nz x CoarseWide x CoarseWide values (z, y, x).
	HU []float32
	// Missing counts original slices that could not be read.
	Missing int
}

// ZOf returns the patient z of coarse slice j.
func (c *Coarse) ZOf(j float64) float64 { return c.ZTop - j*CoarseMM }

// CoarseAccumulator builds a Coarse grid from original slices given one at
// a time in any order: each slice is averaged onto the in-plane grid and
// spread over the neighbouring coarse slices with triangular weights of
// half-width max(CoarseMM, slice spacing), so thin slices are averaged over
// about 4 mm and thick slices interpolated linearly.
type CoarseAccumulator struct {
	c      *Coarse
	w      []float32 // weight per coarse slice
	h      float64
	cx, cy []boxCell
	nx, ny int
	buf    []float32
	slice  []float32
}

// NewCoarseAccumulator prepares the grid for a scan whose slices lie
// between zTop and zBottom (patient z, zTop the most cranial), with slice
// spacing dz (mm) and nx x ny pixels of size sx x sy (mm).
func NewCoarseAccumulator(zTop, zBottom, dz float64, nx, ny int, sx, sy float64) *CoarseAccumulator {
	if zBottom > zTop {
		zTop, zBottom = zBottom, zTop
	}
	nz := int(math.Floor((zTop-zBottom)/CoarseMM+1e-6)) + 1
	c := &Coarse{Nz: nz, ZTop: zTop, ZBottom: zBottom, SliceSpacing: dz, HU: make([]float32, nz*CoarseWide*CoarseWide)}
	step := CoarseMM
	// coarse cell i is centred at image centre + (i - 63.5) * 4 mm
	cx0 := float64(nx-1)/2 - (CoarseWide/2-0.5)*step/sx
	cy0 := float64(ny-1)/2 - (CoarseWide/2-0.5)*step/sy
	return &CoarseAccumulator{
		c: c, w: make([]float32, nz), h: math.Max(CoarseMM, dz),
		cx: boxWeights(CoarseWide, cx0, step/sx, nx), cy: boxWeights(CoarseWide, cy0, step/sy, ny),
		nx: nx, ny: ny,
		buf:   make([]float32, nx*ny),
		slice: make([]float32, CoarseWide*CoarseWide),
	}
}

// Add averages one original slice (nx x ny HU values) at patient z onto
// the grid.
func (a *CoarseAccumulator) Add(z float64, hu []int16) {
	a.AddCoarse(z, a.InPlane(hu))
}

// InPlane averages one original slice onto the in-plane grid and returns
// it (CoarseWide² values, valid until the next call).
func (a *CoarseAccumulator) InPlane(hu []int16) []float32 {
	for i, v := range hu[:a.nx*a.ny] {
		a.buf[i] = float32(v)
	}
	resampleBox(a.buf, a.nx, a.ny, a.cx, a.cy, volume.Air, a.slice)
	return a.slice
}

// AddCoarse adds a slice already on the in-plane grid (CoarseWide²
// values) at patient z.
func (a *CoarseAccumulator) AddCoarse(z float64, s []float32) {
	c := a.c
	j0 := int(math.Ceil((c.ZTop - z - a.h) / CoarseMM))
	j1 := int(math.Floor((c.ZTop - z + a.h) / CoarseMM))
	n := CoarseWide * CoarseWide
	for j := max(j0, 0); j <= min(j1, c.Nz-1); j++ {
		w := 1 - math.Abs(c.ZOf(float64(j))-z)/a.h
		if w <= 0 {
			continue
		}
		wf := float32(w)
		a.w[j] += wf
		dst := c.HU[j*n : (j+1)*n]
		for i, v := range s[:n] {
			dst[i] += wf * v
		}
	}
}

// Finish normalises the grid and fills coarse slices that no original
// slice reached (gaps) from their nearest filled neighbour.
func (a *CoarseAccumulator) Finish() (*Coarse, error) {
	c := a.c
	n := CoarseWide * CoarseWide
	filled := -1
	for j := 0; j < c.Nz; j++ {
		if a.w[j] > 0 {
			inv := 1 / a.w[j]
			d := c.HU[j*n : (j+1)*n]
			for i := range d {
				d[i] *= inv
			}
			filled = j
		}
	}
	if filled < 0 {
		return nil, fmt.Errorf("cascade: no slice could be read")
	}
	for j := 0; j < c.Nz; j++ {
		if a.w[j] > 0 {
			continue
		}
		best := -1
		for d := 1; d < c.Nz; d++ {
			if j-d >= 0 && a.w[j-d] > 0 {
				best = j - d
				break
			}
			if j+d < c.Nz && a.w[j+d] > 0 {
				best = j + d
				break
			}
		}
		copy(c.HU[j*n:(j+1)*n], c.HU[best*n:(best+1)*n])
	}
	return c, nil
}

// BuildCoarse reads every slice of src once, in order, and returns the
// scan on the levels grid. Only one original slice is held at a time, so a
// 3,000-slice series costs the coarse grid (about 64 kB per 4 mm) and one
// slice. Slices that cannot be read are skipped and counted in Missing
// (the scan fails only if none can be read). progress, if not nil, is
// called after each slice.
func BuildCoarse(ctx context.Context, src volume.Source, progress func(done, total int)) (*Coarse, error) {
	g := src.Geometry()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("cascade: %w", err)
	}
	lo, hi := g.ZRange()
	acc := NewCoarseAccumulator(hi, lo, g.Spacing[2], g.Nx, g.Ny, g.Spacing[0], g.Spacing[1])
	buf := make([]int16, g.Nx*g.Ny)
	missing := 0
	for k := 0; k < g.Nz; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := src.Slice(ctx, k, buf); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			missing++
		} else {
			acc.Add(g.SliceZ[k], buf)
		}
		if progress != nil {
			progress(k+1, g.Nz)
		}
	}
	c, err := acc.Finish()
	if err != nil {
		return nil, err
	}
	c.Missing = missing
	return c, nil
}

// BodyCentre returns the centre (x, y, in coarse cells of the wide grid)
// of the voxels denser than -500 HU: the patient's body (and table).
func (c *Coarse) BodyCentre() (float64, float64) {
	var sx, sy, n float64
	for j := 0; j < c.Nz; j++ {
		s := c.HU[j*CoarseWide*CoarseWide : (j+1)*CoarseWide*CoarseWide]
		for y := 0; y < CoarseWide; y++ {
			for x, v := range s[y*CoarseWide : (y+1)*CoarseWide] {
				if v > -500 {
					sx += float64(x)
					sy += float64(y)
					n++
				}
			}
		}
	}
	if n == 0 {
		return CoarseWide/2 - 0.5, CoarseWide/2 - 0.5
	}
	return sx / n, sy / n
}

// LevelsInput returns the levels network's input for the scan: the
// LevelsXY² crop centred on (cx, cy) (wide-grid cells, usually
// BodyCentre), normalised, with LevelsPad outside slices above and below
// and padBelow more below (for batching scans of different lengths). Its
// shape is (1, LevelsPad+Nz+LevelsPad+padBelow, LevelsXY, LevelsXY).
func (c *Coarse) LevelsInput(cx, cy float64, padBelow int) []float32 {
	nz := c.Nz + 2*LevelsPad + padBelow
	n := LevelsXY * LevelsXY
	out := make([]float32, nz*n)
	outside := NormLevelsHU(OutsideHU)
	for i := range out {
		out[i] = outside
	}
	x0 := int(math.Round(cx - LevelsXY/2 + 0.5))
	y0 := int(math.Round(cy - LevelsXY/2 + 0.5))
	air := NormLevelsHU(volume.Air)
	for j := 0; j < c.Nz; j++ {
		src := c.HU[j*CoarseWide*CoarseWide : (j+1)*CoarseWide*CoarseWide]
		dst := out[(j+LevelsPad)*n : (j+LevelsPad+1)*n]
		for y := 0; y < LevelsXY; y++ {
			sy := y + y0
			for x := 0; x < LevelsXY; x++ {
				sx := x + x0
				v := air
				if sx >= 0 && sy >= 0 && sx < CoarseWide && sy < CoarseWide {
					v = NormLevelsHU(src[sy*CoarseWide+sx])
				}
				dst[y*LevelsXY+x] = v
			}
		}
	}
	return out
}

// SliceInput is one axial slice prepared for the score network.
type SliceInput struct {
	// X is the network input, 2 x SliceSide x SliceSide: the lung-windowed
	// slice (NormSliceHU) and the lung mask's coverage of each pixel.
	X []float32
	// Lung is the lung mask of the original slice (model/lungmask).
	Lung []bool
	// LungAreaMM2 is the lung area on the original slice.
	LungAreaMM2 float64
	// NoLung is set when LungAreaMM2 < MinLungAreaMM2: the slice is not
	// scored.
	NoLung bool
	// X0, Y0 are the original-pixel coordinates (column, row) of the centre
	// of input pixel (0, 0); Step is the number of original pixels per input
	// pixel (column, row): input pixel (i, j) is centred on original pixel
	// (X0 + i·Step[0], Y0 + j·Step[1]). Heat maps use it to map back.
	X0, Y0 float64
	Step   [2]float64
}

// PrepareSlice prepares one original axial slice (nx x ny HU values,
// pixel spacing sp = (column, row) mm) for the score network: it segments
// the lungs, centres a 384 mm square on them, and resamples the slice and
// the lung mask to SliceMM pixels by area averaging. It is the one
// preprocessing step that the cascade, the training data and the heat maps
// share.
func PrepareSlice(hu []int16, nx, ny int, sp [2]float64) *SliceInput {
	lung := lungmask.Slice(hu, nx, ny, sp, lungmask.Options{})
	return PrepareSliceWithLung(hu, lung, nx, ny, sp)
}

// PrepareSliceWithLung is PrepareSlice with the lung mask given.
func PrepareSliceWithLung(hu []int16, lung []bool, nx, ny int, sp [2]float64) *SliceInput {
	in := &SliceInput{Lung: lung}
	var cnt int
	x0, y0, x1, y1 := nx, ny, -1, -1
	for i, l := range lung {
		if !l {
			continue
		}
		cnt++
		x, y := i%nx, i/nx
		x0, x1 = min(x0, x), max(x1, x)
		y0, y1 = min(y0, y), max(y1, y)
	}
	in.LungAreaMM2 = float64(cnt) * sp[0] * sp[1]
	in.NoLung = in.LungAreaMM2 < MinLungAreaMM2
	ccx, ccy := float64(nx-1)/2, float64(ny-1)/2
	if cnt > 0 {
		ccx, ccy = float64(x0+x1)/2, float64(y0+y1)/2
	}
	in.Step = [2]float64{SliceMM / sp[0], SliceMM / sp[1]}
	in.X0 = ccx - (SliceSide/2-0.5)*in.Step[0]
	in.Y0 = ccy - (SliceSide/2-0.5)*in.Step[1]
	cx := boxWeights(SliceSide, in.X0, in.Step[0], nx)
	cy := boxWeights(SliceSide, in.Y0, in.Step[1], ny)
	src := make([]float32, nx*ny)
	for i, v := range hu[:nx*ny] {
		src[i] = float32(v)
	}
	n := SliceSide * SliceSide
	in.X = make([]float32, 2*n)
	resampleBox(src, nx, ny, cx, cy, volume.Air, in.X[:n])
	for i, v := range in.X[:n] {
		in.X[i] = NormSliceHU(v)
	}
	for i, l := range lung {
		src[i] = 0
		if l {
			src[i] = 1
		}
	}
	resampleBox(src, nx, ny, cx, cy, 0, in.X[n:])
	return in
}

// ResampleMask averages a per-pixel 0/1 map of the original slice (nx x
// ny) onto the input grid of in (SliceSide², fractions).
func (in *SliceInput) ResampleMask(m []bool, nx, ny int) []float32 {
	src := make([]float32, nx*ny)
	for i, v := range m[:nx*ny] {
		if v {
			src[i] = 1
		}
	}
	out := make([]float32, SliceSide*SliceSide)
	resampleBox(src, nx, ny, boxWeights(SliceSide, in.X0, in.Step[0], nx), boxWeights(SliceSide, in.Y0, in.Step[1], ny), 0, out)
	return out
}
