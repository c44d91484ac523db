package jpeg_test

import (
	"testing"

	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/jpeg"
)

// Synthetic images (smooth gradients, flat regions, noisy lines, extreme
// values) encoded by DCMTK 3.6.7 dcmcjpeg (libijg), checked against the
// hash of the samples DCMTK's dcmdjpeg decodes from them (lossless), or
// against dcmdjpeg's decoded file (lossy, within IDCT and colour rounding).
func TestDCMTKEncoded(t *testing.T) {
	const (
		u16 = 0x30e3c42f9fa02e5b // the 16-bit source image
		u12 = 0x68ff30fe3bd0bf8e
		u8  = 0x850530f590842ff5
		s16 = 0x56eb3d1119af10b3
		rgb = 0xac88451bf0ec1764
	)
	tests := []struct {
		file string
		hash uint64
		ref  string // lossy: dcmdjpeg's output
		tol  int32
	}{
		{"jpeg_u16_sv1.dcm", u16, "", 0},
		{"jpeg_u16_sv2.dcm", u16, "", 0},
		{"jpeg_u16_sv3.dcm", u16, "", 0},
		{"jpeg_u16_sv4.dcm", u16, "", 0},
		{"jpeg_u16_sv5.dcm", u16, "", 0},
		{"jpeg_u16_sv6.dcm", u16, "", 0},
		{"jpeg_u16_sv7.dcm", u16, "", 0},
		{"jpeg_u16_sv1_pt2.dcm", 0x40373ecb618e3f37, "", 0}, // point transform 2
		{"jpeg_s16_sv1.dcm", s16, "", 0},
		{"jpeg_u12_sv7.dcm", u12, "", 0},
		{"jpeg_u8_sv1.dcm", u8, "", 0},
		{"jpeg_rgb8_sv4.dcm", rgb, "", 0}, // 3 interleaved components
		{"jpeg_u12_extended.dcm", 0, "jpeg_u12_extended.ref.dcm", 1},
		{"jpeg_u8_baseline.dcm", 0, "jpeg_u8_baseline.ref.dcm", 1},
		// YBR_FULL_422 -> RGB: libjpeg interpolates the subsampled chroma
		// ("fancy upsampling"), image/jpeg replicates it.
		{"jpeg_rgb8_baseline.dcm", 0, "jpeg_rgb8_baseline.ref.dcm", 16},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := encaptest.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatalf("encaptest.ReadFile: got error %v, want nil", err)
			}
			frames, err := f.Frames()
			if err != nil {
				t.Fatalf("f.Frames: got error %v, want nil", err)
			}
			dst := make([]int32, f.Info.Len())
			if err := jpeg.Decode(frames[0], f.Info, dst); err != nil {
				t.Fatalf("jpeg.Decode: got error %v, want nil", err)
			}
			got := [][]int32{dst}
			if tt.ref == "" {
				if h := encaptest.Hash(got); h != tt.hash {
					t.Errorf("hash %#x, want %#x", h, tt.hash)
				}
				return
			}
			ref, err := encaptest.ReadFile("testdata/" + tt.ref)
			if err != nil {
				t.Fatalf("encaptest.ReadFile: got error %v, want nil", err)
			}
			want, err := ref.NativeFrames()
			if err != nil {
				t.Fatalf("ref.NativeFrames: got error %v, want nil", err)
			}
			d := encaptest.Compare(t, tt.file, got, want, tt.tol)
			t.Logf("max difference from dcmdjpeg %d", d)
		})
	}
}
