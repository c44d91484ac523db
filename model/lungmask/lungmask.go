// Package lungmask segments the lungs on chest CT slices and volumes.
//
// It follows the method of Jia et al. (SPIE Medical Imaging 2022): threshold
// at -141 HU, close the dense tissue, invert, keep the largest air
// components that do not touch the outside air, and smooth; and adds what
// real scans need: padding values (GE writes -2000, i.e. -3024 HU, outside
// the reconstruction circle) count as outside air; components outside the
// body (table cavities) are dropped; pure gas (stomach, bowel, trachea; about
// -1000 HU) is told from aerated lung (about -850 HU) by its mean density;
// vessels and airways inside the lungs are filled in; and in a volume the
// components are checked in 3D, so isolated gas pockets below the diaphragm
// are dropped. A slice without lung gives an empty mask.
package lungmask

import (
	"context"
	"fmt"
	"runtime"
	"sort"

	"sscscore/model/parallel"
	"sscscore/model/volume"
)

// Options tunes the segmentation. The zero value gives the defaults.
type Options struct {
	// Threshold (HU) separates air from tissue; default -141 (the paper).
	Threshold float64
	// GasHU: components whose median density is below it are gas, not
	// aerated lung (default -935; normal lung is about -850 to -900, gas
	// -950 to -1000 depending on the scanner).
	GasHU float64
	// MinArea is the smallest lung component kept (mm²); default 60.
	MinArea float64
	// MinSliceLung: Slice returns an empty mask unless its largest lung
	// component has at least this area (mm²; default 800), so that a small
	// gas pocket is never taken for a lung on a lone slice. Volume uses the
	// 3D connection to the lungs instead.
	MinSliceLung float64
}

func (o *Options) defaults() {
	if o.Threshold == 0 {
		o.Threshold = -141
	}
	if o.GasHU == 0 {
		o.GasHU = -935
	}
	if o.MinArea == 0 {
		o.MinArea = 60
	}
	if o.MinSliceLung == 0 {
		o.MinSliceLung = 800
	}
}

// Slice returns the lung mask of one axial slice hu (nx x ny, HU, row
// major) with pixel spacing sp (mm, x then y).
func Slice(hu []int16, nx, ny int, sp [2]float64, opt Options) []bool {
	opt.defaults()
	m, big := sliceMask(hu, nx, ny, sp, &opt)
	if float64(big)*sp[0]*sp[1] < opt.MinSliceLung {
		for i := range m {
			m[i] = false
		}
	}
	return m
}

// comp is a candidate air component.
type comp struct {
	label int32
	area  int
	mean  float64 // median HU
}

