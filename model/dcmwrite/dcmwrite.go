// Package dcmwrite writes DICOM files: CT volumes as CT Image Storage
// series, and any other data set (WriteDataset: the structured report and
// the encapsulated PDF of a result).
//
// It is built on github.com/suyashkumar/dicom's writer and produces one
// single-frame file per slice (SOP class 1.2.840.10008.5.1.4.1.1.2), in
// explicit VR little endian (or implicit VR little endian on request), with
// the geometry (ImagePositionPatient, ImageOrientationPatient, PixelSpacing,
// SliceThickness, SliceLocation), the rescale to Hounsfield units and the
// patient, study and series attributes a reader needs to rebuild the volume.
//
// UIDs are deterministic: they are derived from a seed string under the 2.25
// root (a UUID-derived decimal), so writing the same volume with the same
// metadata twice gives byte-identical files.
//
// WriteDataset writes a data set given as attributes (Attr; sequences as
// lists of Item), each level sorted by tag, with its file meta information.
package dcmwrite

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/volume"
)

// CTImageStorage is the SOP class UID of the files written.
const CTImageStorage = "1.2.840.10008.5.1.4.1.1.2"

// Transfer syntaxes written.
const (
	ExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
	ImplicitVRLittleEndian = "1.2.840.10008.1.2"
)

// implementationClassUID identifies this writer in the file meta header.
var implementationClassUID = UID("sscscore/dcmwrite")

// SeriesMeta describes the series to write. Empty strings get defaults; empty
// UIDs are derived from UIDSeed.
type SeriesMeta struct {
	PatientID, PatientName string
	// StudyUID and SeriesUID are used as given when set; otherwise they are
	// derived from UIDSeed.
	StudyUID, SeriesUID string
	SeriesDescription   string
	// Kernel is written as ConvolutionKernel (e.g. "B70f").
	Kernel       string
	Manufacturer string
	// Signed selects PixelRepresentation 1 (two's complement) storage;
	// otherwise pixels are stored unsigned and every stored value
	// (HU - Intercept) / Slope must be >= 0.
	Signed bool
	// Intercept and Slope are RescaleIntercept and RescaleSlope: HU =
	// stored*Slope + Intercept. A zero Slope means 1. With Slope 1 and an
	// integer Intercept the round trip is exact.
	Intercept, Slope float64
	// BitsStored is the number of bits stored per pixel (9..16); 0 means 16.
	// Values that do not fit are an error, never clipped.
	BitsStored int
	// ImplicitVR writes implicit VR little endian instead of explicit.
	ImplicitVR bool
	// UIDSeed seeds the derived UIDs; when empty, a seed is made from the
	// patient, description, kernel and geometry.
	UIDSeed string
	// SeriesNumber is written as SeriesNumber (0 means 1).
	SeriesNumber int
	// StudyDate is written as StudyDate (YYYYMMDD) when set.
	StudyDate string
}

// UID returns a deterministic DICOM UID for seed: "2.25." followed by the
// decimal value of a version-8 (custom) UUID made from the SHA-256 of seed.
func UID(seed string) string {
	h := sha256.Sum256([]byte(seed))
	var u [16]byte
	copy(u[:], h[:16])
	u[6] = u[6]&0x0f | 0x80 // version 8: custom
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return "2.25." + new(big.Int).SetBytes(u[:]).String()
}

// resolved holds the meta with every default filled in.
type resolved struct {
	SeriesMeta
	frameUID string
	ts       string
}

