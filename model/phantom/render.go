package phantom

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"sscscore/model/internal/scalar"
	"sscscore/model/parallel"
	"sscscore/model/volume"
)

// Mask bits of Masks.Flags.
const (
	MaskLung uint8 = 1 << iota // inside a lung (the lung mask)
	MaskGG                     // ground glass (inside the lung)
	MaskRET                    // reticulation (inside the lung)
	MaskBone                   // bone (at least half of the voxel)
)

// Masks holds per-voxel truth flags on a volume grid (z, y, x order).
type Masks struct {
	Geom  volume.Geometry
	Flags []uint8
}

// Slice returns the flags of slice k.
func (m *Masks) Slice(k int) []uint8 {
	n := m.Geom.Nx * m.Geom.Ny
	return m.Flags[k*n : (k+1)*n]
}

// GridOf returns the slice grid of a volume geometry (axial, unrotated).
func GridOf(g volume.Geometry) SliceGrid {
	return SliceGrid{
		Nx: g.Nx, Ny: g.Ny,
		X0: g.Origin[0], Y0: g.Origin[1],
		DX: g.Spacing[0], DY: g.Spacing[1],
		Thickness: g.Spacing[2],
	}
}

// SliceGrid returns the scanner's native slice grid.
func (p *Phantom) SliceGrid() SliceGrid { return GridOf(p.Geometry()) }

// isFull reports whether grid g has the scanner's resolution (so the
// kernel's blur, edge enhancement and correlated noise apply).
func (p *Phantom) isFull(g SliceGrid) bool {
	return g.DX <= 1.3*p.Scanner.PixelSpacing && g.DY <= 1.3*p.Scanner.PixelSpacing
}

func (p *Phantom) getRenderer(g SliceGrid) *renderer {
	an := p.full()
	p.rmu.Lock()
	for i, r := range p.free {
		if r.g == g {
			p.free = append(p.free[:i], p.free[i+1:]...)
			p.rmu.Unlock()
			return r
		}
	}
	p.rmu.Unlock()
	r := newRenderer(p, an, g)
	if d := p.Quality.Downsample; d > 1 && p.isFull(g) {
		h := g
		h.Nx, h.Ny = (g.Nx+d-1)/d, (g.Ny+d-1)/d
		h.DX, h.DY = g.DX*float64(d), g.DY*float64(d)
		h.X0 += (float64(d) - 1) * g.DX / 2
		h.Y0 += (float64(d) - 1) * g.DY / 2
		r.half = newRenderer(p, an, h)
		r.kx, r.ky = []float32{1}, []float32{1} // the interpolation blurs enough
	}
	return r
}

// upsample interpolates the coarse renderer's slab into r (bilinear for
// the values and coverages, nearest for the disease masks).
func (r *renderer) upsample(gg, ret []bool) ([]bool, []bool) {
	h := r.half
	g, hg := r.g, h.g
	n := g.Nx * g.Ny
	if gg != nil {
		if len(r.mgg) != n {
			r.mgg, r.mret = make([]bool, n), make([]bool, n)
		}
	}
	for j := 0; j < g.Ny; j++ {
		fy := scalar.Clamp((g.Y0+float64(j)*g.DY-hg.Y0)/hg.DY, 0, float64(hg.Ny-1))
		j0 := min(int(fy), hg.Ny-2)
		ty := float32(fy - float64(j0))
		for i := 0; i < g.Nx; i++ {
			fx := scalar.Clamp((g.X0+float64(i)*g.DX-hg.X0)/hg.DX, 0, float64(hg.Nx-1))
			i0 := min(int(fx), hg.Nx-2)
			tx := float32(fx - float64(i0))
			k := j0*hg.Nx + i0
			bil := func(a []float32) float32 {
				u := a[k] + (a[k+1]-a[k])*tx
				v := a[k+hg.Nx] + (a[k+hg.Nx+1]-a[k+hg.Nx])*tx
				return u + (v-u)*ty
			}
			o := j*g.Nx + i
			r.acc[o] = bil(h.acc)
			r.lung[o] = bil(h.lung)
			r.bone[o] = bil(h.bone)
			if gg != nil {
				q := int(math.Round(fy))*hg.Nx + int(math.Round(fx))
				r.mgg[o], r.mret[o] = gg[q], ret[q]
			}
		}
	}
	if gg == nil {
		return nil, nil
	}
	return r.mgg, r.mret
}

// putRenderer keeps r for reuse; a few renderers are kept (they hold
// scratch buffers and the noise tile of their grid), the oldest dropped.
func (p *Phantom) putRenderer(r *renderer) {
	p.rmu.Lock()
	defer p.rmu.Unlock()
	p.free = append(p.free, r)
	if lim := runtime.GOMAXPROCS(0) + 2; len(p.free) > lim {
		p.free = append(p.free[:0], p.free[len(p.free)-lim:]...)
	}
}

// RenderSlice renders the axial slice centred at patient z on grid g into
// hu (g.Nx*g.Ny values, HU) and, when flags is not nil, its truth masks
// (MaskLung, MaskGG, MaskRET bits).
func (p *Phantom) RenderSlice(z float64, g SliceGrid, hu []int16, flags []uint8) error {
	if g.Nx <= 1 || g.Ny <= 1 || !(g.DX > 0) || !(g.DY > 0) {
		return fmt.Errorf("phantom: bad slice grid %dx%d spacing %v x %v", g.Nx, g.Ny, g.DX, g.DY)
	}
	if len(hu) < g.Nx*g.Ny || (flags != nil && len(flags) < g.Nx*g.Ny) {
		return fmt.Errorf("phantom: buffers too small for %dx%d", g.Nx, g.Ny)
	}
	r := p.getRenderer(g)
	r.slice(z, hu, flags)
	p.putRenderer(r)
	return nil
}

