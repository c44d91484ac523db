package engine

import (
	"context"
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

// coronal builds the coronal reformat of src: each image row is one slice
// (at most MaxCoronalRows slices, evenly spread), each pixel the mean HU of
// a slabMM-thick slab of rows through the middle of the lungs. Only the
// slices shown are decoded, Parallel at a time.
func (e *Engine) coronal(ctx context.Context, src volume.Source, prog *progress) (*coronalImage, error) {
	g := src.Geometry()
	rows := pickRows(g.Nz, e.opt.MaxCoronalRows)
	prog.report(0, len(rows))

	// The slab's centre: from the middle slice, the mean row of the lung
	// (air inside the body).
	y0 := g.Ny / 2
	buf := make([]int16, g.SliceLen())
	if err := src.Slice(ctx, g.Nz/2, buf); err == nil {
		y0 = lungCentreRow(buf, g.Nx, g.Ny)
	}
	half := max(1, int(math.Round(slabMM/2/g.Spacing[1])))
	ya, yb := max(0, y0-half), min(g.Ny, y0+half+1)

	out := make([]int16, len(rows)*g.Nx)
	var (
		mu     sync.Mutex
		done   int
		failed int
	)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := range min(e.opt.Parallel, len(rows)) {
		var wbuf []int16
		if w == 0 {
			wbuf = buf // the first worker reuses the middle slice's buffer
		}
		wg.Go(func() {
			buf := wbuf
			if buf == nil {
				buf = make([]int16, g.SliceLen())
			}
			sums := make([]int32, g.Nx)
			for i := range next {
				row := out[i*g.Nx : (i+1)*g.Nx]
				ok := src.Slice(ctx, rows[i], buf) == nil
				if ok {
					clear(sums)
					for y := ya; y < yb; y++ {
						for x, v := range buf[y*g.Nx : (y+1)*g.Nx] {
							sums[x] += int32(v)
						}
					}
					n := int32(yb - ya)
					for x := range row {
						row[x] = int16(sums[x] / n)
					}
				} else {
					for x := range row {
						row[x] = volume.Air
					}
				}
				mu.Lock()
				done++
				if !ok {
					failed++
				}
				prog.report(done, len(rows))
				mu.Unlock()
			}
		})
	}
	var err error
	for i := range rows {
		if err = e.checkpoint(ctx); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if failed == len(rows) {
		return nil, fmt.Errorf("none of the %d slices read could be decoded", len(rows))
	}
	z := make([]float64, g.Nz)
	for k := range z {
		z[k] = g.ZOf(k)
	}
	return &coronalImage{
		info: protocol.ImageInfo{
			Role: protocol.RoleCoronal, Width: g.Nx, Height: len(rows),
			PixelW: g.Spacing[0], PixelH: g.Spacing[2] * float64(g.Nz-1) / float64(max(len(rows)-1, 1)),
			RowSlice: rows, SliceZ: z,
		},
		pixels: out,
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
