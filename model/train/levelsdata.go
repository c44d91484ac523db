package train

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"sscscore/model/cascade"
	"sscscore/model/phantom"
	"sscscore/model/volume"
)

// LevelsCase is one scan for the levels network, already on the coarse
// in-plane grid (cascade.CoarseWide² cells of cascade.CoarseMM, centred on
// the image centre): the slices at their patient z, as they would enter
// cascade.CoarseAccumulator, and the truth levels.
type LevelsCase struct {
	Seed  int64
	Name  string
	Nz    int
	Z     []float64 // patient z of each slice, decreasing
	Dz    float64   // slice spacing (mm) for the accumulator's weights
	Slice []int16   // Nz x CoarseWide² HU
	// Levels are the truth z (mm) of L1..L5; Has marks the known ones
	// (all for phantoms).
	Levels [5]float64
	Has    [5]bool
	// NativeSpacing is the original scan's slice spacing (mm).
	NativeSpacing float64
	Desc          string
}

// levelsCaseHeader is the JSON header of a cached case.
type levelsCaseHeader struct {
	Seed          int64      `json:"seed"`
	Name          string     `json:"name"`
	Nz            int        `json:"nz"`
	Wide          int        `json:"wide"`
	Z             []float64  `json:"z"`
	Dz            float64    `json:"dz"`
	Levels        [5]float64 `json:"levels"`
	Has           [5]bool    `json:"has"`
	NativeSpacing float64    `json:"native_spacing"`
	Desc          string     `json:"desc"`
}

const levelsMagic = "SSCLVC1\n"

// RenderLevelsCase renders phantom seed on the coarse grid the way the
// cascade builds it from a real scan: scans with slices up to 4 mm apart
// as 4 mm slabs every 4 mm (what the accumulator's triangular average of
// thin slices gives), thicker ones at their own slice positions and
// thickness (the accumulator then interpolates). Cells outside the
// scanner's image are air, as the cascade pads them.
func RenderLevelsCase(ctx context.Context, seed int64, opt phantom.Options) (*LevelsCase, error) {
	p := phantom.New(seed, opt)
	ng := p.Geometry()
	s := p.Scanner
	lc := &LevelsCase{Seed: seed, Name: fmt.Sprintf("phantom-%d", seed), NativeSpacing: s.SliceSpacing, Desc: p.String()}
	th := s.SliceThickness
	if s.SliceSpacing > cascade.CoarseMM {
		lc.Z = append([]float64(nil), ng.SliceZ...)
		lc.Dz = s.SliceSpacing
	} else {
		lo, hi := ng.ZRange()
		for z := hi; z >= lo-1e-6; z -= cascade.CoarseMM {
			lc.Z = append(lc.Z, z)
		}
		lc.Dz = cascade.CoarseMM
		th = math.Max(th, cascade.CoarseMM)
	}
	lc.Nz = len(lc.Z)
	w := cascade.CoarseWide
	step := cascade.CoarseMM
	cx := s.FOVCenter[0]
	cy := s.FOVCenter[1]
	g := volume.Geometry{
		Nz: lc.Nz, Ny: w, Nx: w,
		Spacing:   [3]float64{step, step, th},
		Origin:    [3]float64{cx - (float64(w)/2-0.5)*step, cy - (float64(w)/2-0.5)*step, lc.Z[0]},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
		SliceZ:    lc.Z,
	}
	v, _, err := p.Render(ctx, g)
	if err != nil {
		return nil, err
	}
	vox := v.Voxels()
	// The scanner's image covers [c - fov/2, c + fov/2] in x and y.
	half := float64(s.Matrix) * s.PixelSpacing / 2
	frac := func(c0, c float64) float64 {
		a, b := c-step/2, c+step/2
		return math.Max(0, math.Min(b, c0+half)-math.Max(a, c0-half)) / step
	}
	fx := make([]float64, w)
	fy := make([]float64, w)
	for i := 0; i < w; i++ {
		fx[i] = frac(cx, g.Origin[0]+float64(i)*step)
		fy[i] = frac(cy, g.Origin[1]+float64(i)*step)
	}
	for k := 0; k < lc.Nz; k++ {
		sl := vox[k*w*w : (k+1)*w*w]
		for y := 0; y < w; y++ {
			for x := 0; x < w; x++ {
				f := fx[x] * fy[y]
				if f < 1 {
					i := y*w + x
					sl[i] = int16(math.Round(float64(sl[i])*f + volume.Air*(1-f)))
				}
			}
		}
	}
	lc.Slice = vox
	lc.Levels = p.Levels()
	lc.Has = [5]bool{true, true, true, true, true}
	return lc, nil
}

