package ingest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/codec"
)

// Status is the outcome for one input file.
type Status string

const (
	// Accepted: the header was read and the file's frames belong to a
	// usable series; its pixels have not been decoded yet.
	Accepted Status = "accepted"
	// Decoded: the pixels were decoded into Hounsfield units.
	Decoded Status = "decoded"
	// Skipped: the file is not wanted for scoring (Reason says why).
	Skipped Status = "skipped"
	// Rejected: the file could not be read or decoded (Reason names the
	// error).
	Rejected Status = "rejected"
)

// Code classifies why a file was skipped or rejected (FileReport.Code). Its
// values are short stable words that may be shown or sent as they are.
type Code string

// Reason codes of skipped and rejected files (FileReport.Code).
const (
	CodeNotDICOM          Code = "not-dicom"          // skipped: content is not DICOM
	CodeArchive           Code = "archive"            // skipped: a zip archive, expanded into its entries
	CodeDICOMDIR          Code = "dicomdir"           // skipped: DICOMDIR media directory
	CodeNoPixels          Code = "no-pixels"          // skipped: no Pixel Data (reports, plans, dose screens)
	CodeNotCT             Code = "not-ct"             // skipped: another modality
	CodeLocalizer         Code = "localizer"          // skipped: localizer / scout
	CodeScreenSave        Code = "screen-save"        // skipped: screen save / secondary capture of a display
	CodeNotAxial          Code = "not-axial"          // skipped: coronal, sagittal or oblique image
	CodeNoGeometry        Code = "no-geometry"        // skipped: no position, orientation or pixel spacing
	CodeNotHU             Code = "not-hu"             // skipped: pixels cannot be Hounsfield units
	CodeColor             Code = "color"              // skipped: colour image
	CodeMalformed         Code = "malformed"          // rejected: the file structure is broken
	CodeTruncated         Code = "truncated"          // rejected: the file ends too early
	CodeUnsupportedSyntax Code = "unsupported-syntax" // rejected: no decoder for the transfer syntax
	CodeUnsupportedPixels Code = "unsupported-pixels" // rejected: pixel format not supported
	CodeDecodeError       Code = "decode-error"       // rejected: the pixel data failed to decode
	CodeReadError         Code = "read-error"         // rejected: the file could not be read
	CodeDuplicate         Code = "duplicate"          // skipped by Load: another file holds this slice position
)

// Well-known SOP classes.
const (
	sopDICOMDIR    = "1.2.840.10008.1.3.10"
	maxTiltDegrees = 30.0
	maxFrames      = 1 << 16
	maxMatrix      = 1 << 14
	maxFramePixels = 1 << 24 // 4096x4096: CT is 512 to 2048 square
)

// imageFile is what pass 2 needs to decode the frames of one accepted file,
// kept instead of the parsed data set so that a lazy volume of thousands of
// slices costs little.
type imageFile struct {
	file File
	// sopInstance is the file's SOPInstanceUID (and sopClass its
	// SOPClassUID): what a report of the images refers to.
	sopClass, sopInstance string
	ts                    string
	enc                   encoding
	deflated              bool
	encaps                bool
	dsStart               int64 // file offset of the data set (compressed, when deflated)
	pixelOff              int64 // offset of the Pixel Data value (in the inflated data set when deflated)
	pixelLen              int64 // -1 when undefined (encapsulated)

	rows, cols, bitsAlloc, bitsStored, pixRep, frames int

	lut              *modalityLUT
	hasPad           bool
	padLo, padHi     int32
	extOffs, extLens []byte // Extended Offset Table, when present
	frameLayoutOnce  sync.Once
	frameLayout      [][]span // per frame: fragment byte ranges (multi-frame encapsulated)
	frameLayoutErr   error
	dec              codec.Decoder
	inflMu           sync.Mutex
	inflated         []byte // inflated data set of a deflated multi-frame file
}

// span is a byte range of a file.
type span struct{ off, n int64 }

// frameHeader is one frame (slice) of an image file, with its geometry.
type frameHeader struct {
	img       *imageFile
	frame     int
	ipp       [3]float64
	row, col  [3]float64 // unit row and column direction cosines
	spacing   [2]float64 // PixelSpacing: between rows (y), between columns (x)
	thickness float64
	intercept float64
	slope     float64
	instance  int
	localizer bool
	pos       float64 // position along the series normal (set by the series stage)
}