func resolve(src volume.Source, meta SeriesMeta) (resolved, error) {
	r := resolved{SeriesMeta: meta}
	g := src.Geometry()
	if err := g.Validate(); err != nil {
		return r, fmt.Errorf("dcmwrite: %w", err)
	}
	if r.Slope == 0 {
		r.Slope = 1
	}
	if math.IsNaN(r.Slope) || math.IsInf(r.Slope, 0) || math.IsNaN(r.Intercept) || math.IsInf(r.Intercept, 0) {
		return r, fmt.Errorf("dcmwrite: bad rescale slope %v intercept %v", r.Slope, r.Intercept)
	}
	if r.BitsStored == 0 {
		r.BitsStored = 16
	}
	if r.BitsStored < 9 || r.BitsStored > 16 {
		return r, fmt.Errorf("dcmwrite: BitsStored %d outside 9..16", r.BitsStored)
	}
	if r.PatientID == "" {
		r.PatientID = "ANONYMOUS"
	}
	if r.PatientName == "" {
		r.PatientName = "Anonymous"
	}
	if r.Manufacturer == "" {
		r.Manufacturer = "sscscore"
	}
	if r.SeriesNumber == 0 {
		r.SeriesNumber = 1
	}
	if r.UIDSeed == "" {
		r.UIDSeed = fmt.Sprintf("%s|%s|%s|%s|%d|%d|%d|%v|%v|%v", r.PatientID, r.PatientName, r.SeriesDescription,
			r.Kernel, g.Nz, g.Ny, g.Nx, g.Spacing, g.Origin, g.Direction)
	}
	if r.StudyUID == "" {
		r.StudyUID = UID(r.UIDSeed + "/study")
	}
	if r.SeriesUID == "" {
		r.SeriesUID = UID(r.UIDSeed + "/series")
	}
	r.frameUID = UID(r.UIDSeed + "/frame-of-reference")
	r.ts = ExplicitVRLittleEndian
	if r.ImplicitVR {
		r.ts = ImplicitVRLittleEndian
	}
	return r, nil
}

// WriteSlice writes slice k of src as one DICOM file to w.
func WriteSlice(w io.Writer, src volume.Source, k int, meta SeriesMeta) error {
	r, err := resolve(src, meta)
	if err != nil {
		return err
	}
	g := src.Geometry()
	if k < 0 || k >= g.Nz {
		return fmt.Errorf("dcmwrite: slice %d out of range [0,%d)", k, g.Nz)
	}
	hu := make([]int16, g.SliceLen())
	if err := src.Slice(context.Background(), k, hu); err != nil {
		return fmt.Errorf("dcmwrite: reading slice %d: %w", k, err)
	}
	return writeSlice(w, g, k, hu, r, make([]byte, 2*len(hu)))
}

// WriteSeries writes every slice of src into dir (created if need be), one
// file per slice named CT00001.dcm, CT00002.dcm, ... in slice order (head
// first), and returns the paths written. progress, if not nil, is called
// after each file. It stops at the first error or when ctx is cancelled.
func WriteSeries(ctx context.Context, dir string, src volume.Source, meta SeriesMeta, progress func(done, total int)) ([]string, error) {
	r, err := resolve(src, meta)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dcmwrite: %w", err)
	}
	g := src.Geometry()
	hu := make([]int16, g.SliceLen())
	pix := make([]byte, 2*len(hu))
	paths := make([]string, 0, g.Nz)
	for k := 0; k < g.Nz; k++ {
		if err := ctx.Err(); err != nil {
			return paths, err
		}
		if err := src.Slice(ctx, k, hu); err != nil {
			return paths, fmt.Errorf("dcmwrite: reading slice %d: %w", k, err)
		}
		p := filepath.Join(dir, fmt.Sprintf("CT%05d.dcm", k+1))
		if err := writeFile(p, g, k, hu, r, pix); err != nil {
			return paths, err
		}
		paths = append(paths, p)
		if progress != nil {
			progress(k+1, g.Nz)
		}
	}
	return paths, nil
}

func writeFile(path string, g *volume.Geometry, k int, hu []int16, r resolved, pix []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("dcmwrite: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = writeSlice(bw, g, k, hu, r, pix)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dcmwrite: %s: %w", path, err)
	}
	return nil
}

// storedValues converts HU to stored little-endian 16-bit pixel values in pix
// and returns the smallest and largest stored value.
func storedValues(hu []int16, r resolved, pix []byte) (lo, hi int, err error) {
	lo, hi = math.MaxInt, math.MinInt
	minV, maxV := 0, 1<<r.BitsStored-1
	if r.Signed {
		minV, maxV = -(1 << (r.BitsStored - 1)), 1<<(r.BitsStored-1)-1
	}
	exact := r.Slope == 1 && r.Intercept == math.Trunc(r.Intercept)
	icpt := int(r.Intercept)
	for i, h := range hu {
		var v int
		if exact {
			v = int(h) - icpt
		} else {
			v = int(math.Round((float64(h) - r.Intercept) / r.Slope))
		}
		if v < minV || v > maxV {
			return 0, 0, fmt.Errorf("HU %d (stored %d) does not fit %d-bit %s storage with intercept %v, slope %v",
				h, v, r.BitsStored, map[bool]string{true: "signed", false: "unsigned"}[r.Signed], r.Intercept, r.Slope)
		}
		lo, hi = min(lo, v), max(hi, v)
		binary.LittleEndian.PutUint16(pix[2*i:], uint16(v))
	}
	return lo, hi, nil
}