// WriteTo writes the case in the cache format.
func (lc *LevelsCase) WriteTo(w io.Writer) (int64, error) {
	h := levelsCaseHeader{Seed: lc.Seed, Name: lc.Name, Nz: lc.Nz, Wide: cascade.CoarseWide, Z: lc.Z, Dz: lc.Dz,
		Levels: lc.Levels, Has: lc.Has, NativeSpacing: lc.NativeSpacing, Desc: lc.Desc}
	hb, err := json.Marshal(h)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	writeCacheHeader(bw, levelsMagic, hb)
	if err := binary.Write(bw, binary.LittleEndian, lc.Slice); err != nil {
		return 0, err
	}
	return int64(len(levelsMagic) + 4 + len(hb) + 2*len(lc.Slice)), bw.Flush()
}

// ReadLevelsCase reads a case written by WriteTo.
func ReadLevelsCase(r io.Reader) (*LevelsCase, error) {
	br := bufio.NewReader(r)
	var h levelsCaseHeader
	if err := readCacheHeader(br, levelsMagic, 1<<24, "levels case", &h); err != nil {
		return nil, err
	}
	if h.Wide != cascade.CoarseWide || h.Nz != len(h.Z) || h.Nz <= 0 {
		return nil, fmt.Errorf("train: levels case of grid %d with %d/%d slices", h.Wide, h.Nz, len(h.Z))
	}
	lc := &LevelsCase{Seed: h.Seed, Name: h.Name, Nz: h.Nz, Z: h.Z, Dz: h.Dz, Levels: h.Levels, Has: h.Has,
		NativeSpacing: h.NativeSpacing, Desc: h.Desc}
	lc.Slice = make([]int16, h.Nz*cascade.CoarseWide*cascade.CoarseWide)
	if err := binary.Read(br, binary.LittleEndian, lc.Slice); err != nil {
		return nil, fmt.Errorf("train: levels case data: %w", err)
	}
	return lc, nil
}

// LevelsCache keeps rendered phantom cases in a directory (one file per
// seed) so that they are rendered once.
type LevelsCache struct {
	Dir string
}

// LevelsPhantomOptions are the phantom options of a levels training case:
// the full random variation of the phantom package, with 3D disease of
// random severity in every other phantom (odd seeds), since the scans to
// be read are of patients with lung disease.
func LevelsPhantomOptions(seed int64) phantom.Options {
	return phantom.Options{Disease: seed%2 != 0}
}

// DataVersion names the rendering of the training data in cache file
// names. Bump it whenever model/phantom, model/synth, model/lungmask or the
// cascade's preprocessing change what a seed renders, so that a cache of
// an older rendering is never mixed into a training run.
const DataVersion = 2

func (c *LevelsCache) path(seed int64) string {
	return filepath.Join(c.Dir, fmt.Sprintf("levels-v%d-%d.lvc", DataVersion, seed))
}

// Has reports whether seed is cached.
func (c *LevelsCache) Has(seed int64) bool {
	_, err := os.Stat(c.path(seed))
	return err == nil
}

// Get returns the case of seed, rendering and storing it if needed.
func (c *LevelsCache) Get(ctx context.Context, seed int64) (*LevelsCase, error) {
	if f, err := os.Open(c.path(seed)); err == nil {
		defer f.Close()
		lc, err := ReadLevelsCase(f)
		if err == nil {
			return lc, nil
		}
	}
	lc, err := RenderLevelsCase(ctx, seed, LevelsPhantomOptions(seed))
	if err != nil {
		return nil, err
	}
	if c.Dir != "" {
		if err := os.MkdirAll(c.Dir, 0o755); err != nil {
			return nil, err
		}
		tmp := c.path(seed) + ".tmp"
		f, err := os.Create(tmp)
		if err != nil {
			return nil, err
		}
		if _, err := lc.WriteTo(f); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(tmp, c.path(seed)); err != nil {
			return nil, err
		}
	}
	return lc, nil
}

// LevelsAug controls the augmentation of levels samples.
type LevelsAug struct {
	On bool
	// MaxSlices is the most coarse slices a sample may hold (the rest of
	// the coverage is cropped).
	MaxSlices int
}

// LevelsSample is one input of the levels network with its targets.
type LevelsSample struct {
	X []float32 // (1, D, LevelsXY, LevelsXY)
	D int
	// Target is each level's position in input slices (fractional),
	// clamped to the padding when the level lies beyond it; Inside marks
	// levels within the simulated scan; Known marks levels with a truth.
	Target        [5]float64
	Inside, Known [5]bool
	// Coarse and ZTop place the input: input slice i is at patient z
	// ZTop - (i - LevelsPad)·CoarseMM.
	Coarse *cascade.Coarse
	// Geom is a geometry of the simulated scan (slice positions) for the
	// cascade's inside/outside test.
	Geom *volume.Geometry
	Case *LevelsCase
}

