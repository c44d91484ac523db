package ingest

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

func mustElem(t testing.TB, tg tag.Tag, v any) *dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tg, v)
	if err != nil {
		t.Fatalf("%v: got error %v, want nil", tg, err)
	}
	return e
}

func writeDataset(t testing.TB, elems []*dicom.Element) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := dicom.Write(&buf, dicom.Dataset{Elements: elems}); err != nil {
		t.Fatalf("dicom.Write: got error %v, want nil", err)
	}
	return buf.Bytes()
}

// TestLegacyConvertedEnhancedCT builds a 3-frame Legacy Converted Enhanced
// CT object (stored feet first, a different rescale per frame, a pixel
// padding range) and checks the volume: frames sorted head first,
// per-frame rescale applied, padding range set to air.
func TestLegacyConvertedEnhancedCT(t *testing.T) {
	b := legacyEnhanced(t)
	v, inv, rep, err := LoadFiles(context.Background(), []File{BytesFile("legacy.dcm", b)}, Options{})
	if err != nil {
		t.Fatalf("LoadFiles: got error %v, want nil", err)
	}
	g := v.Geom
	if g.Nz != 3 || g.SliceZ[0] != -30 || g.SliceZ[2] != -40 || g.Spacing != [3]float64{0.7, 0.8, 5} {
		t.Fatalf("geometry: got %+v, want 3 slices at z -30..-40, spacing 0.7, 0.8, 5", g)
	}
	s, _ := inv.Lookup("")
	if s.Thickness != 5 || s.Modality != "CT" || s.Rows != 4 || s.Columns != 6 {
		t.Errorf("series: got %+v, want CT, 5 mm, 4 rows, 6 columns", s)
	}
	// Slice k is frame 2-k with intercept icpt[2-k].
	want := []int16{1000 + 20 + 5 + 0, 1000 + 10 + 5 - 1000, 1000 + 5 - 1024}
	for k := 0; k < 3; k++ {
		sl := v.SliceView(k)
		if sl[0] != -1024 || sl[5] != want[k] {
			t.Errorf("slice %d: voxels 0 and 5 are %d, %d; want -1024, %d", k, sl[0], sl[5], want[k])
		}
	}
	if rep.PaddingVoxels != 3 {
		t.Errorf("%d padding voxels, want 3", rep.PaddingVoxels)
	}

	// The same object in Deflated Explicit VR Little Endian.
	fl, err := scanFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("scanFile: got error %v, want nil", err)
	}
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestCompression)
	zw.Write(b[fl.dsStart:])
	zw.Close()
	defl := append(synthMeta(tsDeflatedLE), z.Bytes()...)
	v2, _, _, err := LoadFiles(context.Background(), []File{BytesFile("deflated.dcm", defl)}, Options{})
	if err != nil {
		t.Fatalf("LoadFiles: got error %v, want nil", err)
	}
	compareVoxels(t, "deflated", v2.Voxels(), v.Voxels(), 0)
}

// legacyEnhanced builds the Legacy Converted Enhanced CT object of
// TestLegacyConvertedEnhancedCT.
func legacyEnhanced(t *testing.T) []byte {
	const rows, cols, frames = 4, 6, 3
	z := []float64{-40, -35, -30} // stored feet first
	icpt := []string{"-1024", "-1000", "0"}
	pix := make([]byte, 2*rows*cols*frames)
	for f := 0; f < frames; f++ {
		for i := 0; i < rows*cols; i++ {
			v := uint16(1000 + 10*f + i)
			if i == 0 {
				v = 63 // inside the padding range 60..70
			}
			binary.LittleEndian.PutUint16(pix[2*(f*rows*cols+i):], v)
		}
	}
	perFrame := make([][]*dicom.Element, frames)
	for f := range perFrame {
		perFrame[f] = []*dicom.Element{
			mustElem(t, tag.PlanePositionSequence, [][]*dicom.Element{{mustElem(t, tag.ImagePositionPatient, []string{"-100", "-90", dsf(z[f])})}}),
			mustElem(t, tag.PixelValueTransformationSequence, [][]*dicom.Element{{
				mustElem(t, tag.RescaleIntercept, []string{icpt[f]}),
				mustElem(t, tag.RescaleSlope, []string{"1"}),
			}}),
		}
	}
	shared := [][]*dicom.Element{{
		mustElem(t, tag.PlaneOrientationSequence, [][]*dicom.Element{{mustElem(t, tag.ImageOrientationPatient, []string{"1", "0", "0", "0", "1", "0"})}}),
		mustElem(t, tag.PixelMeasuresSequence, [][]*dicom.Element{{
			mustElem(t, tag.PixelSpacing, []string{"0.8", "0.7"}),
			mustElem(t, tag.SliceThickness, []string{"5"}),
		}}),
	}}
	const sop = "1.2.840.10008.5.1.4.1.1.2.2"
	return writeDataset(t, []*dicom.Element{
		mustElem(t, tag.MediaStorageSOPClassUID, []string{sop}),
		mustElem(t, tag.MediaStorageSOPInstanceUID, []string{"1.2.3.4"}),
		mustElem(t, tag.TransferSyntaxUID, []string{tsExplicitLE}),
		mustElem(t, tag.ImageType, []string{"ORIGINAL", "PRIMARY", "AXIAL"}),
		mustElem(t, tag.SOPClassUID, []string{sop}),
		mustElem(t, tag.SOPInstanceUID, []string{"1.2.3.4"}),
		mustElem(t, tag.Modality, []string{"CT"}),
		mustElem(t, tag.SeriesInstanceUID, []string{"1.2.3.5"}),
		mustElem(t, tag.SamplesPerPixel, []int{1}),
		mustElem(t, tag.PhotometricInterpretation, []string{"MONOCHROME2"}),
		mustElem(t, tag.NumberOfFrames, []string{"3"}),
		mustElem(t, tag.Rows, []int{rows}),
		mustElem(t, tag.Columns, []int{cols}),
		mustElem(t, tag.BitsAllocated, []int{16}),
		mustElem(t, tag.BitsStored, []int{12}),
		mustElem(t, tag.HighBit, []int{11}),
		mustElem(t, tag.PixelRepresentation, []int{0}),
		mustElem(t, tag.PixelPaddingValue, []int{60}),
		mustElem(t, tag.PixelPaddingRangeLimit, []int{70}),
		mustElem(t, tag.SharedFunctionalGroupsSequence, shared),
		mustElem(t, tag.PerFrameFunctionalGroupsSequence, perFrame),
		mustElem(t, tag.PixelData, dicom.PixelDataInfo{IntentionallyUnprocessed: true, UnprocessedValueData: pix}),
	})
}

func dsf(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// TestDICOMDIR: a DICOMDIR is recognised by its SOP class and skipped.
func TestDICOMDIR(t *testing.T) {
	b := writeDataset(t, []*dicom.Element{
		mustElem(t, tag.MediaStorageSOPClassUID, []string{sopDICOMDIR}),
		mustElem(t, tag.MediaStorageSOPInstanceUID, []string{"1.2.3"}),
		mustElem(t, tag.TransferSyntaxUID, []string{tsExplicitLE}),
		mustElem(t, tag.FileSetID, []string{"STUDY"}),
	})
	inv, err := Scan(context.Background(), []File{BytesFile("DICOMDIR", b)}, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if f := inv.Files[0]; f.Status != Skipped || f.Code != CodeDICOMDIR {
		t.Errorf("DICOMDIR: got %+v, want skipped with code %s", f, CodeDICOMDIR)
	}
}
