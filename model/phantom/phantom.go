// Package phantom generates procedural chest CT phantoms with known
// anatomical levels and, optionally, known disease.
//
// A phantom is an analytic description of a patient in patient coordinates
// (DICOM LPS, mm: x to the patient's left, y to the back, z to the head):
// body outline with skin, subcutaneous fat and muscle; spine, ribs with
// costal cartilages, sternum, clavicles, scapulae and humeri; two lungs
// whose surfaces are the inside of the rib cage minus a smooth mediastinal
// envelope, with branching pulmonary arterial, venous and bronchial trees;
// the trachea dividing at the carina into the main and lobar bronchi; the
// aortic arch with the three great vessels arising from its top; the
// pulmonary trunk and arteries; the heart with its four chambers and the
// four pulmonary veins entering the left atrium; the hemidiaphragms (the
// right dome higher), liver, stomach, spleen and upper kidneys below; the
// scanner table. Patient size and shape, lung volume, the positions of the
// landmarks and the scan (pixel and slice spacing, coverage, kernel noise
// and sharpness, HU offset, intravenous contrast) vary with the seed.
//
// New samples only parameters; the geometry is built on first use and
// every rendering samples the analytic model directly on the requested
// grid, so a phantom can be rendered as full 512x512 slices for DICOM
// export or directly on a coarse grid for training, with partial-volume
// edges and a noise level matched to the voxel size.
//
// The five Goh levels are known by construction (Levels): L1 the top of
// the aortic arch where the great vessels arise, L2 the main carina (the
// highest plane where the main bronchi show separate lumens), L3 the left
// atrium where the pulmonary veins enter, L5 just above the right dome and
// L4 halfway between L3 and L5. With Options.Disease, ground glass and
// reticulation lesions are placed in 3D with basal and subpleural
// predominance and the labels at each level slice are measured from the
// lesion and lung masks.
package phantom

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"sscscore/model/internal/scalar"
	"sscscore/model/volume"
)

// Phantom is one synthetic patient and scan. Its methods are safe for
// concurrent use.
type Phantom struct {
	Seed    int64
	Opt     Options
	Scanner Scanner
	Anatomy Anatomy
	// Quality may be lowered before the first rendering to trade realism
	// for speed (the demo case does).
	Quality Quality

	once     sync.Once
	an       *anatomy
	treeOnce sync.Once
	rmu      sync.Mutex
	free     []*renderer // renderers kept for reuse
}

// Quality trades rendering realism for speed. The zero value is the best
// quality.
type Quality struct {
	// MaxSubSlices caps the number of thin sub-slices averaged over a
	// slice's thickness (0: one every 1.5 mm).
	MaxSubSlices int
	// Downsample renders the anatomy on a grid this many times coarser in
	// x and y and interpolates it before the scanner noise (0, 1: off).
	Downsample int
	// FieldStep is the spacing (mm) of the grid the smooth shapes are
	// sampled on (0: 2.5 mm).
	FieldStep float64
}

// New samples a phantom from seed. It is cheap: the geometry is built when
// first needed.
func New(seed int64, opt Options) *Phantom {
	stream := func(k uint64) *rand.Rand { return rand.New(rand.NewPCG(uint64(seed), 0x5eed5c0e+k)) }
	p := &Phantom{Seed: seed, Opt: opt}
	p.Anatomy = sampleAnatomy(stream(1))
	p.Scanner = sampleScanner(stream(2), &p.Anatomy, &opt)
	p.Anatomy.enhance(stream(3), p.Scanner.Contrast)
	return p
}

// model returns the built geometry (without the peripheral trees).
func (p *Phantom) model() *anatomy {
	p.once.Do(func() {
		rng := rand.New(rand.NewPCG(uint64(p.Seed), 0xa7a70111))
		p.an = buildAnatomy(&p.Anatomy, rng)
		if p.Opt.Disease {
			p.an.placeDisease(rand.New(rand.NewPCG(uint64(p.Seed), 0xd15ea5e)), p.Opt.Severity, p.Opt.Growth)
		}
	})
	return p.an
}

// full returns the geometry with the vessel trees grown.
func (p *Phantom) full() *anatomy {
	an := p.model()
	p.treeOnce.Do(func() {
		an.growTrees(uint64(p.Seed) ^ 0x76ee5)
		an.tubes.index()
	})
	return an
}

