package ingest

import "testing"

func convInputs() ([]byte, *imageFile, *frameHeader) {
	n := 512 * 512
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := uint16((i*7919)%3000) & 0xFFF
		if i%512 < 60 {
			v = 0
		}
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	img := &imageFile{rows: 512, cols: 512, bitsAlloc: 16, bitsStored: 12}
	return b, img, &frameHeader{slope: 1, intercept: -1024}
}

// BenchmarkConvertFused and BenchmarkConvertTwoPass: stored 16-bit
// little-endian bytes of one 512x512 slice to HU.
func BenchmarkConvertFused(b *testing.B) {
	raw, img, _ := convInputs()
	dst := make([]int16, 512*512)
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		le16ToHU(raw, dst, img, -1024)
	}
}

func BenchmarkConvertTwoPass(b *testing.B) {
	raw, img, f := convInputs()
	dst := make([]int16, 512*512)
	s := make([]int32, 512*512)
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		unpack(raw, s, 2, false, false, 12)
		toHU(s, dst, img, f)
	}
}
