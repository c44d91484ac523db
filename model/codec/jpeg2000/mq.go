package jpeg2000

import "math/bits"

// The MQ arithmetic decoder of ISO/IEC 15444-1 Annex C, and the raw bit
// reader used by the arithmetic-coding bypass ("lazy") mode.

// A context is one byte: the index of its probability state (Table C.2)
// times two, plus the current more probable symbol.
type mqCtx = uint8

// Per combined state (index*2 + mps): probability estimate, and the next
// combined state after an MPS or an LPS (the LPS transition already
// includes the MPS switch of Table C.2).
// The tables have 256 entries so that indexing with a context byte needs no
// bounds check (only the first 94 are used).
var (
	mqQe   [256]uint32
	mqNMPS [256]uint8
	mqNLPS [256]uint8
)

func init() {
	// Table C.2: Qe, NMPS, NLPS, SWITCH.
	tab := [47][4]uint32{
		{0x5601, 1, 1, 1}, {0x3401, 2, 6, 0}, {0x1801, 3, 9, 0}, {0x0AC1, 4, 12, 0},
		{0x0521, 5, 29, 0}, {0x0221, 38, 33, 0}, {0x5601, 7, 6, 1}, {0x5401, 8, 14, 0},
		{0x4801, 9, 14, 0}, {0x3801, 10, 14, 0}, {0x3001, 11, 17, 0}, {0x2401, 12, 18, 0},
		{0x1C01, 13, 20, 0}, {0x1601, 29, 21, 0}, {0x5601, 15, 14, 1}, {0x5401, 16, 14, 0},
		{0x5101, 17, 15, 0}, {0x4801, 18, 16, 0}, {0x3801, 19, 17, 0}, {0x3401, 20, 18, 0},
		{0x3001, 21, 19, 0}, {0x2801, 22, 19, 0}, {0x2401, 23, 20, 0}, {0x2201, 24, 21, 0},
		{0x1C01, 25, 22, 0}, {0x1801, 26, 23, 0}, {0x1601, 27, 24, 0}, {0x1401, 28, 25, 0},
		{0x1201, 29, 26, 0}, {0x1101, 30, 27, 0}, {0x0AC1, 31, 28, 0}, {0x09C1, 32, 29, 0},
		{0x08A1, 33, 30, 0}, {0x0521, 34, 31, 0}, {0x0441, 35, 32, 0}, {0x02A1, 36, 33, 0},
		{0x0221, 37, 34, 0}, {0x0141, 38, 35, 0}, {0x0111, 39, 36, 0}, {0x0085, 40, 37, 0},
		{0x0049, 41, 38, 0}, {0x0025, 42, 39, 0}, {0x0015, 43, 40, 0}, {0x0009, 44, 41, 0},
		{0x0005, 45, 42, 0}, {0x0001, 45, 43, 0}, {0x5601, 46, 46, 0},
	}
	for i, t := range tab {
		for mps := uint32(0); mps < 2; mps++ {
			s := uint32(i)*2 + mps
			mqQe[s] = t[0]
			mqNMPS[s] = uint8(t[1]*2 + mps)
			mqNLPS[s] = uint8(t[2]*2 + (mps ^ t[3]))
		}
	}
}

// mqRegs are the registers of the MQ decoder with the software conventions
// of Annex C (C holding Chigh in its upper half). They are a small value
// type so that the coding passes can keep them in local variables (machine
// registers): the common decision is the inlined [mqRegs.fast], the rest
// [mqSlow], which takes and returns the registers by value.
type mqRegs struct {
	a, c uint32
	ct   int
	pos  int // index of the current byte B
}

// mqDecoder is an MQ decoder over one terminated segment. Reading past the
// end of the segment feeds 0xFF bytes, as a terminating marker would.
type mqDecoder struct {
	mqRegs
	data []byte
}

func byteAt(data []byte, i int) uint32 {
	if uint(i) < uint(len(data)) {
		return uint32(data[i])
	}
	return 0xFF
}

// init starts decoding a terminated segment (INITDEC).
func (m *mqDecoder) init(data []byte) {
	m.data = data
	r := mqRegs{pos: 0, c: byteAt(data, 0) << 16}
	r = bytein(r, data)
	r.c <<= 7
	r.ct -= 7
	r.a = 0x8000
	m.mqRegs = r
}

// bytein is BYTEIN of Figure C.19, with bit unstuffing after 0xFF.
func bytein(m mqRegs, data []byte) mqRegs {
	if byteAt(data, m.pos) == 0xFF {
		next := byteAt(data, m.pos+1)
		if next > 0x8F {
			m.c += 0xFF00
			m.ct = 8
			return m
		}
		m.pos++
		m.c += next << 9
		m.ct = 7
		return m
	}
	m.pos++
	m.c += byteAt(data, m.pos) << 8
	m.ct = 8
	return m
}