// slice renders one slice with the renderer.
func (r *renderer) slice(z float64, hu []int16, flags []uint8) {
	p := r.p
	var gg, ret []bool
	if r.half != nil {
		// Reduced quality: anatomy on the coarser grid, interpolated.
		r.half.renderSlab(z)
		gg, ret = r.half.applyDisease(z)
		gg, ret = r.upsample(gg, ret)
	} else {
		r.renderSlab(z)
		gg, ret = r.applyDisease(z)
	}
	r.applyScanner(z, p.isFull(r.g))
	s := &p.Scanner
	off := float32(s.HUOffset)
	g := r.g
	// reconstruction circle
	rad := float64(s.Matrix) * s.PixelSpacing / 2
	cx, cy := s.FOVCenter[0], s.FOVCenter[1]
	for j := 0; j < g.Ny; j++ {
		y := g.Y0 + float64(j)*g.DY
		for i := 0; i < g.Nx; i++ {
			k := j*g.Nx + i
			v := r.acc[k] + off
			if s.CircleMask {
				x := g.X0 + float64(i)*g.DX
				d := math.Hypot(x-cx, y-cy) - rad
				if d > -r.w/2 {
					c := float32(cover(d, r.w))
					v = v*c + volume.Air*(1-c)
				}
			}
			v = float32(math.Round(float64(v)))
			if v < -1024 {
				v = -1024
			} else if v > 3071 {
				v = 3071
			}
			hu[k] = int16(v)
			if flags != nil {
				var f uint8
				if r.bone[k] >= 0.5 {
					f |= MaskBone
				}
				if r.lung[k] >= 0.5 {
					f |= MaskLung
					if gg != nil && gg[k] {
						f |= MaskGG
					}
					if ret != nil && ret[k] {
						f |= MaskRET
					}
				}
				flags[k] = f
			}
		}
	}
}

// Render renders the phantom on geometry g (axial, unrotated; use
// Geometry for the scanner's grid or Resample for a coarse one) with its
// truth masks. Slices are rendered in parallel.
func (p *Phantom) Render(ctx context.Context, g volume.Geometry) (*volume.Volume, *Masks, error) {
	if err := g.Validate(); err != nil {
		return nil, nil, fmt.Errorf("phantom: %w", err)
	}
	n := g.Nx * g.Ny
	vox := make([]int16, g.Nz*n)
	m := &Masks{Geom: g, Flags: make([]uint8, g.Nz*n)}
	if err := p.renderRange(ctx, g, 0, g.Nz, vox, m.Flags); err != nil {
		return nil, nil, err
	}
	v, err := volume.FromVoxels(g, vox)
	if err != nil {
		return nil, nil, err
	}
	return v, m, nil
}

// renderRange renders slices [k0, k1) of g into vox and flags (indexed
// from k0).
func (p *Phantom) renderRange(ctx context.Context, g volume.Geometry, k0, k1 int, vox []int16, flags []uint8) error {
	n := g.Nx * g.Ny
	sg := GridOf(g)
	p.full()
	workers := runtime.GOMAXPROCS(0)
	rs := make([]*renderer, parallel.Workers(k1-k0, workers)) // one per goroutine
	defer func() {
		for _, r := range rs {
			if r != nil {
				p.putRenderer(r)
			}
		}
	}()
	return parallel.For(ctx, k1-k0, workers, func(w, i int) error {
		if rs[w] == nil {
			rs[w] = p.getRenderer(sg)
		}
		k := k0 + i
		var fl []uint8
		if flags != nil {
			fl = flags[i*n : (i+1)*n]
		}
		rs[w].slice(g.SliceZ[k], vox[i*n:(i+1)*n], fl)
		return nil
	})
}

// Source returns a lazy volume.Source of the phantom on geometry g:
// slices are rendered on demand, a few at a time in parallel, and the most
// recent batch is cached. Use it to stream a series to disk.
func (p *Phantom) Source(g volume.Geometry) volume.Source {
	return &lazySource{p: p, g: g}
}

type lazySource struct {
	p     *Phantom
	g     volume.Geometry
	mu    sync.Mutex
	k0    int
	cache []int16
	nc    int
}

func (s *lazySource) Geometry() *volume.Geometry { return &s.g }

func (s *lazySource) Slice(ctx context.Context, k int, dst []int16) error {
	g := &s.g
	if k < 0 || k >= g.Nz {
		return fmt.Errorf("phantom: slice %d out of range [0,%d)", k, g.Nz)
	}
	n := g.Nx * g.Ny
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil || k < s.k0 || k >= s.k0+s.nc {
		batch := 2 * runtime.GOMAXPROCS(0)
		k1 := min(k+batch, g.Nz)
		if len(s.cache) < batch*n {
			s.cache = make([]int16, batch*n)
		}
		if err := s.p.renderRange(ctx, *g, k, k1, s.cache, nil); err != nil {
			return err
		}
		s.k0, s.nc = k, k1-k
	}
	copy(dst[:n], s.cache[(k-s.k0)*n:(k-s.k0+1)*n])
	return nil
}