// sliceMask returns the mask and the area (pixels) of its largest
// component.
func sliceMask(hu []int16, nx, ny int, sp [2]float64, opt *Options) ([]bool, int) {
	n := nx * ny
	px := (sp[0] + sp[1]) / 2
	if !(px > 0) {
		px = 0.7
	}
	thr := int16(opt.Threshold)
	dense := make([]bool, n)
	for i, v := range hu {
		dense[i] = v > thr
	}
	// Close the dense tissue (remove thin air gaps, e.g. skin folds).
	dense = closeMask(dense, nx, ny, 1.5/px)
	// Body: the largest dense component with its holes filled.
	body := largestFilled(dense, nx, ny)
	// Air components not touching the border.
	air := make([]bool, n)
	for i, d := range dense {
		air[i] = !d
	}
	lab, nlab := label(air, nx, ny)
	touch := make([]bool, nlab+1)
	for x := 0; x < nx; x++ {
		touch[lab[x]] = true
		touch[lab[(ny-1)*nx+x]] = true
	}
	for y := 0; y < ny; y++ {
		touch[lab[y*nx]] = true
		touch[lab[y*nx+nx-1]] = true
	}
	area := make([]int, nlab+1)
	inBody := make([]int, nlab+1)
	maxY := make([]int, nlab+1)
	for i, l := range lab {
		if l == 0 {
			continue
		}
		area[l]++
		if body[i] {
			inBody[l]++
		}
		maxY[l] = max(maxY[l], i/nx)
	}
	// Body extent front to back: the lungs always reach the back half of
	// the body (the paravertebral gutters); gas in the stomach and bowel
	// lies in front.
	by0, by1 := ny, -1
	for i, b := range body {
		if b {
			by0, by1 = min(by0, i/nx), max(by1, i/nx)
		}
	}
	backY := by0 + int(0.5*float64(by1-by0))
	minPx := int(opt.MinArea / (sp[0] * sp[1]))
	var cands []comp
	hist := make(map[int32][]int32)
	for l := 1; l <= nlab; l++ {
		if touch[l] || area[l] < max(minPx, 4) || inBody[l]*10 < area[l]*9 || maxY[l] < backY {
			continue
		}
		hist[int32(l)] = nil
	}
	for i, l := range lab {
		if h, ok := hist[l]; ok {
			hist[l] = append(h, int32(hu[i]))
		}
	}
	for l, h := range hist {
		// median density: gas (trachea, stomach, bowel) is not lung
		sort.Slice(h, func(i, j int) bool { return h[i] < h[j] })
		med := float64(h[len(h)/2])
		if med < opt.GasHU {
			continue
		}
		cands = append(cands, comp{label: l, area: area[l], mean: med})
	}
	out := make([]bool, n)
	if len(cands) == 0 {
		return out, 0
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].area != cands[j].area {
			return cands[i].area > cands[j].area
		}
		return cands[i].label < cands[j].label
	})
	// The two largest, and any other large part of a lung (a base split by
	// the dome), as in the paper's "two largest components".
	keep := map[int32]bool{}
	for i, c := range cands {
		if i < 2 || (i < 4 && c.area*6 >= cands[0].area) {
			keep[c.label] = true
		}
	}
	// Smooth each component on its own (so that the two lungs are never
	// bridged across the mediastinum): close, fill the vessels and airways
	// inside.
	r := 2 / px
	pad := int(r) + 2
	for l := range keep {
		x0, y0, x1, y1 := nx, ny, -1, -1
		for i, v := range lab {
			if v == l {
				x, y := i%nx, i/nx
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
		x0, y0 = max(x0-pad, 0), max(y0-pad, 0)
		x1, y1 = min(x1+pad, nx-1), min(y1+pad, ny-1)
		w, h := x1-x0+1, y1-y0+1
		c := make([]bool, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				c[y*w+x] = lab[(y+y0)*nx+x+x0] == l
			}
		}
		c = fillHoles(closeMask(c, w, h, r), w, h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if c[y*w+x] && body[(y+y0)*nx+x+x0] {
					out[(y+y0)*nx+x+x0] = true
				}
			}
		}
	}
	return out, cands[0].area
}

// Volume segments every slice of src (in parallel) and keeps the 3D
// components that hold at least 2 % of the largest one. It returns one
// mask per slice (z, y, x order).
func Volume(ctx context.Context, src volume.Source, opt Options) ([]bool, error) {
	opt.defaults()
	g := src.Geometry()
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("lungmask: %w", err)
	}
	n := g.Nx * g.Ny
	out := make([]bool, g.Nz*n)
	sp := [2]float64{g.Spacing[0], g.Spacing[1]}
	workers := runtime.GOMAXPROCS(0)
	bufs := make([][]int16, parallel.Workers(g.Nz, workers)) // one per goroutine
	err := parallel.For(ctx, g.Nz, workers, func(w, k int) error {
		if bufs[w] == nil {
			bufs[w] = make([]int16, n)
		}
		if err := src.Slice(ctx, k, bufs[w]); err != nil {
			return fmt.Errorf("lungmask: slice %d: %w", k, err)
		}
		m, _ := sliceMask(bufs[w], g.Nx, g.Ny, sp, &opt)
		copy(out[k*n:(k+1)*n], m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	keep3D(out, g.Nx, g.Ny, g.Nz, 0.02)
	return out, nil
}

// keep3D removes the 6-connected components of m smaller than frac of the
// largest.
func keep3D(m []bool, nx, ny, nz int, frac float64) {
	n := nx * ny
	lab := make([]int32, len(m))
	var sizes []int
	var stack []int
	for i, v := range m {
		if !v || lab[i] != 0 {
			continue
		}
		id := int32(len(sizes) + 1)
		size := 0
		lab[i] = id
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			size++
			x, y, z := k%nx, (k/nx)%ny, k/n
			try := func(q int) {
				if m[q] && lab[q] == 0 {
					lab[q] = id
					stack = append(stack, q)
				}
			}
			if x > 0 {
				try(k - 1)
			}
			if x < nx-1 {
				try(k + 1)
			}
			if y > 0 {
				try(k - nx)
			}
			if y < ny-1 {
				try(k + nx)
			}
			if z > 0 {
				try(k - n)
			}
			if z < nz-1 {
				try(k + n)
			}
		}
		sizes = append(sizes, size)
	}
	big := 0
	for _, s := range sizes {
		big = max(big, s)
	}
	for i, l := range lab {
		if l != 0 && float64(sizes[l-1]) < frac*float64(big) {
			m[i] = false
		}
	}
}

// label returns the 4-connected component labels (1..n) of m.
func label(m []bool, nx, ny int) ([]int32, int) {
	lab := make([]int32, len(m))
	var stack []int
	id := int32(0)
	for i, v := range m {
		if !v || lab[i] != 0 {
			continue
		}
		id++
		lab[i] = id
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			k := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := k%nx, k/nx
			if x > 0 && m[k-1] && lab[k-1] == 0 {
				lab[k-1] = id
				stack = append(stack, k-1)
			}
			if x < nx-1 && m[k+1] && lab[k+1] == 0 {
				lab[k+1] = id
				stack = append(stack, k+1)
			}
			if y > 0 && m[k-nx] && lab[k-nx] == 0 {
				lab[k-nx] = id
				stack = append(stack, k-nx)
			}
			if y < ny-1 && m[k+nx] && lab[k+nx] == 0 {
				lab[k+nx] = id
				stack = append(stack, k+nx)
			}
		}
	}
	return lab, int(id)
}