// MakeLevelsSample turns a case into a network input of d slices (0: as
// long as the case needs), cropping, scaling and perturbing it when aug.On.
func MakeLevelsSample(lc *LevelsCase, rng *rand.Rand, aug LevelsAug, d int) (*LevelsSample, error) {
	a, b := 0, lc.Nz-1 // slice range kept
	zscale := 1.0
	if aug.On {
		zscale = 0.92 + 0.16*rng.Float64()
		// coverage: half the samples keep the whole scan, the others a
		// random part of it (between 120 mm and all of it), which often
		// leaves levels outside
		if rng.Float64() < 0.5 {
			full := lc.Z[0] - lc.Z[lc.Nz-1]
			length := 120 + rng.Float64()*math.Max(0, full-120)
			start := rng.Float64() * (full - length)
			for a < lc.Nz-1 && lc.Z[0]-lc.Z[a] < start {
				a++
			}
			b = a
			for b < lc.Nz-1 && lc.Z[a]-lc.Z[b+1] <= length {
				b++
			}
		}
	}
	maxN := aug.MaxSlices
	if d > 0 {
		maxN = d - 2*cascade.LevelsPad
	}
	if maxN > 0 {
		for b > a && (lc.Z[a]-lc.Z[b])*zscale/cascade.CoarseMM+1 > float64(maxN) {
			// keep a random window
			if aug.On && rng.Float64() < 0.5 {
				a++
			} else {
				b--
			}
		}
	}
	zTop := lc.Z[a]
	zmap := func(z float64) float64 { return zTop - (zTop-z)*zscale }
	zBot := zmap(lc.Z[b])
	acc := cascade.NewCoarseAccumulator(zTop, zBot, lc.Dz*zscale, 2, 2, 1, 1)
	n := cascade.CoarseWide * cascade.CoarseWide
	buf := make([]float32, n)
	for k := a; k <= b; k++ {
		for i, v := range lc.Slice[k*n : (k+1)*n] {
			buf[i] = float32(v)
		}
		acc.AddCoarse(zmap(lc.Z[k]), buf)
	}
	co, err := acc.Finish()
	if err != nil {
		return nil, err
	}
	if maxN > 0 && co.Nz > maxN {
		return nil, fmt.Errorf("train: case %s needs %d slices, the input holds %d", lc.Name, co.Nz, maxN)
	}
	cx, cy := co.BodyCentre()
	if aug.On {
		augmentCoarse(co, rng)
		cx += rng.NormFloat64() * 3
		cy += rng.NormFloat64() * 3
	}
	pad := 0
	if d > 0 {
		pad = d - co.Nz - 2*cascade.LevelsPad
	}
	s := &LevelsSample{X: co.LevelsInput(cx, cy, pad), D: co.Nz + 2*cascade.LevelsPad + pad, Coarse: co, Case: lc}
	zs := make([]float64, b-a+1)
	for k := a; k <= b; k++ {
		zs[k-a] = zmap(lc.Z[k])
	}
	s.Geom = &volume.Geometry{Nz: len(zs), Ny: 1, Nx: 1, Spacing: [3]float64{1, 1, lc.Dz * zscale}, SliceZ: zs}
	hiEdge := float64(co.Nz - 1 + 2*cascade.LevelsPad)
	for i := 0; i < 5; i++ {
		s.Known[i] = lc.Has[i]
		if !lc.Has[i] {
			continue
		}
		z := zmap(lc.Levels[i])
		t := float64(cascade.LevelsPad) + (zTop-z)/cascade.CoarseMM
		s.Target[i] = math.Max(0, math.Min(hiEdge, t))
		_, s.Inside[i] = s.Geom.NearestSlice(z)
	}
	return s, nil
}

// augmentCoarse perturbs a coarse scan in place: calibration offset and
// gain, noise, and in-plane blur or sharpening (reconstruction kernels).
func augmentCoarse(co *cascade.Coarse, rng *rand.Rand) {
	off := float32(rng.NormFloat64() * 15)
	gain := float32(1 + rng.NormFloat64()*0.03)
	noise := float32(rng.Float64() * 12)
	w := cascade.CoarseWide
	n := w * w
	var kern float32
	switch u := rng.Float64(); {
	case u < 0.25:
		kern = float32(0.3 + 0.5*rng.Float64()) // blur
	case u < 0.45:
		kern = -float32(0.2 + 0.4*rng.Float64()) // sharpen
	}
	tmp := make([]float32, n)
	for j := 0; j < co.Nz; j++ {
		s := co.HU[j*n : (j+1)*n]
		if kern != 0 {
			copy(tmp, s)
			for y := 1; y < w-1; y++ {
				for x := 1; x < w-1; x++ {
					i := y*w + x
					m := (tmp[i-1] + tmp[i+1] + tmp[i-w] + tmp[i+w]) / 4
					s[i] = tmp[i] + kern*(m-tmp[i])
				}
			}
		}
		for i, v := range s {
			v = (v+1024)*gain - 1024 + off
			if noise > 0 {
				v += noise * float32(rng.NormFloat64())
			}
			s[i] = max(v, volume.Air) // ingestion clips at -1024 HU
		}
	}
}