// fast decodes a decision in context *cx when it is an MPS that needs no
// renormalization, the common case; otherwise it reports false and changes
// nothing, and the caller calls mqSlow.
func (m *mqRegs) fast(cx *mqCtx) (uint32, bool) {
	st := *cx
	qe := mqQe[st]
	a := m.a - qe
	if a&0x8000 == 0 || m.c>>16 < qe {
		return 0, false
	}
	m.a = a
	m.c -= qe << 16
	return uint32(st & 1), true
}

// decode decodes one decision (for the rarely used contexts).
func (m *mqDecoder) decode(cx *mqCtx) uint32 {
	d, ok := m.fast(cx)
	if !ok {
		m.mqRegs, d = mqSlow(m.mqRegs, m.data, cx)
	}
	return d
}

// mqSlow is DECODE of Figure C.15 for the cases that exchange or
// renormalize (RENORMD).
func mqSlow(m mqRegs, data []byte, cx *mqCtx) (mqRegs, uint32) {
	st := *cx
	qe := mqQe[st]
	a := m.a - qe
	c := m.c
	var d uint32
	if c>>16 < qe {
		// LPS_EXCHANGE
		if a < qe {
			d = uint32(st & 1)
			*cx = mqNMPS[st]
		} else {
			d = uint32(st&1) ^ 1
			*cx = mqNLPS[st]
		}
		a = qe
	} else {
		c -= qe << 16
		if a&0x8000 != 0 {
			m.a, m.c = a, c
			return m, uint32(st & 1)
		}
		// MPS_EXCHANGE
		if a < qe {
			d = uint32(st&1) ^ 1
			*cx = mqNLPS[st]
		} else {
			d = uint32(st & 1)
			*cx = mqNMPS[st]
		}
	}
	// RENORMD with BYTEIN inlined.
	ct, pos := m.ct, m.pos
	for {
		if ct == 0 {
			if byteAt(data, pos) == 0xFF {
				if next := byteAt(data, pos+1); next > 0x8F {
					c += 0xFF00
					ct = 8
				} else {
					pos++
					c += next << 9
					ct = 7
				}
			} else {
				pos++
				c += byteAt(data, pos) << 8
				ct = 8
			}
		}
		a <<= 1
		c <<= 1
		ct--
		if a&0x8000 != 0 {
			break
		}
	}
	return mqRegs{a: a, c: c, ct: ct, pos: pos}, d
}

// rawDecoder reads the raw (bypassed) bits of the lazy mode: MSB first,
// with a stuffed zero bit after every 0xFF byte (D.6).
type rawDecoder struct {
	data []byte
	pos  int
	c    uint32
	ct   int
}

func (r *rawDecoder) init(data []byte) {
	r.data = data
	r.pos = 0
	r.c = 0
	r.ct = 0
}

func (r *rawDecoder) bit() uint32 {
	if r.ct == 0 {
		var b uint32 = 0xFF
		if r.pos < len(r.data) {
			b = uint32(r.data[r.pos])
		}
		if r.c == 0xFF {
			if b > 0x8F {
				r.c = 0xFF
				r.ct = 8
			} else {
				r.c = b
				r.pos++
				r.ct = 7
			}
		} else {
			r.c = b
			r.pos++
			r.ct = 8
		}
	}
	r.ct--
	return (r.c >> uint(r.ct)) & 1
}

// renormShift returns how many doublings bring a (0 < a < 0x8000) back to
// at least 0x8000.
func renormShift(a uint32) int { return bits.LeadingZeros32(a) - 16 }

// mqRenorm is RENORMD for register value a when a byte must be read on the
// way (the inlined decisions handle the other case).
func mqRenorm(m mqRegs, a uint32, data []byte) mqRegs {
	c, ct, pos := m.c, m.ct, m.pos
	for {
		if ct == 0 {
			if byteAt(data, pos) == 0xFF {
				if next := byteAt(data, pos+1); next > 0x8F {
					c += 0xFF00
					ct = 8
				} else {
					pos++
					c += next << 9
					ct = 7
				}
			} else {
				pos++
				c += byteAt(data, pos) << 8
				ct = 8
			}
		}
		a <<= 1
		c <<= 1
		ct--
		if a&0x8000 != 0 {
			break
		}
	}
	return mqRegs{a: a, c: c, ct: ct, pos: pos}
}