// largestFilled returns the largest component of m with its holes filled.
func largestFilled(m []bool, nx, ny int) []bool {
	lab, n := label(m, nx, ny)
	if n == 0 {
		return make([]bool, len(m))
	}
	area := make([]int, n+1)
	for _, l := range lab {
		area[l]++
	}
	best := int32(1)
	for l := 1; l <= n; l++ {
		if area[l] > area[best] {
			best = int32(l)
		}
	}
	out := make([]bool, len(m))
	for i, l := range lab {
		out[i] = l == best
	}
	return fillHoles(out, nx, ny)
}

// fillHoles sets every false region of m not connected to the border.
func fillHoles(m []bool, nx, ny int) []bool {
	out := make([]bool, len(m))
	// flood the background from the border
	seen := make([]bool, len(m))
	var stack []int
	push := func(i int) {
		if !m[i] && !seen[i] {
			seen[i] = true
			stack = append(stack, i)
		}
	}
	for x := 0; x < nx; x++ {
		push(x)
		push((ny-1)*nx + x)
	}
	for y := 0; y < ny; y++ {
		push(y * nx)
		push(y*nx + nx - 1)
	}
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := k%nx, k/nx
		if x > 0 {
			push(k - 1)
		}
		if x < nx-1 {
			push(k + 1)
		}
		if y > 0 {
			push(k - nx)
		}
		if y < ny-1 {
			push(k + nx)
		}
	}
	for i := range out {
		out[i] = !seen[i]
	}
	return out
}

// dist returns the 3-4 chamfer distance (pixels) from each pixel to the
// nearest set pixel of m (0 on m).
func dist(m []bool, nx, ny int) []int32 {
	const inf = 1 << 29
	d := make([]int32, len(m))
	for i, v := range m {
		if !v {
			d[i] = inf
		}
	}
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			i := y*nx + x
			v := d[i]
			if v == 0 {
				continue
			}
			if x > 0 {
				v = min(v, d[i-1]+3)
			}
			if y > 0 {
				v = min(v, d[i-nx]+3)
				if x > 0 {
					v = min(v, d[i-nx-1]+4)
				}
				if x < nx-1 {
					v = min(v, d[i-nx+1]+4)
				}
			}
			d[i] = v
		}
	}
	for y := ny - 1; y >= 0; y-- {
		for x := nx - 1; x >= 0; x-- {
			i := y*nx + x
			v := d[i]
			if v == 0 {
				continue
			}
			if x < nx-1 {
				v = min(v, d[i+1]+3)
			}
			if y < ny-1 {
				v = min(v, d[i+nx]+3)
				if x < nx-1 {
					v = min(v, d[i+nx+1]+4)
				}
				if x > 0 {
					v = min(v, d[i+nx-1]+4)
				}
			}
			d[i] = v
		}
	}
	return d
}

// dilate sets every pixel within r pixels of m.
func dilate(m []bool, nx, ny int, r float64) []bool {
	d := dist(m, nx, ny)
	lim := int32(3*r + 0.5)
	out := make([]bool, len(m))
	for i, v := range d {
		out[i] = v <= lim
	}
	return out
}

// erode keeps the pixels of m farther than r pixels from its outside.
func erode(m []bool, nx, ny int, r float64) []bool {
	inv := make([]bool, len(m))
	for i, v := range m {
		inv[i] = !v
	}
	d := dilate(inv, nx, ny, r)
	for i, v := range d {
		d[i] = !v
	}
	return d
}

// closeMask is a morphological closing with a disc of radius r pixels.
func closeMask(m []bool, nx, ny int, r float64) []bool {
	if r < 0.5 {
		return m
	}
	return erode(dilate(m, nx, ny, r), nx, ny, r)
}
