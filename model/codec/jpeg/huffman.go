package jpeg

import "fmt"

const lutBits = 10

// huffman is a decoding table built from a DHT segment.
type huffman struct {
	// lut maps the next lutBits bits to codeLength<<8 | value, or 0 when the
	// code is longer than lutBits.
	lut     [1 << lutBits]uint16
	maxcode [18]int32 // largest code of each length, -1 if none; maxcode[17] sentinel
	valptr  [17]int32 // index in vals of the first code of each length, minus that code
	vals    [256]byte
	defined bool
}

// build fills the table from the 16 code-length counts and the values.
func (h *huffman) build(counts [16]int, vals []byte) error {
	total := 0
	for _, c := range counts {
		total += c
	}
	if total == 0 || total > 256 || total != len(vals) {
		return FormatError(fmt.Sprintf("invalid Huffman table with %d codes", total))
	}
	*h = huffman{defined: true}
	copy(h.vals[:], vals)
	code, k := int32(0), 0
	for l := 1; l <= 16; l++ {
		c := int32(counts[l-1])
		if code+c > 1<<l {
			return FormatError(fmt.Sprintf("invalid Huffman table: too many codes of length %d", l))
		}
		if c == 0 {
			h.maxcode[l] = -1
		} else {
			h.valptr[l] = int32(k) - code
			for i := int32(0); i < c; i++ {
				if l <= lutBits {
					shift := uint(lutBits - l)
					base := (code + i) << shift
					for j := int32(0); j < 1<<shift; j++ {
						h.lut[base+j] = uint16(l)<<8 | uint16(vals[k+int(i)])
					}
				}
			}
			code += c
			k += int(c)
			h.maxcode[l] = code - 1
		}
		code <<= 1
	}
	h.maxcode[17] = 1 << 30
	return nil
}

// decode reads one Huffman symbol. The reader must hold at least 16 bits.
func (h *huffman) decode(br *bitReader) (byte, bool) {
	if e := h.lut[br.Acc>>(64-lutBits)]; e != 0 {
		l := uint(e >> 8)
		br.Acc <<= l
		br.N -= l
		return byte(e), true
	}
	return h.slow(br)
}

func (h *huffman) slow(br *bitReader) (byte, bool) {
	peek := int32(br.Acc >> 48)
	for l := lutBits + 1; l <= 16; l++ {
		code := peek >> uint(16-l)
		if code <= h.maxcode[l] {
			br.Acc <<= uint(l)
			br.N -= uint(l)
			return h.vals[(h.valptr[l]+code)&0xFF], true
		}
	}
	return 0, false
}