func writeSlice(w io.Writer, g *volume.Geometry, k int, hu []int16, r resolved, pix []byte) error {
	if _, _, err := storedValues(hu, r, pix); err != nil {
		return fmt.Errorf("dcmwrite: slice %d: %w", k, err)
	}
	ds, err := sliceDataset(g, k, r, pix)
	if err != nil {
		return fmt.Errorf("dcmwrite: slice %d: %w", k, err)
	}
	if err := dicom.Write(w, ds); err != nil {
		return fmt.Errorf("dcmwrite: slice %d: %w", k, err)
	}
	return nil
}

// position returns the ImagePositionPatient of slice k: the origin moved
// along the z direction so that its z is SliceZ[k].
func position(g *volume.Geometry, k int) [3]float64 {
	dz := g.Direction[2]
	t := float64(k) * g.Spacing[2]
	if len(g.SliceZ) == g.Nz && math.Abs(dz[2]) > 1e-6 {
		t = (g.SliceZ[k] - g.Origin[2]) / dz[2]
	}
	var p [3]float64
	for i := range p {
		p[i] = g.Origin[i] + t*dz[i]
	}
	if len(g.SliceZ) == g.Nz {
		p[2] = g.SliceZ[k]
	}
	return p
}

func sliceDataset(g *volume.Geometry, k int, r resolved, pix []byte) (dicom.Dataset, error) {
	sop := UID(r.SeriesUID + "/" + strconv.Itoa(k))
	pos := position(g, k)
	dir := g.Direction
	pixRep := 0
	if r.Signed {
		pixRep = 1
	}
	imageType := []string{"ORIGINAL", "PRIMARY", "AXIAL"}
	elems := []Attr{
		{tag.FileMetaInformationVersion, []byte{0, 1}},
		{tag.MediaStorageSOPClassUID, []string{CTImageStorage}},
		{tag.MediaStorageSOPInstanceUID, []string{sop}},
		{tag.TransferSyntaxUID, []string{r.ts}},
		{tag.ImplementationClassUID, []string{implementationClassUID}},
		{tag.SpecificCharacterSet, []string{"ISO_IR 100"}},
		{tag.ImageType, imageType},
		{tag.SOPClassUID, []string{CTImageStorage}},
		{tag.SOPInstanceUID, []string{sop}},
		{tag.StudyDate, []string{r.StudyDate}},
		{tag.StudyTime, []string{""}},
		{tag.AccessionNumber, []string{""}},
		{tag.ReferringPhysicianName, []string{""}},
		{tag.PatientBirthDate, []string{""}},
		{tag.PatientSex, []string{""}},
		{tag.KVP, []string{""}},
		{tag.Modality, []string{"CT"}},
		{tag.Manufacturer, []string{r.Manufacturer}},
		{tag.SeriesDescription, []string{r.SeriesDescription}},
		{tag.PatientName, []string{r.PatientName}},
		{tag.PatientID, []string{r.PatientID}},
		{tag.SliceThickness, []string{DS(g.Spacing[2])}},
		{tag.ConvolutionKernel, []string{r.Kernel}},
		{tag.PatientPosition, []string{"HFS"}},
		{tag.StudyInstanceUID, []string{r.StudyUID}},
		{tag.SeriesInstanceUID, []string{r.SeriesUID}},
		{tag.StudyID, []string{"1"}},
		{tag.SeriesNumber, []string{strconv.Itoa(r.SeriesNumber)}},
		{tag.AcquisitionNumber, []string{"1"}},
		{tag.InstanceNumber, []string{strconv.Itoa(k + 1)}},
		{tag.ImagePositionPatient, dsList(pos[:])},
		{tag.ImageOrientationPatient, dsList([]float64{dir[0][0], dir[0][1], dir[0][2], dir[1][0], dir[1][1], dir[1][2]})},
		{tag.FrameOfReferenceUID, []string{r.frameUID}},
		{tag.SliceLocation, []string{DS(pos[2])}},
		{tag.SamplesPerPixel, []int{1}},
		{tag.PhotometricInterpretation, []string{"MONOCHROME2"}},
		{tag.Rows, []int{g.Ny}},
		{tag.Columns, []int{g.Nx}},
		// PixelSpacing is row spacing (between rows, y) then column spacing (x).
		{tag.PixelSpacing, dsList([]float64{g.Spacing[1], g.Spacing[0]})},
		{tag.BitsAllocated, []int{16}},
		{tag.BitsStored, []int{r.BitsStored}},
		{tag.HighBit, []int{r.BitsStored - 1}},
		{tag.PixelRepresentation, []int{pixRep}},
		{tag.WindowCenter, []string{"-600"}},
		{tag.WindowWidth, []string{"1500"}},
		{tag.RescaleIntercept, []string{DS(r.Intercept)}},
		{tag.RescaleSlope, []string{DS(r.Slope)}},
		{tag.RescaleType, []string{"HU"}},
		{tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: pix}},
	}
	els, err := elements(elems)
	return dicom.Dataset{Elements: els}, err
}

