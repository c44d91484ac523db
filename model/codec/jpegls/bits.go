package jpegls

import (
	"encoding/binary"
	"math/bits"
)

// hasFF reports whether any byte of w is 0xFF.
func hasFF(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	v := ^w // 0xFF bytes become zero bytes
	return (v-lo)&^v&hi != 0
}

// bitReader reads JPEG-LS entropy-coded data (T.87 A.1): most significant bit
// first; after a 0xFF byte the next byte carries only 7 data bits (its top
// bit is a stuffed zero). A 0xFF followed by a byte with the top bit set is a
// marker: the reader stops there and feeds zero bits, counting them so that
// reading past the end of the scan is detected.
type bitReader struct {
	data   []byte
	pos    int
	acc    uint64 // left-aligned bits
	n      uint   // valid bits in acc
	prevFF bool   // the last byte loaded was 0xFF
	fake   uint   // zero bits fed past the end of the scan
}

func (br *bitReader) fill() {
	// Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker).
	if !br.prevFF && br.pos+8 <= len(br.data) {
		w := binary.BigEndian.Uint64(br.data[br.pos:])
		if !hasFF(w) {
			nb := (64 - br.n) / 8
			bits := nb * 8
			br.acc |= w >> (64 - bits) << (64 - bits - br.n)
			br.n += bits
			br.pos += int(nb)
			return
		}
	}
	for br.n <= 56 {
		if br.pos >= len(br.data) {
			br.n += 8
			br.fake += 8
			continue
		}
		b := br.data[br.pos]
		if br.prevFF {
			if b >= 0x80 { // marker
				br.n += 8
				br.fake += 8
				continue
			}
			br.acc |= uint64(b) << (57 - br.n)
			br.n += 7
			br.pos++
			br.prevFF = false
			continue
		}
		if b == 0xFF && br.pos+1 < len(br.data) && br.data[br.pos+1] >= 0x80 { // marker
			br.n += 8
			br.fake += 8
			continue
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
		br.pos++
		br.prevFF = b == 0xFF
	}
}

// overrun reports whether bits past the end of the scan were consumed.
func (br *bitReader) overrun() bool { return br.fake > br.n }

// bit reads one bit.
func (br *bitReader) bit() bool {
	if br.n == 0 {
		br.fill()
	}
	b := br.acc>>63 != 0
	br.acc <<= 1
	br.n--
	return b
}

// read reads k (0..32) bits.
func (br *bitReader) read(k uint) int32 {
	if k == 0 {
		return 0
	}
	if br.n < k {
		br.fill()
	}
	v := int32(br.acc >> (64 - k))
	br.acc <<= k
	br.n -= k
	return v
}

// unary counts zero bits up to and including the next one bit, returning
// the number of zeros, or a value above limit if there are more than limit.
func (br *bitReader) unary(limit int) int {
	q := 0
	for {
		if br.n < 32 {
			br.fill()
		}
		z := bits.LeadingZeros64(br.acc)
		if uint(z) < br.n {
			br.acc <<= uint(z) + 1
			br.n -= uint(z) + 1
			return q + z
		}
		q += int(br.n)
		br.acc, br.n = 0, 0
		if q > limit {
			return q
		}
	}
}

// nextMarker returns the position of the marker that follows the data read
// so far (the reader stops loading at a marker), or len(data) if none.
func (br *bitReader) nextMarker() int {
	d := br.data
	p := br.pos
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
	if p+1 >= len(br.data) || br.data[p+1] < 0xD0 || br.data[p+1] > 0xD7 {
		return false
	}
	br.pos = p + 2
	br.acc, br.n, br.fake, br.prevFF = 0, 0, 0, false
	return true
}
