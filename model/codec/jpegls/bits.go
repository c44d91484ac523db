package jpegls

import (
	"math/bits"

	ebits "sscscore/model/codec/internal/bits"
)

// bitReader reads JPEG-LS entropy-coded data (T.87 A.1): a bits.Reader with
// its zero bit stuffing.
type bitReader struct{ ebits.Reader }

func newBitReader(data []byte, pos int) bitReader {
	return bitReader{ebits.Reader{Data: data, Pos: pos, Stuffing: ebits.ZeroBit}}
}

// bit reads one bit.
func (br *bitReader) bit() bool {
	if br.N == 0 {
		br.Fill()
	}
	b := br.Acc>>63 != 0
	br.Acc <<= 1
	br.N--
	return b
}

// read reads k (0..32) bits.
func (br *bitReader) read(k uint) int32 {
	if k == 0 {
		return 0
	}
	if br.N < k {
		br.Fill()
	}
	return br.Take(k)
}

// unary counts zero bits up to and including the next one bit, returning
// the number of zeros, or a value above limit if there are more than limit.
func (br *bitReader) unary(limit int) int {
	q := 0
	for {
		if br.N < 32 {
			br.Fill()
		}
		z := bits.LeadingZeros64(br.Acc)
		if uint(z) < br.N {
			br.Acc <<= uint(z) + 1
			br.N -= uint(z) + 1
			return q + z
		}
		q += int(br.N)
		br.Acc, br.N = 0, 0
		if q > limit {
			return q
		}
	}
}

// nextMarker returns the position of the marker that follows the data read
// so far (the reader stops loading at a marker), or len(data) if none.
func (br *bitReader) nextMarker() int {
	d := br.Data
	p := br.Pos
	for p+1 < len(d) && !(d[p] == 0xFF && d[p+1] >= 0x80) {
		p++
	}
	if p+1 >= len(d) {
		return len(d)
	}
	return p
}

// restart skips the RSTm marker that ends a restart interval and resets the
// reader. It reports false when the next marker is not an RST marker.
func (br *bitReader) restart() bool {
	p := br.nextMarker()
	if p+1 >= len(br.Data) || br.Data[p+1] < 0xD0 || br.Data[p+1] > 0xD7 {
		return false
	}
	br.Reset(p + 2)
	return true
}