// fileHeader holds the attributes of an image file used for grouping,
// choosing and showing series.
type fileHeader struct {
	sopClass, modality, seriesUID, studyUID, frameUID   string
	description, kernel, manufacturer, model, bodyPart  string
	patientName, patientID, patientBirth, studyDate     string
	studyDescription, imageType, seriesNumber           string
	patientSex, studyTime, studyID, accession, referrer string
	rows, cols                                          int
	frames                                              []*frameHeader
}

// fileResult is the outcome of pass 1 for one file.
type fileResult struct {
	report   FileReport
	hdr      *fileHeader // set when the file has placeable image frames
	usable   bool        // the frames can be decoded into a volume
	children []File      // entries of a zip archive
	bytes    int64       // bytes read
}

func skipped(code Code, reason string) FileReport {
	return FileReport{Status: Skipped, Code: code, Reason: reason}
}

func rejected(code Code, reason string) FileReport {
	return FileReport{Status: Rejected, Code: code, Reason: reason}
}

// rejectedErr is a rejection for err, its reason the error's text after
// prefix.
func rejectedErr(code Code, prefix string, err error) FileReport {
	return FileReport{Status: Rejected, Code: code, Reason: prefix + err.Error(), Err: err}
}

// classify runs pass 1 on one file: it reads the header (never the pixel
// bytes), decides whether the file is usable and extracts its frames.
func classify(f File) (res fileResult) {
	defer func() {
		if r := recover(); r != nil {
			res = fileResult{report: rejected(CodeMalformed, fmt.Sprintf("internal error while reading the header: %v", r))}
		}
		res.report.Path = f.Path
	}()
	fl, err := scanFile(f.R, f.Size)
	if err != nil {
		switch {
		case errors.Is(err, errZip):
			kids, zerr := zipEntries(f)
			if zerr != nil {
				return fileResult{report: rejectedErr(CodeMalformed, "zip archive: ", zerr)}
			}
			return fileResult{report: skipped(CodeArchive, fmt.Sprintf("zip archive with %d entries (read as files)", len(kids))), children: kids}
		case errors.Is(err, errNotDICOM):
			return fileResult{report: skipped(CodeNotDICOM, "not a DICOM file")}
		case errors.Is(err, errTruncated):
			return fileResult{report: rejectedErr(CodeTruncated, "truncated DICOM header: ", err)}
		case errors.Is(err, errRead):
			return fileResult{report: rejectedErr(CodeReadError, "", err)}
		}
		return fileResult{report: rejectedErr(CodeMalformed, "malformed DICOM: ", err)}
	}
	res.bytes = fl.bytesRead
	src, warn := parseHeader(fl)
	var warnings []string
	warnings = append(warnings, fl.warnings...)
	if warn != "" {
		warnings = append(warnings, warn)
	}
	res.report.Warnings = warnings
	rep := func(r FileReport) fileResult {
		r.Warnings = warnings
		res.report = r
		return res
	}

	sop := str(src, tag.SOPClassUID)
	if sop == "" {
		sop = fl.metaSOP
	}
	if sop == sopDICOMDIR {
		return rep(skipped(CodeDICOMDIR, "DICOMDIR media directory (not needed: files are found by content)"))
	}
	modality := strings.ToUpper(str(src, tag.Modality))
	imageType := strings.ToUpper(multi(src, tag.ImageType))
	if !fl.lay.pixelFound {
		what := "no pixel data"
		switch {
		case strings.Contains(imageType, "SCREEN SAVE"):
			what += " (screen save)"
		case modality != "":
			what += " (" + modality + ")"
		}
		return rep(skipped(CodeNoPixels, what))
	}
	if modality != "" && modality != "CT" {
		return rep(skipped(CodeNotCT, fmt.Sprintf("modality %s, not CT", modality)))
	}
	if modality == "" {
		warnings = append(warnings, "Modality missing; assumed CT")
	}
	if strings.Contains(imageType, "SCREEN SAVE") {
		return rep(skipped(CodeScreenSave, "screen save, not an acquired image"))
	}
	spp, ok := intAttr(src, tag.SamplesPerPixel)
	if !ok {
		spp = 1
	}
	photo := strings.ToUpper(str(src, tag.PhotometricInterpretation))
	if spp != 1 || (photo != "" && photo != "MONOCHROME1" && photo != "MONOCHROME2") {
		return rep(skipped(CodeColor, fmt.Sprintf("colour image (%s, %d samples per pixel)", photo, spp)))
	}

	img := &imageFile{file: f, ts: fl.ts, enc: fl.enc, deflated: fl.deflated, dsStart: fl.dsStart,
		sopClass: sop, sopInstance: str(src, tag.SOPInstanceUID)}
	img.rows, _ = intAttr(src, tag.Rows)
	img.cols, _ = intAttr(src, tag.Columns)
	if img.rows <= 0 || img.cols <= 0 {
		return rep(rejected(CodeMalformed, fmt.Sprintf("bad or missing Rows/Columns (%dx%d)", img.cols, img.rows)))
	}
	if img.rows > maxMatrix || img.cols > maxMatrix || img.rows*img.cols > maxFramePixels {
		return rep(rejected(CodeUnsupportedPixels, fmt.Sprintf("images of %dx%d pixels are larger than this reader supports", img.cols, img.rows)))
	}
	img.bitsAlloc, _ = intAttr(src, tag.BitsAllocated)
	img.bitsStored, _ = intAttr(src, tag.BitsStored)
	img.pixRep, _ = intAttr(src, tag.PixelRepresentation)
	if img.bitsStored <= 0 || img.bitsStored > img.bitsAlloc {
		img.bitsStored = img.bitsAlloc
	}
	if img.bitsAlloc != 8 && img.bitsAlloc != 16 && img.bitsAlloc != 32 {
		return rep(rejected(CodeUnsupportedPixels, fmt.Sprintf("BitsAllocated %d is not supported", img.bitsAlloc)))
	}
	img.frames = 1
	if n, ok := intAttr(src, tag.NumberOfFrames); ok {
		img.frames = n
	}
	if img.frames < 1 || img.frames > maxFrames {
		return rep(rejected(CodeMalformed, fmt.Sprintf("bad NumberOfFrames %d", img.frames)))
	}

	hdr := &fileHeader{
		sopClass: sop, modality: modality,
		seriesUID: str(src, tag.SeriesInstanceUID), studyUID: str(src, tag.StudyInstanceUID),
		frameUID:    str(src, tag.FrameOfReferenceUID),
		description: str(src, tag.SeriesDescription), kernel: multi(src, tag.ConvolutionKernel),
		manufacturer: str(src, tag.Manufacturer), model: str(src, tag.ManufacturerModelName),
		bodyPart: str(src, tag.BodyPartExamined), patientName: str(src, tag.PatientName),
		patientID: str(src, tag.PatientID), patientBirth: str(src, tag.PatientBirthDate),
		studyDate: str(src, tag.StudyDate), studyDescription: str(src, tag.StudyDescription),
		imageType: imageType, seriesNumber: str(src, tag.SeriesNumber),
		patientSex: str(src, tag.PatientSex), studyTime: str(src, tag.StudyTime), studyID: str(src, tag.StudyID),
		accession: str(src, tag.AccessionNumber), referrer: str(src, tag.ReferringPhysicianName),
		rows: img.rows, cols: img.cols,
	}
	frames, code, reason := readFrames(src, img)
	if code != "" {
		if code == CodeNoGeometry || code == CodeNotHU {
			return rep(skipped(code, reason))
		}
		return rep(rejected(code, reason))
	}
	hdr.frames = frames
	res.hdr = hdr

	// Localizers and non-axial images are listed in their series but never
	// decoded.
	if strings.Contains(imageType, "LOCALIZER") || frames[0].localizer {
		return rep(skipped(CodeLocalizer, "localizer (scout) image"))
	}
	if plane, tilt := orientation(frames[0].row, frames[0].col); plane != "axial" {
		return rep(skipped(CodeNotAxial, fmt.Sprintf("%s image, not axial", plane)))
	} else if tilt > 0.5 {
		warnings = append(warnings, fmt.Sprintf("gantry tilt %.1f degrees (the slices are not resampled)", tilt))
	}
	if img.bitsAlloc == 8 && img.lut == nil && frames[0].slope == 1 && frames[0].intercept == 0 {
		return rep(skipped(CodeNotHU, "8-bit pixels without a rescale: not Hounsfield units"))
	}

	// Pixel data and transfer syntax.
	pix := fl.lay.pixel
	img.pixelOff = fl.pixelValueOffset()
	img.pixelLen = int64(pix.length)
	if pix.length == undefinedLength {
		img.pixelLen = -1
	}
	switch fl.ts {
	case tsImplicitLE, tsExplicitLE, tsExplicitBE, tsDeflatedLE, "":
		if img.pixelLen < 0 {
			return rep(rejected(CodeMalformed, "undefined-length (encapsulated) pixel data in a native transfer syntax"))
		}
		need := int64(img.frames) * int64(img.rows*img.cols) * int64(img.bitsAlloc/8)
		if img.pixelLen < need {
			return rep(rejected(CodeTruncated, fmt.Sprintf("pixel data holds %d bytes, %d frame(s) of %dx%d need %d", img.pixelLen, img.frames, img.cols, img.rows, need)))
		}
		if !fl.deflated && img.pixelOff+need > f.Size {
			return rep(rejected(CodeTruncated, fmt.Sprintf("file ends %d bytes into pixel data that needs %d", f.Size-img.pixelOff, need)))
		}
	default:
		dec, ok := codec.Lookup(fl.ts)
		if !ok {
			return rep(rejected(CodeUnsupportedSyntax, fmt.Sprintf("%s (%s) compressed pixel data cannot be decoded by this version", codec.SyntaxName(fl.ts), fl.ts)))
		}
		if img.pixelLen >= 0 {
			return rep(rejected(CodeMalformed, fmt.Sprintf("%s pixel data is not encapsulated", codec.SyntaxName(fl.ts))))
		}
		img.dec, img.encaps = dec, true
		if v, _, ok := fl.topValue(tagExtOffsetTable); ok {
			img.extOffs = append([]byte(nil), v...)
			if l, _, ok := fl.topValue(tagExtOffsetLength); ok {
				img.extLens = append([]byte(nil), l...)
			}
		}
	}
	res.usable = true
	res.report = FileReport{Status: Accepted, Frames: img.frames, Warnings: warnings}
	return res
}

