package phantom

import (
	"fmt"
	"math"
	"math/rand/v2"

	"sscscore/model/internal/scalar"
)

// Range is a closed interval of values (mm). A zero Range means "use the
// default"; Min == Max fixes the value.
type Range struct{ Min, Max float64 }

// Contrast is the intravenous contrast phase of a phantom.
type Contrast int

// Contrast phases.
const (
	ContrastRandom   Contrast = iota // chosen from the seed (about 40 % enhanced)
	ContrastNone                     // no intravenous contrast
	ContrastArterial                 // late arterial phase: dense aorta and pulmonary arteries
	ContrastVenous                   // portal venous phase: all vessels and the liver enhanced
)

func (c Contrast) String() string {
	switch c {
	case ContrastNone:
		return "none"
	case ContrastArterial:
		return "arterial"
	case ContrastVenous:
		return "venous"
	}
	return "random"
}

// Options controls what New samples. The zero value gives the full random
// variation described in the package documentation, without disease.
type Options struct {
	// Disease places ground glass and reticulation lesions in the lungs.
	Disease bool
	// Severity, in (0, 1], sets the mean disease extent over the five
	// levels roughly (0.3 = about 30 % of the lung at each level); 0 draws
	// it from the seed over the whole 0-100 % range.
	Severity float64
	// PixelSpacing is the in-plane pixel size range (mm); default 0.55-0.98.
	PixelSpacing Range
	// SliceSpacing is the slice spacing range (mm); default 0.625-8 (log-uniform).
	SliceSpacing Range
	// Matrix is the image size in pixels (square); default 512.
	Matrix int
	// Contrast selects the contrast phase; default random.
	Contrast Contrast
	// Signed selects the DICOM pixel representation: 0 random, 1 unsigned
	// (RescaleIntercept -1024), 2 signed.
	Signed int
	// Growth grows every lesion in place by this fraction of its size
	// (0.3: radii and subpleural depth 30 % larger; negative values shrink
	// it, down to -0.9): the disease of a follow-up scan. The anatomy, the
	// scanner and the lesions' positions and textures are the seed's
	// whatever Growth is.
	Growth float64
	// VisitMonths is the time of the scan after the patient's first one
	// (months; 0 = the baseline). A later visit has its own noise
	// realisation, study date and UIDs; the patient is the seed's.
	VisitMonths int
}

// Scanner holds the sampled acquisition and reconstruction parameters.
type Scanner struct {
	Matrix         int     // rows = columns
	PixelSpacing   float64 // mm
	SliceSpacing   float64 // mm, distance between slice centres
	SliceThickness float64 // mm, the width of the slab a slice averages
	// FOVCenter is the patient (x, y) of the image centre (mm).
	FOVCenter [2]float64
	// ZTop and ZBottom are the patient z (mm) of the first (cranial) and
	// last slice centres.
	ZTop, ZBottom float64
	Kernel        string  // a reconstruction-kernel-like name written to DICOM
	NoiseSD       float64 // noise standard deviation in soft tissue (HU) at full resolution
	NoiseCorr     float64 // noise correlation length (pixels, Gaussian sigma)
	PSF           float64 // Gaussian blur sigma of the point spread function (mm)
	EdgeGain      float64 // unsharp-mask gain of sharp kernels (0 = none)
	HUOffset      float64 // calibration offset added to every voxel (HU)
	Contrast      Contrast
	Signed        bool
	CircleMask    bool // voxels outside the reconstruction circle are set to -1024
}

