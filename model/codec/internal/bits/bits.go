// Package bits reads the entropy-coded segments of JPEG (ITU T.81) and
// JPEG-LS (ITU T.87) scans, most significant bit first, undoing the byte
// stuffing of each and stopping at the marker that ends the segment. It is
// the one bit reader of the jpeg and jpegls decoders.
package bits

import "encoding/binary"

// Stuffing says how the entropy-coded data escapes a 0xFF byte.
type Stuffing uint8

const (
	// ZeroByte (JPEG, T.81 B.1.1.5): 0xFF 0x00 is the data byte 0xFF; 0xFF
	// followed by any other byte is a marker.
	ZeroByte Stuffing = iota
	// ZeroBit (JPEG-LS, T.87 A.1): the byte after a 0xFF carries 7 data
	// bits (its top bit is a stuffed zero); 0xFF followed by a byte with
	// the top bit set is a marker.
	ZeroBit
)

// Reader holds up to 64 bits of the segment, left-aligned in Acc. At a
// marker (or the end of Data) it stops loading and feeds zero bits,
// counting them so that a scan that reads past its data is detected
// (Overrun).
type Reader struct {
	Data     []byte
	Pos      int    // next byte of Data to load
	Acc      uint64 // bits, left-aligned
	N        uint   // number of valid bits in Acc
	Stuffing Stuffing
	prevFF   bool // ZeroBit: the last byte loaded was 0xFF
	fake     uint // zero bits fed past the end of the segment
}

// Fill loads bytes until Acc holds more than 56 bits.
func (r *Reader) Fill() {
	// Fast path: the next 8 bytes hold no 0xFF (no stuffing, no marker).
	if !r.prevFF && r.Pos+8 <= len(r.Data) {
		w := binary.BigEndian.Uint64(r.Data[r.Pos:])
		if v := ^w; (v-0x0101010101010101)&^v&0x8080808080808080 == 0 {
			nb := (64 - r.N) / 8
			bits := nb * 8
			r.Acc |= w >> (64 - bits) << (64 - bits - r.N)
			r.N += bits
			r.Pos += int(nb)
			return
		}
	}
	for r.N <= 56 {
		if r.Pos >= len(r.Data) {
			r.N += 8
			r.fake += 8
			continue
		}
		b := r.Data[r.Pos]
		if r.prevFF && b >= 0x80 || !r.prevFF && b == 0xFF && r.marker() {
			// A marker: zero bits from here on.
			r.N += 8
			r.fake += 8
			continue
		}
		if r.prevFF { // ZeroBit, after a 0xFF: 7 data bits
			r.Acc |= uint64(b) << (57 - r.N)
			r.N += 7
			r.Pos++
			r.prevFF = false
			continue
		}
		r.Acc |= uint64(b) << (56 - r.N)
		r.N += 8
		r.Pos++
		if b == 0xFF {
			if r.Stuffing == ZeroBit {
				r.prevFF = true
			} else {
				r.Pos++ // the stuffed zero byte
			}
		}
	}
}

// marker reports whether the 0xFF at Pos starts a marker rather than
// stuffed data.
func (r *Reader) marker() bool {
	if r.Stuffing == ZeroBit {
		return r.Pos+1 < len(r.Data) && r.Data[r.Pos+1] >= 0x80
	}
	return r.Pos+1 >= len(r.Data) || r.Data[r.Pos+1] != 0
}

// Overrun reports whether bits past the end of the segment were consumed.
func (r *Reader) Overrun() bool { return r.fake > r.N }

// Take reads k (1..32) bits; Acc must hold at least k bits.
func (r *Reader) Take(k uint) int32 {
	v := int32(r.Acc >> (64 - k))
	r.Acc <<= k
	r.N -= k
	return v
}

// Reset drops the bits held and goes on reading at pos (after a restart
// marker).
func (r *Reader) Reset(pos int) {
	r.Pos, r.Acc, r.N, r.fake, r.prevFF = pos, 0, 0, 0, false
}