// readFrames reads the per-frame geometry and rescale of an image, from the
// functional groups of enhanced multi-frame objects or the classic
// attributes, and the file-wide padding and Modality LUT.
func readFrames(src attrSource, img *imageFile) ([]*frameHeader, Code, string) {
	signed := img.pixRep == 1
	// Padding (PS3.3 C.7.5.1.1.2): compared with stored values.
	if p, ok := intAttr(src, tag.PixelPaddingValue); ok {
		lo := storedValue(p, signed)
		hi := lo
		if l, ok := intAttr(src, tag.PixelPaddingRangeLimit); ok {
			hi = storedValue(l, signed)
		}
		img.hasPad, img.padLo, img.padHi = true, min(lo, hi), max(lo, hi)
	}
	if it := first(src, tag.ModalityLUTSequence); it != nil {
		if _, hasSlope := src.strings(tag.RescaleSlope); !hasSlope {
			lut, err := readModalityLUT(it, signed)
			if err != nil {
				return nil, CodeMalformed, err.Error()
			}
			img.lut = lut
		}
	}

	shared := first(src, tag.SharedFunctionalGroupsSequence)
	perFrame := src.items(tag.PerFrameFunctionalGroupsSequence)
	// lookup finds attribute t of functional group seq for frame k: per
	// frame first, then shared, then (for classic objects) top level.
	lookup := func(k int, seq, t tag.Tag) attrSource {
		if k < len(perFrame) {
			if it := first(perFrame[k], seq); it != nil {
				if _, ok := it.strings(t); ok {
					return it
				}
			}
		}
		if it := first(shared, seq); it != nil {
			if _, ok := it.strings(t); ok {
				return it
			}
		}
		if _, ok := src.strings(t); ok {
			return src
		}
		return nil
	}
	instance, _ := intAttr(src, tag.InstanceNumber)
	frames := make([]*frameHeader, img.frames)
	var stepDir [3]float64
	classicMulti := img.frames > 1 && len(perFrame) == 0
	for k := range frames {
		fh := &frameHeader{img: img, frame: k, slope: 1, instance: instance}
		a := lookup(k, tag.PlanePositionSequence, tag.ImagePositionPatient)
		b := lookup(k, tag.PlaneOrientationSequence, tag.ImageOrientationPatient)
		c := lookup(k, tag.PixelMeasuresSequence, tag.PixelSpacing)
		if a == nil || b == nil {
			return nil, CodeNoGeometry, "no ImagePositionPatient/ImageOrientationPatient: the image cannot be placed in a volume"
		}
		if c == nil {
			return nil, CodeNoGeometry, "no PixelSpacing: the image size in millimetres is unknown"
		}
		ipp, ok1 := floats(a, tag.ImagePositionPatient)
		iop, ok2 := floats(b, tag.ImageOrientationPatient)
		ps, ok3 := floats(c, tag.PixelSpacing)
		if !ok1 || len(ipp) < 3 || !ok2 || len(iop) < 6 {
			return nil, CodeNoGeometry, "malformed ImagePositionPatient/ImageOrientationPatient"
		}
		if !ok3 || len(ps) < 1 || ps[0] <= 0 || (len(ps) >= 2 && ps[1] <= 0) {
			return nil, CodeNoGeometry, "malformed PixelSpacing"
		}
		if len(ps) == 1 {
			ps = append(ps, ps[0])
		}
		copy(fh.ipp[:], ipp)
		fh.spacing = [2]float64{ps[0], ps[1]}
		var ok bool
		if fh.row, fh.col, ok = unitCosines(iop); !ok {
			return nil, CodeNoGeometry, fmt.Sprintf("degenerate ImageOrientationPatient %v", iop[:6])
		}
		if t := lookup(k, tag.PixelMeasuresSequence, tag.SliceThickness); t != nil {
			fh.thickness, _ = float1(t, tag.SliceThickness)
		}
		if r := lookup(k, tag.PixelValueTransformationSequence, tag.RescaleSlope); r != nil {
			if s, ok := float1(r, tag.RescaleSlope); ok && s != 0 {
				fh.slope = s
			}
		}
		if r := lookup(k, tag.PixelValueTransformationSequence, tag.RescaleIntercept); r != nil {
			fh.intercept, _ = float1(r, tag.RescaleIntercept)
		}
		if k < len(perFrame) {
			if ft := first(perFrame[k], tag.CTImageFrameTypeSequence); ft != nil && strings.Contains(strings.ToUpper(multi(ft, tag.FrameType)), "LOCALIZER") {
				fh.localizer = true
			}
		}
		if ft := first(shared, tag.CTImageFrameTypeSequence); ft != nil && strings.Contains(strings.ToUpper(multi(ft, tag.FrameType)), "LOCALIZER") {
			fh.localizer = true
		}
		if classicMulti {
			// A classic multi-frame image stacks frames along the normal
			// by SpacingBetweenSlices.
			if k == 0 {
				d, ok := float1(src, tag.SpacingBetweenSlices)
				if !ok || d == 0 {
					return nil, CodeNoGeometry, "multi-frame image without per-frame positions or SpacingBetweenSlices"
				}
				n := cross(fh.row, fh.col)
				for i := range stepDir {
					stepDir[i] = n[i] * d
				}
			} else {
				for i := range fh.ipp {
					fh.ipp[i] = frames[0].ipp[i] + float64(k)*stepDir[i]
				}
			}
		}
		frames[k] = fh
	}
	return frames, "", ""
}