// Anatomy holds the sampled patient. Distances in mm, z in patient
// coordinates; x and y are relative to the body centre (Offset).
type Anatomy struct {
	Female, ArmsDown bool
	// Offset is the patient (x, y) of the body's local origin (mid-chest centre).
	Offset [2]float64

	// Landmarks as sampled (the truth levels are measured on the built
	// geometry, see Phantom.Levels).
	ZApex, ZL1, ZL2, ZL3, ZDomeR, ZDomeL float64
	ZShoulder                            float64 // top of the shoulders (acromion)
	RecessAnt                            float64 // depth of the anterior costophrenic recess below the right dome
	RecessPost                           float64 // depth of the posterior costophrenic recess below the right dome
	VertPitch                            float64 // thoracic vertebral pitch (body + disc) at T5
	ZT5                                  float64 // centre of the T5 vertebral body

	// Body cross-section at mid chest: half width and half depth.
	BodyW, BodyD            float64
	AbdW, AbdD              float64 // upper abdomen half width and depth
	FatLat, FatAnt, FatPost float64 // subcutaneous fat thickness
	MuscleLat, WallAnt      float64 // lateral muscle + rib layer, anterior wall
	BackExp                 float64 // superellipse exponent of the back (flat on the table)
	FrontExp                float64

	// Thoracic cavity (inside the ribs) at mid chest.
	CavW     float64 // half width
	CavExp   float64
	CavFlare float64 // extra width posteriorly (fraction)
	ApexH    float64 // height of the apical dome (mm)
	// Vertebral body centre depth at mid chest (y) and kyphosis.
	YVB, Kyphosis      float64
	Gutter             float64 // depth of the paravertebral gutters behind the vertebral body centre
	TrachR, TrachGap   float64 // tracheal radius, gap between vertebral body centre and trachea
	AscR, ArchR, DescR float64 // aortic radii
	PAR                float64 // pulmonary trunk radius
	HeartScale         float64
	HeartShift         float64 // heart centre x shift (mm)

	// Lung density.
	LungHU, LungGrad float64

	// Tissue values (HU, unenhanced).
	FatHU, MuscleHU, BloodHU, LiverHU, SpleenHU, BoneHU, CortexHU, GlandHU float64
	// Enhanced blood values (HU) for the contrast phase.
	AortaHU, PAHU, VeinHU, SVCHU, MyoHU, LiverEnh, SpleenEnh, KidneyHU float64

	StomachGas float64 // fraction of the stomach filled with gas
	EsoLumenHU float64 // oesophageal contents (fluid, or air in some patients)
	EsoDilated bool    // patulous oesophagus (as often in systemic sclerosis)
	BreastSize float64
	Age        float64
}

// Default ranges.
var (
	defPixel = Range{0.55, 0.98}
	defSlice = Range{0.625, 8}
)

// Anatomical ranges (mm) of the distances between the levels, used by the
// sampler and checked by the tests. The aortic arch top lies at about T3/T4,
// the tracheal bifurcation at T5/T6 in most adults on CT, the left atrium
// with the pulmonary venous confluence at about T6/T7 and the right
// hemidiaphragm dome at T9-T11 (Mirjalili SA et al., "A reappraisal of adult
// thoracic surface anatomy", Clin Anat 2012;25:827-834; Zhou et al., Clin
// Anat 2016;29:165-174; Keough et al., Clin Anat 2016;29:1018-1024). One
// thoracic vertebral level (body + disc) measures about 22-28 mm (Panjabi MM
// et al., "Thoracic human vertebrae: quantitative three-dimensional
// anatomy", Spine 1991;16:888-901), which gives:
var (
	// RangeL1L2: arch top to carina, 1-2 vertebral levels.
	RangeL1L2 = Range{18, 55}
	// RangeL2L3: carina to the venous confluence, 1-2.5 levels.
	RangeL2L3 = Range{22, 65}
	// RangeL3L5: venous confluence to just above the right dome, 1-3.5 levels.
	RangeL3L5 = Range{25, 85}
)

// clipNorm draws a normal variate with mean m and deviation s, clipped to r.
func clipNorm(rng *rand.Rand, m, s float64, r Range) float64 {
	return scalar.Clamp(m+s*rng.NormFloat64(), r.Min, r.Max)
}

func uni(rng *rand.Rand, lo, hi float64) float64 { return lo + rng.Float64()*(hi-lo) }

