package phantom

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

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
	if r, ok := p.pool.Get().(*renderer); ok && r.g == g {
		return r
	}
	return newRenderer(p, an, g)
}

func (p *Phantom) putRenderer(r *renderer) { p.pool.Put(r) }

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
	r.renderSlab(z)
	var gg, ret []bool
	if flags != nil || len(r.an.lesions) > 0 {
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
	workers := min(runtime.GOMAXPROCS(0), k1-k0)
	var next atomic.Int64
	next.Store(int64(k0))
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.getRenderer(sg)
			defer p.putRenderer(r)
			for {
				k := int(next.Add(1) - 1)
				if k >= k1 {
					return
				}
				if err := ctx.Err(); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				var fl []uint8
				if flags != nil {
					fl = flags[(k-k0)*n : (k-k0+1)*n]
				}
				r.slice(g.SliceZ[k], vox[(k-k0)*n:(k-k0+1)*n], fl)
			}
		}()
	}
	wg.Wait()
	return firstErr
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
