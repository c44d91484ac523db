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
	"sscscore/model/lungmask"
	"sscscore/model/phantom"
	"sscscore/model/synth"
)

// Flag bits of ScoreSlice.Flags (phantom.Mask* plus the lung mask).
const (
	flagLung     = phantom.MaskLung
	flagGG       = phantom.MaskGG
	flagRET      = phantom.MaskRET
	flagLungMask = 1 << 7 // model/lungmask's mask of the slice as rendered
)

// ScoreSlice is one full-resolution phantom slice with its truth masks.
type ScoreSlice struct {
	Seed    int64   `json:"seed"`
	Index   int     `json:"index"`
	Disease bool    `json:"disease"`
	Z       float64 `json:"z"`
	Level   int     `json:"level"` // 0..4 when rendered at a level, -1 otherwise
	Nx      int     `json:"nx"`
	Ny      int     `json:"ny"`
	Spacing float64 `json:"spacing"` // pixel spacing (mm)
	Desc    string  `json:"desc"`
	HU      []int16 `json:"-"`
	Flags   []uint8 `json:"-"`
}

const sliceMagic = "SSCSLC1\n"

// RenderScoreSlices renders count full-resolution slices of phantom seed
// (with 3D disease when disease is set): at random heights within the
// lungs, and with probability pLevel at one of the five levels.
func RenderScoreSlices(ctx context.Context, seed int64, disease bool, count int, pLevel float64) ([]*ScoreSlice, error) {
	p := phantom.New(seed, phantom.Options{Disease: disease})
	g := p.SliceGrid()
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5c0e5))
	a := p.Anatomy
	lv := p.Levels()
	top := a.ZApex - 8
	bot := a.ZDomeR - 0.4*a.RecessPost
	var out []*ScoreSlice
	for i := 0; i < count; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		z := bot + rng.Float64()*(top-bot)
		level := -1
		if rng.Float64() < pLevel {
			level = rng.IntN(5)
			z = lv[level] + rng.NormFloat64()*3
		}
		s := &ScoreSlice{Seed: seed, Index: i, Disease: disease, Z: z, Level: level, Nx: g.Nx, Ny: g.Ny,
			Spacing: g.DX, Desc: p.String(), HU: make([]int16, g.Nx*g.Ny), Flags: make([]uint8, g.Nx*g.Ny)}
		if err := p.RenderSlice(z, g, s.HU, s.Flags); err != nil {
			return nil, err
		}
		lm := lungmask.Slice(s.HU, g.Nx, g.Ny, [2]float64{g.DX, g.DY}, lungmask.Options{})
		for k, v := range lm {
			if v {
				s.Flags[k] |= flagLungMask
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// WriteTo writes the slice in the cache format.
func (s *ScoreSlice) WriteTo(w io.Writer) (int64, error) {
	hb, err := json.Marshal(s)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(w)
	writeCacheHeader(bw, sliceMagic, hb)
	binary.Write(bw, binary.LittleEndian, s.HU)
	bw.Write(s.Flags)
	return int64(len(sliceMagic) + 4 + len(hb) + 3*len(s.HU)), bw.Flush()
}

// ReadScoreSlice reads a slice written by WriteTo.
func ReadScoreSlice(r io.Reader) (*ScoreSlice, error) {
	br := bufio.NewReader(r)
	s := &ScoreSlice{}
	if err := readCacheHeader(br, sliceMagic, 1<<20, "score slice", s); err != nil {
		return nil, err
	}
	if s.Nx <= 0 || s.Ny <= 0 || s.Nx*s.Ny > 1<<22 {
		return nil, fmt.Errorf("train: score slice of %dx%d", s.Nx, s.Ny)
	}
	s.HU = make([]int16, s.Nx*s.Ny)
	s.Flags = make([]uint8, s.Nx*s.Ny)
	if err := binary.Read(br, binary.LittleEndian, s.HU); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(br, s.Flags); err != nil {
		return nil, err
	}
	return s, nil
}

// SliceCache keeps rendered score slices in a directory, PerSeed slices
// per phantom seed (healthy and diseased phantoms in separate files).
type SliceCache struct {
	Dir     string
	PerSeed int
	PLevel  float64
}

func (c *SliceCache) path(seed int64, disease bool, i int) string {
	kind := "h"
	if disease {
		kind = "d"
	}
	return filepath.Join(c.Dir, fmt.Sprintf("slice-v%d-%s-%d-%d.slc", DataVersion, kind, seed, i))
}

// Has reports whether the slices of seed are cached.
func (c *SliceCache) Has(seed int64, disease bool) bool {
	_, err := os.Stat(c.path(seed, disease, c.PerSeed-1))
	return err == nil
}

// Get returns slice i of seed, rendering and storing the seed's slices if
// needed.
func (c *SliceCache) Get(ctx context.Context, seed int64, disease bool, i int) (*ScoreSlice, error) {
	if f, err := os.Open(c.path(seed, disease, i)); err == nil {
		s, err := ReadScoreSlice(f)
		f.Close()
		if err == nil {
			return s, nil
		}
	}
	ss, err := c.Render(ctx, seed, disease)
	if err != nil {
		return nil, err
	}
	return ss[i], nil
}

// Render renders and stores the slices of seed.
func (c *SliceCache) Render(ctx context.Context, seed int64, disease bool) ([]*ScoreSlice, error) {
	ss, err := RenderScoreSlices(ctx, seed, disease, c.PerSeed, c.PLevel)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	for i, s := range ss {
		p := c.path(seed, disease, i)
		f, err := os.Create(p + ".tmp")
		if err != nil {
			return nil, err
		}
		if _, err := s.WriteTo(f); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// ScoreSample is one input of the score network with its truth.
type ScoreSample struct {
	X      []float32 // 2 x SliceSide²
	Target *ScoreTarget
	NoLung bool
}

// ScoresAug controls the score samples: synthesis on healthy slices and
// the paper's augmentation.
type ScoresAug struct {
	On bool
}

// SampleFromSlice makes a score-network sample from a phantom slice. A
// healthy slice gets synthetic disease pasted with model/synth (the
// paper's method: GG and RET regions of random ellipses in the lung mask,
// the extent drawn uniformly so that labels span 0-100 %, 8 % left
// healthy; labels relative to the lung mask of the healthy slice, as the
// paper measured them); a diseased phantom slice keeps
// its 3D lesions (labels from the truth masks). The slice is then
// prepared exactly as the cascade prepares a real one, and with aug.On
// rotated, scaled, shifted and perturbed in intensity.
func SampleFromSlice(s *ScoreSlice, rng *rand.Rand, aug ScoresAug) *ScoreSample {
	n := s.Nx * s.Ny
	hu := append([]int16(nil), s.HU...)
	lung := make([]bool, n)
	gg := make([]bool, n)
	ret := make([]bool, n)
	var labels synth.Labels
	if aug.On {
		lungDensity(hu, s, rng)
	}
	if !s.Disease {
		for i, f := range s.Flags {
			lung[i] = f&flagLungMask != 0
		}
		var m synth.Masks
		labels, m = synth.Paste(hu, s.Nx, s.Ny, lung, rng, synth.Options{PixelSpacing: s.Spacing})
		if m.GG != nil {
			copy(gg, m.GG)
		}
		if m.RET != nil {
			copy(ret, m.RET)
		}
	} else {
		for i, f := range s.Flags {
			lung[i] = f&flagLung != 0
			gg[i] = f&flagGG != 0
			ret[i] = f&flagRET != 0
		}
		labels = synth.Measure(lung, gg, ret)
	}
	in := cascade.PrepareSlice(hu, s.Nx, s.Ny, [2]float64{s.Spacing, s.Spacing})
	any := make([]bool, n)
	for i := range any {
		any[i] = gg[i] || ret[i]
	}
	maps := [4][]float32{in.ResampleMask(lung, s.Nx, s.Ny), in.ResampleMask(any, s.Nx, s.Ny),
		in.ResampleMask(gg, s.Nx, s.Ny), in.ResampleMask(ret, s.Nx, s.Ny)}
	x := in.X
	if aug.On {
		x, maps = augmentSlice(x, maps, rng)
	}
	t := &ScoreTarget{HasMasks: true, HasLabels: true,
		Labels: cascade.Scores{TOT: labels.TOT, GG: labels.GG, RET: labels.RET}}
	t.Lung, t.Any, t.GG, t.RET = cellShares(maps)
	return &ScoreSample{X: x, Target: t, NoLung: in.NoLung}
}

// lungDensity varies the density of normal lung, as inspiration depth,
// body habitus and scanner calibration do in real scans: a uniform shift
// of -30..+60 HU and a gravity-dependent gradient (denser towards the
// back, 0..60 HU across the lungs), applied to the lung pixels (lungmask)
// before any disease is pasted.
func lungDensity(hu []int16, s *ScoreSlice, rng *rand.Rand) {
	shift := -30 + 90*rng.Float64()
	grad := 60 * rng.Float64()
	y0, y1 := s.Ny, 0
	for i, f := range s.Flags {
		if f&flagLungMask != 0 {
			y := i / s.Nx
			y0, y1 = min(y0, y), max(y1, y)
		}
	}
	if y1 <= y0 {
		return
	}
	h := float64(y1 - y0)
	for i, f := range s.Flags {
		if f&flagLungMask == 0 {
			continue
		}
		t := float64(i/s.Nx-y0) / h // 0 front, 1 back (row 0 is anterior)
		v := float64(hu[i]) + shift + grad*t
		hu[i] = int16(math.Round(math.Max(-1024, math.Min(3071, v))))
	}
}

// cellShares aggregates pixel maps (lung, any, gg, ret on the input grid)
// into the cell targets: the lung share of each cell and the shares of the
// cell's lung that are diseased.
func cellShares(maps [4][]float32) (lung, any, gg, ret []float32) {
	c := cascade.CellSide
	st := cascade.CellStride
	side := cascade.SliceSide
	lung = make([]float32, c*c)
	any = make([]float32, c*c)
	gg = make([]float32, c*c)
	ret = make([]float32, c*c)
	for cy := 0; cy < c; cy++ {
		for cx := 0; cx < c; cx++ {
			var sl, sa, sg, sr float32
			for y := cy * st; y < (cy+1)*st; y++ {
				for x := cx * st; x < (cx+1)*st; x++ {
					i := y*side + x
					sl += maps[0][i]
					sa += maps[1][i]
					sg += maps[2][i]
					sr += maps[3][i]
				}
			}
			k := cy*c + cx
			lung[k] = sl / float32(st*st)
			if sl > 1e-3 {
				any[k] = min(1, sa/sl)
				gg[k] = min(1, sg/sl)
				ret[k] = min(1, sr/sl)
			}
		}
	}
	return
}

// augmentSlice applies the paper's augmentation to a prepared slice and
// its truth maps: rotation (±15°), scaling (±10 %), translation (±15 mm),
// then to the image only calibration offset and gain, blur or sharpening,
// and noise.
func augmentSlice(x []float32, maps [4][]float32, rng *rand.Rand) ([]float32, [4][]float32) {
	side := cascade.SliceSide
	n := side * side
	th := (rng.Float64()*2 - 1) * 15 * math.Pi / 180
	sc := 1 + (rng.Float64()*2-1)*0.1
	tx := (rng.Float64()*2 - 1) * 10
	ty := (rng.Float64()*2 - 1) * 10
	cos, sin := math.Cos(th)/sc, math.Sin(th)/sc
	c := float64(side-1) / 2
	air := cascade.NormSliceHU(-1024)
	warp := func(src []float32, fill float32) []float32 {
		dst := make([]float32, n)
		for y := 0; y < side; y++ {
			for xx := 0; xx < side; xx++ {
				dx, dy := float64(xx)-c-tx, float64(y)-c-ty
				sx := cos*dx + sin*dy + c
				sy := -sin*dx + cos*dy + c
				dst[y*side+xx] = bilinear(src, side, sx, sy, fill)
			}
		}
		return dst
	}
	out := make([]float32, 2*n)
	copy(out[:n], warp(x[:n], air))
	copy(out[n:], warp(x[n:], 0))
	var m [4][]float32
	for i := range maps {
		m[i] = warp(maps[i], 0)
	}
	img := out[:n]
	// blur or sharpen (4-neighbour Laplacian)
	var k float32
	switch u := rng.Float64(); {
	case u < 0.2:
		k = float32(0.2 + 0.5*rng.Float64())
	case u < 0.4:
		k = -float32(0.2 + 0.6*rng.Float64())
	}
	if k != 0 {
		tmp := append([]float32(nil), img...)
		for y := 1; y < side-1; y++ {
			for xx := 1; xx < side-1; xx++ {
				i := y*side + xx
				mean := (tmp[i-1] + tmp[i+1] + tmp[i-side] + tmp[i+side]) / 4
				img[i] = tmp[i] + k*(mean-tmp[i])
			}
		}
	}
	// HU offset, gain and noise, in the normalised units (500 HU = 1)
	off := float32(rng.NormFloat64() * 15 / 500)
	gain := float32(1 + rng.NormFloat64()*0.03)
	noise := float32(rng.Float64() * 20 / 500)
	lo := cascade.NormSliceHU(-1100)
	hi := cascade.NormSliceHU(500)
	for i, v := range img {
		if v <= air+1e-6 {
			continue // outside the body stays air
		}
		v = (v-air)*gain + air + off + noise*float32(rng.NormFloat64())
		img[i] = min(max(v, lo), hi)
	}
	return out, m
}

// bilinear samples src (side x side) at (x, y), fill outside.
func bilinear(src []float32, side int, x, y float64, fill float32) float32 {
	x0 := int(math.Floor(x))
	y0 := int(math.Floor(y))
	fx := float32(x - float64(x0))
	fy := float32(y - float64(y0))
	at := func(i, j int) float32 {
		if i < 0 || j < 0 || i >= side || j >= side {
			return fill
		}
		return src[j*side+i]
	}
	a := at(x0, y0)*(1-fx) + at(x0+1, y0)*fx
	b := at(x0, y0+1)*(1-fx) + at(x0+1, y0+1)*fx
	return a*(1-fy) + b*fy
}