// Attr is one attribute of a data set to write: its tag and its value,
// one of []string (text, dates, UIDs, and DS/IS numbers as strings),
// []int (US, UL, SS, SL), []float64 (FD, FL), []byte (OB, OW),
// dicom.PixelDataInfo (Pixel Data) or []Item (a sequence).
type Attr struct {
	Tag   tag.Tag
	Value any
}

// Item is one item of a sequence: its attributes, in any order.
type Item []Attr

// elements converts attrs (and the items of their sequences) to the
// library's elements, in ascending tag order at every level.
func elements(attrs []Attr) ([]*dicom.Element, error) {
	sorted := append([]Attr(nil), attrs...)
	sort.SliceStable(sorted, func(i, j int) bool { return tagLess(sorted[i].Tag, sorted[j].Tag) })
	out := make([]*dicom.Element, 0, len(sorted))
	for i, a := range sorted {
		if i > 0 && sorted[i-1].Tag == a.Tag {
			return nil, fmt.Errorf("element %v given twice", a.Tag)
		}
		v := a.Value
		if items, ok := v.([]Item); ok {
			seq := make([][]*dicom.Element, len(items))
			for k, it := range items {
				els, err := elements(it)
				if err != nil {
					return nil, fmt.Errorf("element %v item %d: %w", a.Tag, k+1, err)
				}
				seq[k] = els
			}
			v = seq
		}
		el, err := dicom.NewElement(a.Tag, v)
		if err != nil {
			return nil, fmt.Errorf("element %v: %w", a.Tag, err)
		}
		out = append(out, el)
	}
	return out, nil
}

// WriteDataset writes a DICOM Part-10 file of SOP class sopClass and
// instance sopInstance to w, in explicit VR little endian: the file meta
// information, then attrs (which must not repeat SOPClassUID and
// SOPInstanceUID: they are written from the arguments), every sequence with
// undefined length. It is how the reports of a result (structured report,
// encapsulated PDF) are written.
func WriteDataset(w io.Writer, sopClass, sopInstance string, attrs []Attr) error {
	if sopClass == "" || sopInstance == "" {
		return fmt.Errorf("dcmwrite: empty SOP class %q or instance %q", sopClass, sopInstance)
	}
	all := append([]Attr{
		{tag.FileMetaInformationVersion, []byte{0, 1}},
		{tag.MediaStorageSOPClassUID, []string{sopClass}},
		{tag.MediaStorageSOPInstanceUID, []string{sopInstance}},
		{tag.TransferSyntaxUID, []string{ExplicitVRLittleEndian}},
		{tag.ImplementationClassUID, []string{implementationClassUID}},
		{tag.SOPClassUID, []string{sopClass}},
		{tag.SOPInstanceUID, []string{sopInstance}},
	}, attrs...)
	els, err := elements(all)
	if err != nil {
		return fmt.Errorf("dcmwrite: %w", err)
	}
	if err := dicom.Write(w, dicom.Dataset{Elements: els}); err != nil {
		return fmt.Errorf("dcmwrite: %w", err)
	}
	return nil
}

func tagLess(a, b tag.Tag) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	return a.Element < b.Element
}

// DS formats v as a DICOM decimal string (at most 16 characters), with as
// many significant digits as fit.
func DS(v float64) string {
	if v == 0 {
		return "0"
	}
	for prec := -1; ; {
		s := strconv.FormatFloat(v, 'g', prec, 64)
		if strings.Contains(s, "e") {
			s = strings.Replace(strings.Replace(s, "e+", "e", 1), "e0", "e", 1)
		}
		if len(s) <= 16 || prec == 1 {
			return s
		}
		if prec == -1 {
			prec = 16
		}
		prec--
	}
}

func dsList(vs []float64) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = DS(v)
	}
	return out
}
