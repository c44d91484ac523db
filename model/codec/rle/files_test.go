package rle_test

import (
	"testing"

	"sscscore/model/codec"
	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/rle"
)

var dec = codec.DecoderFunc(rle.Decode)

func TestCorpus(t *testing.T) {
	tests := []struct{ file, ref string }{
		{"robustness/nema-wg04-ct/CT1_RLE.dcm", "robustness/nema-wg04-ct/CT1_UNC.dcm"},
		{"robustness/nema-wg04-ct/CT2_RLE.dcm", "robustness/nema-wg04-ct/CT2_UNC.dcm"},
		{"robustness/fo-dicom-edge/D_CLUNIE_CT1_RLE_FRAGS.dcm", "robustness/nema-wg04-ct/CT1_UNC.dcm"},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_rle.dcm", "robustness/dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm"},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_rle.dcm", "robustness/dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm"},
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
		name := "1-" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + ".dcm"
		got, _ := encaptest.Decode(t, "chest-ct/A0002-B40f-rle/"+name, dec)
		encaptest.Compare(t, name, got, encaptest.Reference(t, "chest-ct/A0002-B40f/"+name), 0)
	}
}

func FuzzDecode(f *testing.F) {
	for _, file := range []string{"robustness/nema-wg04-ct/CT1_RLE.dcm", "robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_rle.dcm"} {
		frames, err := encaptest.Load(f, file).Frames()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frames[0], uint16(512), uint16(512), uint8(16), uint8(1))
	}
	f.Add([]byte{1, 0, 0, 0, 64, 0, 0, 0}, uint16(3), uint16(3), uint8(8), uint8(0))
	f.Fuzz(func(t *testing.T, frame []byte, rows, cols uint16, bits, pixrep uint8) {
		info := codec.FrameInfo{Rows: int(rows % 1024), Columns: int(cols % 1024), SamplesPerPixel: 1 + 2*int(pixrep&2>>1),
			BitsAllocated: 8 * (1 + int(bits%4)), BitsStored: int(bits % 33), PixelRepresentation: int(pixrep & 1)}
		_ = rle.Decode(frame, info, make([]int32, info.Len()))
	})
}

func BenchmarkDecodeCTSlice(b *testing.B) {
	f := encaptest.Load(b, "chest-ct/A0002-B40f-rle/1-15.dcm")
	frames, err := f.Frames()
	if err != nil {
		b.Fatalf("f.Frames: got error %v, want nil", err)
	}
	dst := make([]int32, f.Info.Len())
	b.SetBytes(int64(len(frames[0])))
	b.ResetTimer()
	for b.Loop() {
		if err := rle.Decode(frames[0], f.Info, dst); err != nil {
			b.Fatalf("rle.Decode: got error %v, want nil", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/slice")
}