// sampleAnatomy draws a patient.
func sampleAnatomy(rng *rand.Rand) Anatomy {
	var a Anatomy
	a.Female = rng.Float64() < 0.5
	a.ArmsDown = rng.Float64() < 0.3
	a.Age = uni(rng, 25, 85)
	sex := 0.0
	if !a.Female {
		sex = 1
	}
	size := rng.NormFloat64() // overall body size
	bmi := rng.NormFloat64()  // fatness
	a.BodyW = scalar.Clamp(156+10*sex+12*size+7*bmi, 128, 212)
	a.BodyD = scalar.Clamp(a.BodyW*uni(rng, 0.62, 0.8)+6*bmi, 88, 158)
	a.AbdW = a.BodyW * uni(rng, 0.93, 1.06)
	a.AbdD = a.BodyD * scalar.Clamp(uni(rng, 0.98, 1.12)+0.05*bmi, 0.9, 1.35)
	fat := math.Exp(math.Log(15) + 0.45*bmi + 0.15*rng.NormFloat64())
	if a.Female {
		fat *= 1.2
	}
	a.FatLat = scalar.Clamp(fat, 5, 50)
	a.FatAnt = scalar.Clamp(fat*uni(rng, 0.6, 1.0), 4, 40)
	a.FatPost = scalar.Clamp(fat*uni(rng, 0.5, 0.9), 4, 35)
	a.MuscleLat = uni(rng, 9, 16)
	a.WallAnt = uni(rng, 10, 18)
	a.BackExp = uni(rng, 2.5, 3.2)
	a.FrontExp = uni(rng, 2.0, 2.4)
	a.CavW = a.BodyW - a.FatLat - a.MuscleLat
	a.CavExp = uni(rng, 2.2, 2.9)
	a.CavFlare = uni(rng, 0.04, 0.14)
	a.ApexH = uni(rng, 70, 100)
	a.YVB = a.BodyD - a.FatPost - uni(rng, 46, 64)
	a.Kyphosis = uni(rng, 4, 18)
	a.Gutter = uni(rng, 26, 36)
	a.TrachR = scalar.Clamp(uni(rng, 7.5, 10)+1.2*sex, 7, 12)
	a.TrachGap = uni(rng, 36, 46)
	a.AscR = scalar.Clamp(uni(rng, 13, 17)+a.Age/80*1.5, 12, 20)
	a.ArchR = a.AscR * uni(rng, 0.82, 0.92)
	a.DescR = a.AscR * uni(rng, 0.7, 0.8)
	a.PAR = uni(rng, 11.5, 14.5)
	a.HeartScale = scalar.Clamp(uni(rng, 0.9, 1.1)+0.04*size, 0.82, 1.2)
	a.HeartShift = uni(rng, -8, 12)

	// Landmarks (see the Range* comments): the carina is the anchor; its
	// patient z is arbitrary (table position).
	a.ZL2 = uni(rng, -250, 350)
	a.ZL1 = a.ZL2 + clipNorm(rng, 35, 7, Range{RangeL1L2.Min + 4, RangeL1L2.Max - 4})
	a.ZL3 = a.ZL2 - clipNorm(rng, 40, 8, Range{RangeL2L3.Min + 4, RangeL2L3.Max - 4})
	l5 := a.ZL3 - clipNorm(rng, 45, 11, Range{RangeL3L5.Min + 4, RangeL3L5.Max - 4})
	a.ZDomeR = l5 - domeGap
	a.ZDomeL = a.ZDomeR - uni(rng, 6, 28)
	// The lung apex lies 1.5-3 vertebral levels above the arch top.
	a.ZApex = a.ZL1 + uni(rng, 38, 70)
	a.ZShoulder = a.ZApex + uni(rng, 8, 35)
	a.RecessAnt = uni(rng, 15, 40)
	a.RecessPost = uni(rng, 50, 95)
	a.VertPitch = uni(rng, 22, 27)
	a.ZT5 = a.ZL2 + uni(rng, -12, 18)

	a.LungHU = uni(rng, -938, -896)
	a.LungGrad = uni(rng, 10, 50)

	a.FatHU = uni(rng, -112, -88)
	a.MuscleHU = uni(rng, 36, 52)
	a.BloodHU = uni(rng, 35, 50)
	a.LiverHU = uni(rng, 50, 66)
	a.SpleenHU = uni(rng, 42, 52)
	a.BoneHU = uni(rng, 170, 320) - 1.2*math.Max(0, a.Age-50)
	a.CortexHU = uni(rng, 750, 1250)
	a.GlandHU = uni(rng, 10, 40)
	a.StomachGas = uni(rng, 0.05, 0.6)
	a.EsoLumenHU = uni(rng, 0, 30)
	if rng.Float64() < 0.3 {
		a.EsoLumenHU = uni(rng, -950, -600)
	}
	if rng.Float64() < 0.2 {
		a.EsoDilated = true
		a.EsoLumenHU = uni(rng, -990, -700)
	}
	if a.Female {
		a.BreastSize = scalar.Clamp(uni(rng, 0.3, 1.0)+0.3*bmi, 0.15, 1.4)
	}
	a.Offset = [2]float64{uni(rng, -20, 20), uni(rng, -190, 60)}
	return a
}

