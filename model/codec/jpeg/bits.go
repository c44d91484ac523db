package jpeg

import "encoding/binary"

// bitReader reads the entropy-coded segment of a scan, most significant bit
// first, removing the stuffed zero byte after each 0xFF. It stops at a marker
// (0xFF followed by a non-zero byte) and then feeds zero bits, counting them
// so that a scan that reads past its data is detected.
type bitReader struct {
	data []byte
	pos  int    // next byte of data to load
	acc  uint64 // bits, left-aligned
	n    uint   // number of valid bits in acc
	fake uint   // zero bytes fed past the end of the segment
}

// fill loads bytes until acc holds more than 56 bits.
func (br *bitReader) fill() {
	// Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker).
	if br.pos+8 <= len(br.data) {
		w := binary.BigEndian.Uint64(br.data[br.pos:])
		if v := ^w; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
			nb := (64 - br.n) / 8
			bits := nb * 8
			br.acc |= w >> (64 - bits) << (64 - bits - br.n)
			br.n += bits
			br.pos += int(nb)
			return
		}
	}
	for br.n <= 56 {
		var b byte
		if br.pos < len(br.data) {
			b = br.data[br.pos]
			if b != 0xFF {
				br.pos++
			} else if br.pos+1 < len(br.data) && br.data[br.pos+1] == 0 {
				br.pos += 2
			} else {
				b = 0
				br.fake++
			}
		} else {
			br.fake++
		}
		br.acc |= uint64(b) << (56 - br.n)
		br.n += 8
	}
}

// overrun reports whether bits past the end of the segment were consumed.
func (br *bitReader) overrun() bool { return br.fake*8 > br.n }

// bits reads k (1..16) bits; acc must hold at least k bits.
func (br *bitReader) bits(k uint) int32 {
	v := int32(br.acc >> (64 - k))
	br.acc <<= k
	br.n -= k
	return v
}

// restart skips the RSTm marker that ends a restart interval and resets the
// reader. It reports false when no RST marker is there.
func (br *bitReader) restart() bool {
	br.acc, br.n, br.fake = 0, 0, 0
	d := br.data
	for br.pos+1 < len(d) && d[br.pos] == 0xFF && d[br.pos+1] == 0xFF {
		br.pos++
	}
	if br.pos+1 < len(d) && d[br.pos] == 0xFF && d[br.pos+1] >= 0xD0 && d[br.pos+1] <= 0xD7 {
		br.pos += 2
		return true
	}
	return false
}

// extend converts the k-bit additional bits v of a Huffman-coded
// difference into its signed value (T.81 F.2.2.1).
func extend(v int32, k uint) int32 {
	if v < 1<<(k-1) {
		return v - 1<<k + 1
	}
	return v
}
