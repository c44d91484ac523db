package jpegls_test

import (
	"fmt"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/jpegls"
)

var dec = codec.DecoderFunc(jpegls.Decode)

const (
	ct1    = "robustness/nema-wg04-ct/CT1_UNC.dcm"
	ct2    = "robustness/nema-wg04-ct/CT2_UNC.dcm"
	ct0012 = "robustness/dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm"
)

func TestCorpus(t *testing.T) {
	tests := []struct {
		file, ref string
		tol       int32
	}{
		{"robustness/nema-wg04-ct/CT1_JLSL.dcm", ct1, 0},
		{"robustness/nema-wg04-ct/CT2_JLSL.dcm", ct2, 0},
		{"robustness/nema-wg04-ct/CT1_JLSN.dcm", ct1, 4},
		{"robustness/nema-wg04-ct/CT2_JLSN.dcm", ct2, 4},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", ct1, 0},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm", ct1, 0},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm", ct1, 0},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm", ct1, 0},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.80.dcm", ct0012, 0},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_jpeg_ls.80.dcm", ct0012, 0},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm", ct0012, 0},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm", ct0012, 2}, // NEAR 2
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _ := encaptest.Decode(t, tt.file, dec)
			d := encaptest.Compare(t, tt.file, got, encaptest.Reference(t, tt.ref), tt.tol)
			t.Logf("max difference %d", d)
		})
	}
}

func TestChestSeries(t *testing.T) {
	for i := 1; i <= 30; i++ {
		name := fmt.Sprintf("1-%02d.dcm", i)
		got, _ := encaptest.Decode(t, "chest-ct/A0002-B40f-jpegls/"+name, dec)
		encaptest.Compare(t, name, got, encaptest.Reference(t, "chest-ct/A0002-B40f/"+name), 0)
	}
}

// TestIndependentReference compares files without an uncompressed twin in
// the corpus with DCMTK 3.6.7 (dcmdjpls): the hash of the decoded samples.
func TestIndependentReference(t *testing.T) {
	tests := []struct {
		file string
		hash uint64
	}{
		{"robustness/pydicom-edge/JLSL_16_15_1_1F.dcm", 0xdde55981abb31f9a},
		{"robustness/pydicom-edge/JPEGLSNearLossless_16.dcm", 0x3454bb3c71fc372d},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _ := encaptest.Decode(t, tt.file, dec)
			if h := encaptest.Hash(got); h != tt.hash {
				t.Errorf("hash %#x, want %#x", h, tt.hash)
			}
		})
	}
}

// TestGH364 decodes an 8-bit ultrasound JPEG-LS frame (a file some DICOM
// readers reject) and checks its values are plausible.
func TestGH364(t *testing.T) {
	f, err := encaptest.ReadFile(encaptest.Path(t, "robustness/fo-dicom-edge/GH364.dcm"))
	if err != nil {
		t.Skipf("test file parser: %v", err)
	}
	frames, err := f.Frames()
	if err != nil {
		t.Fatalf("f.Frames: got error %v, want nil", err)
	}
	dst := make([]int32, f.Info.Len())
	if err := jpegls.Decode(frames[0], f.Info, dst); err != nil {
		t.Fatalf("jpegls.Decode: got error %v, want nil", err)
	}
	lo, hi := dst[0], dst[0]
	for _, v := range dst {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo < 0 || hi > 255 || lo == hi {
		t.Errorf("values %d..%d, want within 0..255 and not constant", lo, hi)
	}
}

// FuzzDecode feeds mutated frames and header values to Decode, which must
// return (an error or not) without panicking. Seeds: the small synthetic
// streams of testdata.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"jls_u16.dcm", "jls_u16_near3.dcm", "jls_u8_custom.dcm", "jls_rgb8_line.dcm", "jls_rgb8_none.dcm"} {
		file, err := encaptest.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		frames, err := file.Frames()
		if err != nil {
			f.Fatal(err)
		}
		i := file.Info
		f.Add(frames[0], uint16(i.Rows), uint16(i.Columns), uint8(i.BitsStored), uint8(i.PixelRepresentation|(i.SamplesPerPixel-1)))
	}
	f.Fuzz(func(t *testing.T, frame []byte, rows, cols uint16, bits, pixrep uint8) {
		info := codec.FrameInfo{Rows: int(rows % 300), Columns: int(cols % 300), SamplesPerPixel: 1 + 2*int(pixrep&2>>1),
			BitsAllocated: 16, BitsStored: int(bits % 33), PixelRepresentation: int(pixrep & 1)}
		_ = jpegls.Decode(frame, info, make([]int32, info.Len()))
	})
}

// BenchmarkDecodeCTSlice decodes one 512x512 JPEG-LS lossless CT slice.
func BenchmarkDecodeCTSlice(b *testing.B) {
	f := encaptest.Load(b, "chest-ct/A0002-B40f-jpegls/1-15.dcm")
	frames, err := f.Frames()
	if err != nil {
		b.Fatalf("f.Frames: got error %v, want nil", err)
	}
	dst := make([]int32, f.Info.Len())
	b.SetBytes(int64(len(frames[0])))
	b.ResetTimer()
	for b.Loop() {
		if err := jpegls.Decode(frames[0], f.Info, dst); err != nil {
			b.Fatalf("jpegls.Decode: got error %v, want nil", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/slice")
}