// FollowUp returns a later scan of the same patient: the same anatomy,
// scanner and levels, the disease grown in place by growth (Options.Growth:
// 0 leaves it unchanged), months after this one, with its own noise. The
// two are the acceptance pair of a change between scans.
func (p *Phantom) FollowUp(growth float64, months int) *Phantom {
	opt := p.Opt
	opt.Growth += growth
	opt.VisitMonths += months
	f := New(p.Seed, opt)
	f.Quality = p.Quality
	return f
}

// noiseSeed seeds the scanner noise: the patient's seed for the first
// visit, another realisation for each later one (Options.VisitMonths).
func (p *Phantom) noiseSeed() uint64 {
	if p.Opt.VisitMonths == 0 {
		return uint64(p.Seed)
	}
	return scalar.Hash64(uint64(p.Seed) ^ uint64(p.Opt.VisitMonths)*0x9e3779b97f4a7c15)
}

// Levels returns the patient z (mm) of the five levels L1..L5.
func (p *Phantom) Levels() [5]float64 {
	return p.model().levels
}

// local converts patient (x, y) to the body's local frame.
func (p *Phantom) local(x, y float64) (float64, float64) {
	return x - p.Anatomy.Offset[0], y - p.Anatomy.Offset[1]
}

// Geometry returns the scanner's native grid: Matrix x Matrix pixels at the
// sampled pixel spacing, slices from ZTop down to ZBottom.
func (p *Phantom) Geometry() volume.Geometry {
	s := &p.Scanner
	n := int(math.Round((s.ZTop-s.ZBottom)/s.SliceSpacing)) + 1
	fov := float64(s.Matrix) * s.PixelSpacing
	g := volume.Geometry{
		Nz: n, Ny: s.Matrix, Nx: s.Matrix,
		Spacing:   [3]float64{s.PixelSpacing, s.PixelSpacing, s.SliceSpacing},
		Origin:    [3]float64{s.FOVCenter[0] - fov/2 + s.PixelSpacing/2, s.FOVCenter[1] - fov/2 + s.PixelSpacing/2, s.ZTop},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
		SliceZ:    make([]float64, n),
	}
	for k := range g.SliceZ {
		g.SliceZ[k] = s.ZTop - float64(k)*s.SliceSpacing
	}
	return g
}

// Resample returns a grid covering the same field as g (the same physical
// extent, voxel centres spread evenly) with nx x ny x nz voxels: the
// coarse grid a levels network reads.
func Resample(g volume.Geometry, nx, ny, nz int) volume.Geometry {
	ex := float64(g.Nx) * g.Spacing[0]
	ey := float64(g.Ny) * g.Spacing[1]
	lo, hi := g.ZRange()
	ez := hi - lo + g.Spacing[2]
	out := volume.Geometry{
		Nz: nz, Ny: ny, Nx: nx,
		Spacing:   [3]float64{ex / float64(nx), ey / float64(ny), ez / float64(nz)},
		Direction: g.Direction,
		SliceZ:    make([]float64, nz),
	}
	x0 := g.Origin[0] - g.Spacing[0]/2
	y0 := g.Origin[1] - g.Spacing[1]/2
	out.Origin = [3]float64{x0 + out.Spacing[0]/2, y0 + out.Spacing[1]/2, hi + g.Spacing[2]/2 - out.Spacing[2]/2}
	for k := range out.SliceZ {
		out.SliceZ[k] = out.Origin[2] - float64(k)*out.Spacing[2]
	}
	return out
}

// String summarises the phantom.
func (p *Phantom) String() string {
	s := &p.Scanner
	a := &p.Anatomy
	sex := "M"
	if a.Female {
		sex = "F"
	}
	return fmt.Sprintf("phantom %d: %s, body %.0fx%.0f mm, %s, %.3f mm px, %.3g mm slices, kernel %s, contrast %s",
		p.Seed, sex, 2*a.BodyW, 2*a.BodyD, map[bool]string{true: "arms down", false: "arms up"}[a.ArmsDown],
		s.PixelSpacing, s.SliceSpacing, s.Kernel, s.Contrast)
}
