package jpegls_test

import (
	"strings"
	"testing"

	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/jpegls"
)

// Synthetic images (smooth gradients, flat regions for run mode, noisy lines,
// extreme values) encoded by DCMTK 3.6.7 dcmcjpls (CharLS), checked against
// the hash of the samples DCMTK's dcmdjpls decodes from them.
func TestCharLSEncoded(t *testing.T) {
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
		err  string
	}{
		{"jls_u16.dcm", u16, ""},
		{"jls_s16.dcm", s16, ""},
		{"jls_u12.dcm", u12, ""},
		{"jls_u8.dcm", u8, ""},
		{"jls_u16_near3.dcm", 0x7e3ff992a039d4f9, ""},
		{"jls_u8_near1.dcm", 0x1c8366f98845bee9, ""},
		{"jls_u8_custom.dcm", u8, ""},    // LSE T1=5 T2=11 T3=30 RESET=31
		{"jls_u12_custom.dcm", u12, ""},  // LSE T1=40 T2=200 T3=900 RESET=200
		{"jls_rgb8_line.dcm", rgb, ""},   // line interleaved
		{"jls_rgb8_none.dcm", rgb, ""},   // one scan per component
		{"jls_rgb8_sample.dcm", rgb, ""}, // sample interleaved
		// Restart markers: lines 0-15, 16-31 and 32-36 encoded separately by
		// CharLS, joined with DRI 16, RST0 and RST1 (after a restart the decoder
		// starts afresh: contexts, run index and previous line, as CharLS
		// does). The near-lossless hash is that of dcmdjpls's three parts.
		{"jls_u16_restart.dcm", u16, ""},
		{"jls_u16_near2_restart.dcm", 0x530aaa08cff6bcd6, ""},
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
			err = jpegls.Decode(frames[0], f.Info, dst)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if h := encaptest.Hash([][]int32{dst}); h != tt.hash {
				t.Errorf("hash %#x, want %#x", h, tt.hash)
			}
		})
	}
}
