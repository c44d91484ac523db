package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sscscore/model/volume"
)

// Series is one image series found by Scan: a stack of parallel slices that
// can become a volume.
type Series struct {
	// UID is the SeriesInstanceUID, or when that is empty a key made from
	// the study, orientation, matrix, pixel spacing and kernel
	// ("nouid-<hash>", UIDMissing set). A SeriesInstanceUID whose images
	// differ in matrix or orientation is split, the parts after the
	// largest getting "#2", "#3"... appended.
	UID        string
	UIDMissing bool
	// Description, Kernel (ConvolutionKernel values joined by a backslash),
	// Modality ("" when the files do not say), Manufacturer and Model are
	// taken from the first file.
	Description, Kernel, Modality, Manufacturer, Model, BodyPart string
	SeriesNumber                                                 string
	// Patient and study, shown only on request.
	PatientName, PatientID, PatientBirthDate, PatientSex string
	StudyUID, StudyDate, StudyDescription                string
	// StudyTime, StudyID, AccessionNumber and ReferringPhysician complete
	// the study's identity (for a report filed beside the images).
	StudyTime, StudyID, AccessionNumber, ReferringPhysician string
	// TransferSyntax names how the pixel data is encoded.
	TransferSyntax string

	// Files is the number of files and Frames the number of frames they
	// hold; Slices the number of distinct slice positions (duplicates
	// dropped) that make the volume.
	Files, Frames, Slices int
	Rows, Columns         int
	// Thickness is the SliceThickness of the first slice (mm).
	Thickness float64
	// Spacing is the voxel size (x, y, z) in mm; z is the mean distance
	// between neighbouring slice centres along the slice normal, from
	// ImagePositionPatient (SliceThickness for a single slice).
	Spacing [3]float64
	// ZMin and ZMax bound the patient z (ImagePositionPatient[2]) of the
	// slices; ZFirst is the z of the first (most cranial) slice and ZLast
	// of the last.
	ZMin, ZMax, ZFirst, ZLast float64
	// Axial is true for axial stacks (gantry tilt up to 30 degrees
	// included); TiltDegrees is the angle between the slice normal and the
	// patient z axis.
	Axial       bool
	TiltDegrees float64
	// Usable reports whether the series can be decoded into a volume; when
	// it cannot, Reason says why (localizer, not axial, unsupported
	// compression...).
	Usable bool
	Reason string
	// Issues lists what is odd about the slice stack: gaps, duplicate
	// positions, uneven spacing, mixed pixel spacing, gantry tilt.
	Issues []string
	// Gaps, Duplicates and Uneven count those issues.
	Gaps, Duplicates int
	Uneven           bool
	// Rank is the series' place in the automatic choice (0 is best).
	Rank int

	slices []*frameHeader // usable frames sorted head first, duplicates removed
	dups   []*frameHeader // frames dropped as duplicates
	geom   volume.Geometry
	flipX  bool
	flipY  bool
}

// seriesKey groups frames: SeriesInstanceUID (or the fallback key) plus
// matrix and orientation.
type groupKey struct {
	uid        string
	uidMissing bool
	sub        string
}

func fallbackKey(h *fileHeader, f *frameHeader) string {
	s := fmt.Sprintf("%s|%s|%dx%d|%.4g\\%.4g|%s", h.studyUID, iopKey(f), h.rows, h.cols, f.spacing[0], f.spacing[1], h.kernel)
	sum := sha256.Sum256([]byte(s))
	return "nouid-" + hex.EncodeToString(sum[:6])
}

func iopKey(f *frameHeader) string {
	r := func(v float64) float64 { return math.Round(v*100) / 100 }
	return fmt.Sprintf("%g,%g,%g,%g,%g,%g", r(f.row[0]), r(f.row[1]), r(f.row[2]), r(f.col[0]), r(f.col[1]), r(f.col[2]))
}

// frameRef is one frame of a file on its way into a series.
type frameRef struct {
	fh     *frameHeader
	hdr    *fileHeader
	usable bool
	reason string
	path   string
}

