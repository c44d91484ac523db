package engine

import (
	"fmt"
	"math"
	"sync"

	"sscscore/model/volume"
	"sscscore/wasm/internal/protocol"
)

// slabMM is the thickness of the coronal slab averaged into the reformat.
const slabMM = 10.0

// coronalImage is a coronal reformat ready to send.
type coronalImage struct {
	info   protocol.ImageInfo
	pixels []int16
}

// coronal builds the coronal reformat of a series from its slices as they
// are decoded (in any order): each image row is one slice (at most
// MaxCoronalRows slices, evenly spread), each pixel the mean HU of a
// slabMM-thick slab of rows through the middle of the lungs.
type coronal struct {
	g      *volume.Geometry
	rows   []int // the slice of each image row
	rowOf  []int // the image row of each slice, -1 for none
	ya, yb int   // the slab's rows
	out    []int16

	mu     sync.Mutex
	done   int
	failed int
}

// newCoronal prepares the reformat of a series of geometry g whose middle
// slice (mid, nil if it could not be read) places the slab.
func newCoronal(g *volume.Geometry, maxRows int, mid []int16) *coronal {
	c := &coronal{g: g, rows: pickRows(g.Nz, maxRows), rowOf: make([]int, g.Nz)}
	for k := range c.rowOf {
		c.rowOf[k] = -1
	}
	for r, k := range c.rows {
		c.rowOf[k] = r
	}
	y0 := g.Ny / 2
	if mid != nil {
		y0 = lungCentreRow(mid, g.Nx, g.Ny)
	}
	half := max(1, int(math.Round(slabMM/2/g.Spacing[1])))
	c.ya, c.yb = max(0, y0-half), min(g.Ny, y0+half+1)
	c.out = make([]int16, len(c.rows)*g.Nx)
	return c
}

// add fills the image row of slice k (if it has one) from its pixels, or
// with air when the slice could not be decoded (err). It is safe for
// concurrent use.
func (c *coronal) add(k int, hu []int16, err error) {
	r := c.rowOf[k]
	if r < 0 {
		return
	}
	nx := c.g.Nx
	row := c.out[r*nx : (r+1)*nx]
	if err != nil {
		for x := range row {
			row[x] = volume.Air
		}
	} else {
		sums := make([]int32, nx)
		for y := c.ya; y < c.yb; y++ {
			for x, v := range hu[y*nx : (y+1)*nx] {
				sums[x] += int32(v)
			}
		}
		n := int32(c.yb - c.ya)
		for x := range row {
			row[x] = int16(sums[x] / n)
		}
	}
	c.mu.Lock()
	c.done++
	if err != nil {
		c.failed++
	}
	c.mu.Unlock()
}

// image returns the reformat; it fails when no row could be decoded.
func (c *coronal) image() (*coronalImage, error) {
	if c.failed == len(c.rows) {
		return nil, fmt.Errorf("none of the %d slices read could be decoded", len(c.rows))
	}
	g := c.g
	z := make([]float64, g.Nz)
	for k := range z {
		z[k] = g.ZOf(k)
	}
	return &coronalImage{
		info: protocol.ImageInfo{
			Role: protocol.RoleCoronal, Width: g.Nx, Height: len(c.rows),
			PixelW: g.Spacing[0], PixelH: g.Spacing[2] * float64(g.Nz-1) / float64(max(len(c.rows)-1, 1)),
			RowSlice: c.rows, SliceZ: z,
		},
		pixels: c.out,
	}, nil
}

// pickRows returns up to max slice indices spread evenly over n slices,
// always including the first and the last.
func pickRows(n, maxRows int) []int {
	if n <= maxRows {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rows := make([]int, maxRows)
	for i := range rows {
		rows[i] = int(math.Round(float64(i) * float64(n-1) / float64(maxRows-1)))
	}
	return rows
}

// lungCentreRow returns the mean row of the air-filled voxels inside the
// body on one axial slice (the lungs), or the middle row when there are
// none. The body is the bounding box of voxels denser than -300 HU; lung
// voxels are between -950 and -500 HU.
func lungCentreRow(s []int16, nx, ny int) int {
	x0, x1, y0, y1 := nx, -1, ny, -1
	for y := range ny {
		for x, v := range s[y*nx : (y+1)*nx] {
			if v > -300 {
				x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return ny / 2
	}
	var sum, cnt int
	for y := y0; y <= y1; y++ {
		for _, v := range s[y*nx+x0 : y*nx+x1+1] {
			if v > -950 && v < -500 {
				sum += y
				cnt++
			}
		}
	}
	if cnt < 100 {
		return (y0 + y1) / 2
	}
	return sum / cnt
}
