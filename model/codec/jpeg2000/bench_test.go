package jpeg2000

import (
	"path/filepath"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/shareddata"
)

// benchFrame loads one encapsulated frame of the test data.
func benchFrame(b *testing.B, rel string) ([]byte, codec.FrameInfo) {
	b.Helper()
	f, frames, err := readFrames(filepath.Join(shareddata.Root(b), rel))
	if err != nil {
		b.Fatalf("readFrames: got error %v, want nil", err)
	}
	return frames[0], f.Info
}

// benchDecode decodes frame b.N times and reports wall and CPU
// milliseconds per frame (CPU time stays meaningful on a busy machine).
func benchDecode(b *testing.B, frame []byte, fi codec.FrameInfo) {
	dst := make([]int32, fi.Len())
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if err := (DICOMDecoder{}).Decode(frame, fi, dst); err != nil {
			b.Fatalf("(DICOMDecoder{}).Decode: got error %v, want nil", err)
		}
	}
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
}

// BenchmarkDecodeLosslessCT decodes one 512x512 lossless CT slice (A0002
// B40f slice 15: 16-bit, 5 levels, 64x64 code-blocks, 175 KB), the
// per-slice cost of loading a JPEG 2000 series.
func BenchmarkDecodeLosslessCT(b *testing.B) {
	frame, fi := benchFrame(b, "chest-ct/A0002-B40f-j2k/1-15.dcm")
	benchDecode(b, frame, fi)
}

// BenchmarkDecodeLossyCT decodes the 512x512 lossy (9/7) NEMA CT1 slice.
func BenchmarkDecodeLossyCT(b *testing.B) {
	frame, fi := benchFrame(b, "robustness/nema-wg04-ct/CT1_J2KI.dcm")
	benchDecode(b, frame, fi)
}