// domeGap is the distance (mm) from the top of the right dome up to the
// fifth level ("just above the right hemidiaphragm").
const domeGap = 3

// sampleScanner draws the acquisition for anatomy a. Every draw is made
// whatever the options, so that fixing one option (say the slice spacing)
// leaves the rest of the scan unchanged.
func sampleScanner(rng *rand.Rand, a *Anatomy, opt *Options) Scanner {
	var s Scanner
	s.Matrix = opt.Matrix
	if s.Matrix <= 0 {
		s.Matrix = 512
	}
	// The reconstruction field of view is chosen to hold the lungs, usually
	// the whole body, sometimes cutting the arms or the body sides.
	// Real scans are reconstructed on a field of view close to the body
	// width; with the arms down they are often cut.
	fov := 2 * a.BodyW * uni(rng, 0.98, 1.14)
	armFOV := uni(rng, -20, 90)
	if a.ArmsDown && armFOV > 0 {
		fov += armFOV
	}
	psRandom := uni(rng, 0, 1)
	common := []float64{0.625, 1, 1.25, 1.5, 2, 2.5, 3, 5, 8}
	pickCommon := rng.Float64() < 0.6
	commonIdx := rng.IntN(len(common))
	logU := rng.Float64()
	ssRandom := rng.Float64()
	overlap := rng.Float64() < 0.2
	overlapF := uni(rng, 1, 1.6)
	fx, fy := uni(rng, -12, 12), uni(rng, -10, 25)
	topClose := rng.Float64() < 0.25
	topM := uni(rng, -4, 55)
	topC := uni(rng, -4, 6)
	botM := uni(rng, -10, 70)
	kern := rng.Float64()
	kv := rng.IntN(2)
	n1, n2, n3, n4 := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()
	off := uni(rng, -8, 8)
	cont := rng.Float64()
	signed := rng.Float64() < 0.4
	circle := rng.Float64() < 0.4

	if ps := opt.PixelSpacing; ps.Min == 0 && ps.Max == 0 {
		f := 512 / float64(s.Matrix) // the default range is for 512x512 images
		s.PixelSpacing = scalar.Clamp(fov/float64(s.Matrix), defPixel.Min*f, defPixel.Max*f)
	} else if ps.Max <= ps.Min {
		s.PixelSpacing = ps.Min
	} else {
		s.PixelSpacing = scalar.Lerp(ps.Min, ps.Max, psRandom)
	}
	switch ss := opt.SliceSpacing; {
	case ss.Min == 0 && ss.Max == 0:
		if pickCommon {
			s.SliceSpacing = common[commonIdx]
		} else {
			s.SliceSpacing = math.Exp(scalar.Lerp(math.Log(defSlice.Min), math.Log(defSlice.Max), logU))
		}
	case ss.Max <= ss.Min:
		s.SliceSpacing = ss.Min
	default:
		s.SliceSpacing = scalar.Lerp(ss.Min, ss.Max, ssRandom)
	}
	s.SliceThickness = s.SliceSpacing
	if overlap {
		s.SliceThickness = s.SliceSpacing * overlapF // overlapping reconstruction
	}
	s.FOVCenter = [2]float64{a.Offset[0] + fx, a.Offset[1] + fy}

	// Coverage: from above the apex (sometimes cutting close to it) to the
	// upper abdomen, with independent margins.
	top := a.ZApex + topM
	if topClose {
		top = a.ZApex + topC
	}
	bottom := a.ZDomeR - a.RecessPost - botM
	bottom = math.Min(bottom, a.ZDomeR-40)
	s.ZTop = top
	n := int(math.Floor((top-bottom)/s.SliceSpacing)) + 1
	s.ZBottom = top - float64(n-1)*s.SliceSpacing

	// Reconstruction kernel: smooth, medium or sharp.
	switch {
	case kern < 0.35:
		s.Kernel = fmt.Sprintf("B%02df", 20+10*kv)
		s.NoiseSD = scalar.Lerp(6, 16, n1)
		s.NoiseCorr = scalar.Lerp(1.0, 1.6, n2)
		s.PSF = scalar.Lerp(0.55, 0.9, n3)
	case kern < 0.65:
		s.Kernel = fmt.Sprintf("B%02df", 40+10*kv)
		s.NoiseSD = scalar.Lerp(12, 28, n1)
		s.NoiseCorr = scalar.Lerp(0.7, 1.1, n2)
		s.PSF = scalar.Lerp(0.4, 0.6, n3)
		s.EdgeGain = scalar.Lerp(0, 0.3, n4)
	default:
		s.Kernel = fmt.Sprintf("B%02df", 60+10*kv)
		s.NoiseSD = scalar.Lerp(35, 110, n1)
		s.NoiseCorr = scalar.Lerp(0.45, 0.7, n2)
		s.PSF = scalar.Lerp(0.3, 0.45, n3)
		s.EdgeGain = scalar.Lerp(0.4, 1.0, n4)
	}
	// Noise grows with the patient's size and shrinks with thick slices.
	s.NoiseSD *= scalar.Clamp(a.BodyW*a.BodyD/(165*120), 0.7, 1.6) / math.Sqrt(scalar.Clamp(s.SliceThickness, 0.6, 8)/1.5)
	s.HUOffset = off
	s.Contrast = opt.Contrast
	if s.Contrast == ContrastRandom {
		switch {
		case cont < 0.6:
			s.Contrast = ContrastNone
		case cont < 0.8:
			s.Contrast = ContrastArterial
		default:
			s.Contrast = ContrastVenous
		}
	}
	switch opt.Signed {
	case 1:
		s.Signed = false
	case 2:
		s.Signed = true
	default:
		s.Signed = signed
	}
	s.CircleMask = circle
	return s
}