// storedValue interprets a US/SS attribute value as a stored pixel value.
func storedValue(v int, signed bool) int32 {
	u := uint16(v)
	if signed {
		return int32(int16(u))
	}
	return int32(u)
}

func unitCosines(iop []float64) (row, col [3]float64, ok bool) {
	copy(row[:], iop[0:3])
	copy(col[:], iop[3:6])
	nr, nc := norm(row), norm(col)
	if nr < 0.5 || nc < 0.5 || nr > 1.5 || nc > 1.5 {
		return row, col, false
	}
	for i := range row {
		row[i] /= nr
		col[i] /= nc
	}
	n := cross(row, col)
	if norm(n) < 0.5 { // rows and columns nearly parallel
		return row, col, false
	}
	return row, col, true
}

func norm(v [3]float64) float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }

func dot(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross(a, b [3]float64) [3]float64 {
	n := [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
	l := norm(n)
	if l > 0 {
		for i := range n {
			n[i] /= l
		}
	}
	return n
}

// orientation names the plane of an image from its direction cosines and
// returns the angle (degrees) between its normal and the patient z axis.
// Images within maxTiltDegrees of axial (gantry tilt) count as axial.
func orientation(row, col [3]float64) (plane string, tilt float64) {
	n := cross(row, col)
	tilt = math.Acos(math.Min(1, math.Abs(n[2]))) * 180 / math.Pi
	if tilt <= maxTiltDegrees {
		return "axial", tilt
	}
	ax, ay, az := math.Abs(n[0]), math.Abs(n[1]), math.Abs(n[2])
	switch {
	case ay >= 0.9 && ay >= ax && ay >= az:
		return "coronal", tilt
	case ax >= 0.9 && ax >= ay && ax >= az:
		return "sagittal", tilt
	}
	return fmt.Sprintf("oblique (%.0f degrees from axial)", tilt), tilt
}