// buildSeries groups the frames of all files into series and computes each
// series' geometry.
func buildSeries(refs []frameRef) []*Series {
	groups := map[groupKey][]frameRef{}
	var order []groupKey
	for _, r := range refs {
		k := groupKey{uid: r.hdr.seriesUID}
		if k.uid == "" {
			k.uid, k.uidMissing = fallbackKey(r.hdr, r.fh), true
		}
		k.sub = fmt.Sprintf("%dx%d|%s", r.hdr.cols, r.hdr.rows, iopKey(r.fh))
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	// Name the parts of a split UID: the largest keeps the UID.
	byUID := map[string][]groupKey{}
	for _, k := range order {
		byUID[k.uid] = append(byUID[k.uid], k)
	}
	var out []*Series
	for _, k := range order {
		parts := byUID[k.uid]
		if parts == nil {
			continue
		}
		delete(byUID, k.uid)
		sort.SliceStable(parts, func(i, j int) bool {
			a, b := len(groups[parts[i]]), len(groups[parts[j]])
			if a != b {
				return a > b
			}
			return parts[i].sub < parts[j].sub
		})
		for i, p := range parts {
			uid := p.uid
			if i > 0 {
				uid += "#" + strconv.Itoa(i+1)
			}
			out = append(out, newSeries(uid, p.uidMissing, groups[p]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UID < out[j].UID })
	return out
}

func newSeries(uid string, missing bool, refs []frameRef) *Series {
	h := refs[0].hdr
	s := &Series{
		UID: uid, UIDMissing: missing,
		Description: h.description, Kernel: h.kernel, Modality: h.modality,
		Manufacturer: h.manufacturer, Model: h.model, BodyPart: h.bodyPart, SeriesNumber: h.seriesNumber,
		PatientName: h.patientName, PatientID: h.patientID, PatientBirthDate: h.patientBirth,
		StudyUID: h.studyUID, StudyDate: h.studyDate, StudyDescription: h.studyDescription,
		PatientSex: h.patientSex, StudyTime: h.studyTime, StudyID: h.studyID,
		AccessionNumber: h.accession, ReferringPhysician: h.referrer,
		Rows: h.rows, Columns: h.cols,
	}
	var usable []*frameHeader
	var all []*frameHeader
	files := map[*imageFile]bool{}
	reasons := map[string]int{}
	for _, r := range refs {
		files[r.fh.img] = true
		all = append(all, r.fh)
		if r.usable {
			usable = append(usable, r.fh)
		} else {
			reasons[r.reason]++
		}
	}
	s.Files, s.Frames = len(files), len(all)
	stack := usable
	s.Usable = len(usable) > 0
	if !s.Usable {
		stack = all
		best := 0
		for reason, n := range reasons {
			if n > best || n == best && reason < s.Reason {
				s.Reason, best = reason, n
			}
		}
	}
	s.TransferSyntax = syntaxLabel(stack[0].img.ts)
	s.arrange(stack)
	return s
}

func syntaxLabel(ts string) string {
	switch ts {
	case "":
		return "none declared"
	case tsImplicitLE:
		return "Implicit VR Little Endian"
	}
	return nameOfSyntax(ts)
}

// arrange sorts frames head first along the slice normal, drops duplicate
// positions, measures spacing and fills in the geometry.
func (s *Series) arrange(frames []*frameHeader) {
	f0 := frames[0]
	n := cross(f0.row, f0.col)
	if n[2] < 0 || (n[2] == 0 && n[1] < 0) {
		for i := range n {
			n[i] = -n[i]
		}
	}
	s.TiltDegrees = math.Acos(math.Min(1, math.Abs(n[2]))) * 180 / math.Pi
	s.Axial = s.TiltDegrees <= maxTiltDegrees
	for _, f := range frames {
		f.pos = dot(f.ipp, n)
	}
	sorted := append([]*frameHeader(nil), frames...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.pos != b.pos {
			return a.pos > b.pos // head first
		}
		if a.instance != b.instance {
			return a.instance < b.instance
		}
		if a.img.file.Path != b.img.file.Path {
			return a.img.file.Path < b.img.file.Path
		}
		return a.frame < b.frame
	})
	// Duplicates: positions closer than 1% of the typical step (or 0.01 mm).
	steps := make([]float64, 0, len(sorted))
	for i := 1; i < len(sorted); i++ {
		steps = append(steps, sorted[i-1].pos-sorted[i].pos)
	}
	tol := 0.01
	if med := median(positive(steps)); med > 0 {
		tol = math.Max(tol, 0.01*med)
	}
	kept := sorted[:1]
	for _, f := range sorted[1:] {
		if kept[len(kept)-1].pos-f.pos < tol {
			s.dups = append(s.dups, f)
			continue
		}
		kept = append(kept, f)
	}
	s.slices = kept
	s.Slices = len(kept)
	s.Duplicates = len(s.dups)
	if s.Duplicates > 0 {
		s.Issues = append(s.Issues, fmt.Sprintf("%d duplicate slice position(s): kept the first (lowest InstanceNumber), e.g. dropped %s", s.Duplicates, frameName(s.dups[0])))
	}

	// Spacing and gaps along the normal.
	steps = steps[:0]
	for i := 1; i < len(kept); i++ {
		steps = append(steps, kept[i-1].pos-kept[i].pos)
	}
	s.Thickness = f0.thickness
	dz := f0.thickness
	if len(kept) > 1 {
		dz = (kept[0].pos - kept[len(kept)-1].pos) / float64(len(kept)-1)
		med := median(steps)
		lo, hi := steps[0], steps[0]
		for i, d := range steps {
			lo, hi = math.Min(lo, d), math.Max(hi, d)
			if d > 1.5*med {
				s.Gaps++
				if s.Gaps <= 3 {
					s.Issues = append(s.Issues, fmt.Sprintf("gap of %.3g mm between z=%.6g and z=%.6g (about %d missing slice(s))",
						d, kept[i].ipp[2], kept[i+1].ipp[2], int(math.Round(d/med))-1))
				}
			}
		}
		if s.Gaps > 3 {
			s.Issues = append(s.Issues, fmt.Sprintf("%d gaps in all", s.Gaps))
		}
		if hi-lo > 0.1*med && s.Gaps == 0 {
			s.Uneven = true
			s.Issues = append(s.Issues, fmt.Sprintf("uneven slice spacing: steps from %.4g to %.4g mm (mean %.4g)", lo, hi, dz))
		} else if s.Gaps > 0 {
			s.Uneven = true
		}
	}
	if !(dz > 0) {
		dz = 1
		s.Issues = append(s.Issues, "single slice without SliceThickness: z spacing 1 mm assumed")
	}
	ps := f0.spacing
	for _, f := range kept {
		if math.Abs(f.spacing[0]-ps[0]) > 1e-3*ps[0] || math.Abs(f.spacing[1]-ps[1]) > 1e-3*ps[1] {
			s.Issues = append(s.Issues, fmt.Sprintf("pixel spacing varies (%g\\%g and %g\\%g): the first is used", ps[0], ps[1], f.spacing[0], f.spacing[1]))
			break
		}
	}
	if s.TiltDegrees > 0.5 && s.Axial {
		s.Issues = append(s.Issues, fmt.Sprintf("gantry tilt of %.1f degrees (slices are not resampled)", s.TiltDegrees))
	}
	s.Spacing = [3]float64{ps[1], ps[0], dz}

	// Geometry, with rows and columns flipped to the standard axial
	// layout (row 0 anterior, column 0 patient right) when the direction
	// cosines run the other way.
	row, col := f0.row, f0.col
	if s.Axial {
		if math.Abs(row[0]) >= math.Abs(row[1]) && row[0] < 0 {
			s.flipX = true
		}
		if math.Abs(col[1]) >= math.Abs(col[0]) && col[1] < 0 {
			s.flipY = true
		}
		if math.Abs(row[1]) > math.Abs(row[0]) {
			s.Issues = append(s.Issues, "image rows run along the patient's anterior-posterior axis: kept as stored")
		}
	}
	origin := kept[0].ipp
	if s.flipX {
		for i := range origin {
			origin[i] += float64(s.Columns-1) * ps[1] * row[i]
		}
		row = [3]float64{-row[0], -row[1], -row[2]}
	}
	if s.flipY {
		for i := range origin {
			origin[i] += float64(s.Rows-1) * ps[0] * col[i]
		}
		col = [3]float64{-col[0], -col[1], -col[2]}
	}
	zdir := [3]float64{-n[0], -n[1], -n[2]}
	if len(kept) > 1 {
		last := kept[len(kept)-1].ipp
		d := [3]float64{last[0] - kept[0].ipp[0], last[1] - kept[0].ipp[1], last[2] - kept[0].ipp[2]}
		if l := norm(d); l > 0 {
			zdir = [3]float64{d[0] / l, d[1] / l, d[2] / l}
		}
	}
	g := volume.Geometry{
		Nz: len(kept), Ny: s.Rows, Nx: s.Columns,
		Spacing:   s.Spacing,
		Origin:    origin,
		Direction: [3][3]float64{row, col, zdir},
		SliceZ:    make([]float64, len(kept)),
	}
	for i, f := range kept {
		g.SliceZ[i] = f.ipp[2]
	}
	s.geom = g
	s.ZMin, s.ZMax = g.ZRange()
	s.ZFirst, s.ZLast = g.SliceZ[0], g.SliceZ[len(kept)-1]
}

func frameName(f *frameHeader) string {
	if f.img.frames > 1 {
		return fmt.Sprintf("%s frame %d", f.img.file.Path, f.frame+1)
	}
	return f.img.file.Path
}

func positive(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x > 0 {
			out = append(out, x)
		}
	}
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// Extent returns the craniocaudal length covered by the slices (mm).
func (s *Series) Extent() float64 { return s.ZMax - s.ZMin }

// Instance identifies one slice of a series as a DICOM instance.
type Instance struct {
	SOPClassUID, SOPInstanceUID string
	// Frame is the 1-based frame number within a multi-frame image, 0 for
	// a single-frame image.
	Frame int
}

// SliceInstance returns the DICOM instance of slice k of the volume (0 =
// most cranial); ok is false when k is out of range.
func (s *Series) SliceInstance(k int) (inst Instance, ok bool) {
	if k < 0 || k >= len(s.slices) {
		return Instance{}, false
	}
	f := s.slices[k]
	inst = Instance{SOPClassUID: f.img.sopClass, SOPInstanceUID: f.img.sopInstance}
	if f.img.frames > 1 {
		inst.Frame = f.frame + 1
	}
	return inst, true
}

// Geometry returns the geometry the series' volume will have (slice 0 the
// most cranial). The caller must not modify it.
func (s *Series) Geometry() *volume.Geometry { return &s.geom }

// lungKernel matches reconstruction kernels meant for lung or sharp detail:
// Siemens B/Br/Bl/I/Hr 50-89 (and "lung"), GE LUNG/BONE/BONEPLUS/EDGE/DETAIL,
// Philips YA-YD/L/D, Toshiba/Canon FC50-FC59 and FC80-FC89.
var lungKernel = regexp.MustCompile(`(?i)(lung|bone|edge|detail|sharp|^b[lrf]?[5-8]\d|^i[5-8]\d|^hr[5-8]\d|^[bi]r?[5-8]\d[a-z]?|^y[a-d]$|^fc(5\d|8\d)|^l$|^d$)`)

// sharpKernel reports whether a kernel name denotes a sharp or lung kernel.
func sharpKernel(k string) bool {
	for _, part := range strings.Split(k, `\`) {
		if lungKernel.MatchString(strings.TrimSpace(part)) {
			return true
		}
	}
	return false
}

// minLungExtent is the craniocaudal coverage (mm) taken to cover the lungs.
const minLungExtent = 150

// chooseSeries ranks the usable series for lung scoring and returns the best
// with a one-sentence explanation. The order of preference: CT (declared)
// over unknown modality; axial without tilt; covering the lungs (extent >=
// 150 mm); thinner slices (within 10 %); more slices; a sharp or lung
// kernel; then the UID, so that the choice is deterministic.
func chooseSeries(all []*Series) (*Series, string) {
	var cand []*Series
	for _, s := range all {
		if s.Usable && s.Axial {
			cand = append(cand, s)
		}
	}
	if len(cand) == 0 {
		return nil, "no usable axial CT series"
	}
	better := func(a, b *Series) (bool, string) {
		if (a.Modality == "CT") != (b.Modality == "CT") {
			return a.Modality == "CT", "it is declared CT"
		}
		if ta, tb := a.TiltDegrees > 0.5, b.TiltDegrees > 0.5; ta != tb {
			return !ta, "it has no gantry tilt"
		}
		if ca, cb := a.Extent() >= minLungExtent, b.Extent() >= minLungExtent; ca != cb {
			return ca, fmt.Sprintf("it covers %.0f mm, enough for the lungs", a.Extent())
		}
		if math.Abs(a.Spacing[2]-b.Spacing[2]) > 0.1*math.Min(a.Spacing[2], b.Spacing[2]) {
			return a.Spacing[2] < b.Spacing[2], fmt.Sprintf("its slices are thinner (%.3g mm)", a.Spacing[2])
		}
		if a.Slices != b.Slices {
			return a.Slices > b.Slices, fmt.Sprintf("it has more slices (%d)", a.Slices)
		}
		if ka, kb := sharpKernel(a.Kernel), sharpKernel(b.Kernel); ka != kb {
			return ka, fmt.Sprintf("its kernel %s is sharp (lung)", a.Kernel)
		}
		if a.Extent() != b.Extent() {
			return a.Extent() > b.Extent(), fmt.Sprintf("it covers more (%.0f mm)", a.Extent())
		}
		return a.UID < b.UID, "its UID sorts first among otherwise equal series"
	}
	sort.SliceStable(cand, func(i, j int) bool { ok, _ := better(cand[i], cand[j]); return ok })
	for i, s := range cand {
		s.Rank = i
	}
	best := cand[0]
	why := fmt.Sprintf("Chose %s: axial CT, %d slices of %.3g mm covering %.0f mm (z %.6g to %.6g), kernel %s",
		describe(best), best.Slices, best.Spacing[2], best.Extent(), best.ZFirst, best.ZLast, orNone(best.Kernel))
	if len(cand) > 1 {
		_, reason := better(best, cand[1])
		why += fmt.Sprintf(", preferred to %s because %s", describe(cand[1]), reason)
	}
	return best, why + "."
}

func describe(s *Series) string {
	d := strings.TrimSpace(s.Description)
	if d == "" {
		d = "series " + s.UID
	}
	return fmt.Sprintf("%q", d)
}

func orNone(s string) string {
	if s == "" {
		return "not stated"
	}
	return s
}