// enhance sets the enhanced blood and organ values for the contrast phase.
func (a *Anatomy) enhance(rng *rand.Rand, c Contrast) {
	a.AortaHU, a.PAHU, a.VeinHU, a.SVCHU = a.BloodHU, a.BloodHU, a.BloodHU, a.BloodHU
	a.MyoHU, a.LiverEnh, a.SpleenEnh = a.MuscleHU, a.LiverHU, a.SpleenHU
	a.KidneyHU = uni(rng, 28, 38)
	switch c {
	case ContrastArterial:
		a.AortaHU = uni(rng, 220, 420)
		a.PAHU = uni(rng, 180, 380)
		a.VeinHU = uni(rng, 120, 260)
		a.SVCHU = uni(rng, 250, 900)
		a.MyoHU = uni(rng, 90, 130)
		a.LiverEnh = a.LiverHU + uni(rng, 15, 35)
		a.SpleenEnh = a.SpleenHU + uni(rng, 40, 90)
		a.KidneyHU = uni(rng, 150, 250)
	case ContrastVenous:
		a.AortaHU = uni(rng, 140, 210)
		a.PAHU = uni(rng, 130, 200)
		a.VeinHU = uni(rng, 130, 200)
		a.SVCHU = uni(rng, 130, 220)
		a.MyoHU = uni(rng, 90, 120)
		a.LiverEnh = a.LiverHU + uni(rng, 45, 70)
		a.SpleenEnh = a.SpleenHU + uni(rng, 60, 90)
		a.KidneyHU = uni(rng, 150, 200)
	}
}
