package jpeg2000

// Tier-1: EBCOT code-block decoding (ISO/IEC 15444-1 Annex D).
//
// Each coefficient has a 32-bit state word in a (w+2)x(h+2) array whose
// one-sample border absorbs the updates of edge coefficients, so neither
// context look-ups nor significance updates need bounds tests. The word
// holds the significance of the eight neighbours and the signs of the four
// direct ones, so the zero-coding and sign-coding contexts are single table
// look-ups. Magnitudes are kept with one extra fractional bit (value*2), so
// that the mid-point reconstruction of a partly decoded coefficient is exact.

const (
	fSigN  = 1 << 0 // neighbour above is significant
	fSigS  = 1 << 1 // neighbour below
	fSigW  = 1 << 2 // neighbour left
	fSigE  = 1 << 3 // neighbour right
	fSigNW = 1 << 4
	fSigNE = 1 << 5
	fSigSW = 1 << 6
	fSigSE = 1 << 7
	fSgnN  = 1 << 8 // neighbour above is negative
	fSgnS  = 1 << 9
	fSgnW  = 1 << 10
	fSgnE  = 1 << 11
	fSig   = 1 << 12 // this coefficient is significant
	fVisit = 1 << 13 // coded in the significance pass of this bit-plane
	fRef   = 1 << 14 // refined at least once
	fNeg   = 1 << 15 // this coefficient is negative

	fNbr = 0xFF // any neighbour significant
)

// Context indexes: 0-8 zero coding, 9-13 sign coding, 14-16 magnitude
// refinement, 17 run-length, 18 uniform.
const (
	ctxMR0 = 14
	ctxMR1 = 15
	ctxMR2 = 16
	ctxRL  = 17
	ctxUni = 18
	nCtx   = 256 // contexts are indexed by a byte: no bounds checks
)

var (
	zcLUT [3][256]uint8 // zero-coding context per table (LL/LH, HL, HH) and neighbourhood
	scLUT [256]uint8    // sign-coding context | xor bit << 7
)

func init() {
	for f := 0; f < 256; f++ {
		bit := func(m int) int {
			if f&m != 0 {
				return 1
			}
			return 0
		}
		h := bit(fSigW) + bit(fSigE)
		v := bit(fSigN) + bit(fSigS)
		d := bit(fSigNW) + bit(fSigNE) + bit(fSigSW) + bit(fSigSE)
		zcLUT[0][f] = zcHV(h, v, d)
		zcLUT[1][f] = zcHV(v, h, d)
		zcLUT[2][f] = zcHH(h+v, d)
	}
	for idx := 0; idx < 256; idx++ {
		contrib := func(sig, neg int) int {
			if idx&sig == 0 {
				return 0
			}
			if idx&neg != 0 {
				return -1
			}
			return 1
		}
		// idx bits 0-3: significance N, S, W, E; bits 4-7: their signs.
		h := clamp1(contrib(4, 64) + contrib(8, 128))
		v := clamp1(contrib(1, 16) + contrib(2, 32))
		var ctx, xor uint8
		switch {
		case h == 1 && v == 1:
			ctx = 13
		case h == 1 && v == 0:
			ctx = 12
		case h == 1 && v == -1:
			ctx = 11
		case h == 0 && v == 1:
			ctx = 10
		case h == 0 && v == 0:
			ctx = 9
		case h == 0 && v == -1:
			ctx, xor = 10, 1
		case h == -1 && v == 1:
			ctx, xor = 11, 1
		case h == -1 && v == 0:
			ctx, xor = 12, 1
		default:
			ctx, xor = 13, 1
		}
		scLUT[idx] = ctx | xor<<7
	}
}

func clamp1(v int) int {
	return min(max(v, -1), 1)
}

// zcHV is Table D.1 for the LL and LH sub-bands (h, v swapped for HL).
func zcHV(h, v, d int) uint8 {
	switch {
	case h == 2:
		return 8
	case h == 1 && v >= 1:
		return 7
	case h == 1 && d >= 1:
		return 6
	case h == 1:
		return 5
	case v == 2:
		return 4
	case v == 1:
		return 3
	case d >= 2:
		return 2
	case d == 1:
		return 1
	}
	return 0
}

// zcHH is Table D.1 for the HH sub-band.
func zcHH(hv, d int) uint8 {
	switch {
	case d >= 3:
		return 8
	case d == 2 && hv >= 1:
		return 7
	case d == 2:
		return 6
	case d == 1 && hv >= 2:
		return 5
	case d == 1 && hv == 1:
		return 4
	case d == 1:
		return 3
	case hv >= 2:
		return 2
	case hv == 1:
		return 1
	}
	return 0
}

// zcTable returns the zero-coding table of a sub-band orientation
// (0 LL, 1 HL, 2 LH, 3 HH).
func zcTable(orient int) *[256]uint8 {
	switch orient {
	case 1:
		return &zcLUT[1]
	case 3:
		return &zcLUT[2]
	}
	return &zcLUT[0]
}

// t1Decoder decodes code-blocks. Its buffers are reused from block to block.
type t1Decoder struct {
	w, h, stride int
	flags        []uint32
	data         []int32 // magnitude*2, same indexing as flags
	mq           mqDecoder
	raw          rawDecoder
	ctx          [nCtx]mqCtx
	scratch      []byte
}

func (t *t1Decoder) resetContexts() {
	clear(t.ctx[:ctxUni+1])
	t.ctx[0] = 4 * 2
	t.ctx[ctxRL] = 3 * 2
	t.ctx[ctxUni] = 46 * 2
}

func (t *t1Decoder) setup(w, h int) {
	t.w, t.h, t.stride = w, h, w+2
	n := (w + 2) * (h + 2)
	if cap(t.flags) < n {
		t.flags = make([]uint32, n)
		t.data = make([]int32, n)
	} else {
		t.flags = t.flags[:n]
		t.data = t.data[:n]
		clear(t.flags)
		clear(t.data)
	}
}

// segmentData returns the bytes of segment s, joined from its pieces.
func (t *t1Decoder) segmentData(src []byte, s *segment) []byte {
	if len(s.pieces) == 1 {
		p := s.pieces[0]
		return src[p.off : p.off+p.n]
	}
	t.scratch = t.scratch[:0]
	for _, p := range s.pieces {
		t.scratch = append(t.scratch, src[p.off:p.off+p.n]...)
	}
	return t.scratch
}

// decodeBlock runs the coding passes of a code-block. On return t.data and
// t.flags hold its magnitudes and signs.
func (t *t1Decoder) decodeBlock(cb *codeblock, src []byte, orient, style, roiShift int) {
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	t.setup(w, h)
	if cb.npasses == 0 {
		return
	}
	t.resetContexts()
	zc := zcTable(orient)
	causal := style&cbCausal != 0
	bypass := style&cbBypass != 0
	bp := cb.numbps - 1 + roiShift
	passType := 2 // the first pass is a cleanup pass
	passIdx := 0
	for si := range cb.segs {
		seg := &cb.segs[si]
		if seg.passes == 0 {
			continue
		}
		data := t.segmentData(src, seg)
		segRaw := bypass && passIdx >= 10 && passType != 2
		if segRaw {
			t.raw.init(data)
		} else {
			t.mq.init(data)
		}
		for p := 0; p < seg.passes; p++ {
			if bp < 0 {
				break
			}
			isRaw := bypass && passIdx >= 10 && passType != 2
			if isRaw != segRaw {
				// Only a corrupt stream mixes modes in a segment; switch
				// decoders on the same bytes rather than fail.
				if isRaw {
					t.raw.init(data)
				} else {
					t.mq.init(data)
				}
				segRaw = isRaw
			}
			switch passType {
			case 0:
				if isRaw {
					t.sigPassRaw(bp, causal)
				} else {
					t.sigPass(bp, zc, causal)
				}
			case 1:
				if isRaw {
					t.refPassRaw(bp)
				} else {
					t.refPass(bp)
				}
			case 2:
				t.cleanupPass(bp, zc, causal)
				if style&cbSegSymbol != 0 {
					// Segmentation symbol 1010: decoded and ignored.
					for k := 0; k < 4; k++ {
						t.mq.decode(&t.ctx[ctxUni])
					}
				}
			}
			if style&cbReset != 0 {
				t.resetContexts()
			}
			if passType == 2 {
				passType = 0
				bp--
			} else {
				passType++
			}
			passIdx++
		}
	}
	if roiShift > 0 {
		// Maxshift ROI (Annex H): coefficients at or above 2^s belong to the
		// region and were scaled up by s bit-planes.
		thresh := int32(2) << roiShift
		for y := 0; y < h; y++ {
			i := (y+1)*t.stride + 1
			for x := 0; x < w; x++ {
				if t.data[i] >= thresh {
					t.data[i] >>= roiShift
				}
				i++
			}
		}
	}
}

// setSig marks coefficient i significant with sign neg (0 or 1) and tells
// its neighbours. In vertically causal mode a coefficient in the first row
// of a stripe does not tell the row above (the last row of the previous
// stripe, which must not see the next stripe).
func (t *t1Decoder) setSig(i int, neg uint32, skipNorth bool) {
	f := t.flags
	s := t.stride
	f[i] |= fSig | neg<<15
	f[i-1] |= fSigE | neg<<11
	f[i+1] |= fSigW | neg<<10
	f[i+s] |= fSigN | neg<<8
	f[i+s-1] |= fSigNE
	f[i+s+1] |= fSigNW
	if !skipNorth {
		f[i-s] |= fSigS | neg<<9
		f[i-s-1] |= fSigSE
		f[i-s+1] |= fSigSW
	}
}

// The three arithmetic-coded passes keep the MQ registers in a local
// variable: each decision is the inlined fast path, or mqSlow.

// sigPass is the significance propagation pass (D.3.1).
func (t *t1Decoder) sigPass(bp int, zc *[256]uint8, causal bool) {
	one := int32(3) << bp
	s := t.stride
	fl, data, ctx := t.flags, t.data, &t.ctx
	m, src := t.mq.mqRegs, t.mq.data
	for y0 := 0; y0 < t.h; y0 += 4 {
		rows := min(4, t.h-y0)
		base := (y0+1)*s + 1
		for x := 0; x < t.w; x++ {
			i := base + x
			if rows == 4 {
				// Nothing to code in this stripe column if no coefficient
				// has a significant neighbour, or all are significant.
				f0, f1, f2, f3 := fl[i], fl[i+s], fl[i+2*s], fl[i+3*s]
				if (f0|f1|f2|f3)&fNbr == 0 || (f0&f1&f2&f3)&fSig != 0 {
					continue
				}
			}
			for k := 0; k < rows; k++ {
				f := fl[i]
				if f&(fSig|fVisit) == 0 && f&fNbr != 0 {
					cx := &ctx[zc[f&0xFF]]
					var d uint32
					st := *cx
					qe := mqQe[st]
					a := m.a - qe
					if a&0x8000 != 0 && m.c>>16 >= qe {
						m.a, m.c = a, m.c-qe<<16
						d = uint32(st & 1)
					} else {
						if m.c>>16 < qe {
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
							// MPS_EXCHANGE
							m.c -= qe << 16
							if a < qe {
								d = uint32(st&1) ^ 1
								*cx = mqNLPS[st]
							} else {
								d = uint32(st & 1)
								*cx = mqNMPS[st]
							}
						}
						// RENORMD: all shifts at once unless a byte is due on the way.
						if n := renormShift(a); n <= m.ct {
							m.a, m.c, m.ct = a<<uint(n), m.c<<uint(n), m.ct-n
						} else {
							m = mqRenorm(m, a, src)
						}
					}
					if d != 0 {
						lut := scLUT[(f&0xF)|((f>>4)&0xF0)]
						cx := &ctx[lut&0x1F]
						var d uint32
						st := *cx
						qe := mqQe[st]
						a := m.a - qe
						if a&0x8000 != 0 && m.c>>16 >= qe {
							m.a, m.c = a, m.c-qe<<16
							d = uint32(st & 1)
						} else {
							if m.c>>16 < qe {
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
								// MPS_EXCHANGE
								m.c -= qe << 16
								if a < qe {
									d = uint32(st&1) ^ 1
									*cx = mqNLPS[st]
								} else {
									d = uint32(st & 1)
									*cx = mqNMPS[st]
								}
							}
							// RENORMD: all shifts at once unless a byte is due on the way.
							if n := renormShift(a); n <= m.ct {
								m.a, m.c, m.ct = a<<uint(n), m.c<<uint(n), m.ct-n
							} else {
								m = mqRenorm(m, a, src)
							}
						}
						neg := d ^ uint32(lut>>7)
						fl[i] |= fSig | neg<<15
						fl[i-1] |= fSigE | neg<<11
						fl[i+1] |= fSigW | neg<<10
						fl[i+s] |= fSigN | neg<<8
						fl[i+s-1] |= fSigNE
						fl[i+s+1] |= fSigNW
						if !causal || k != 0 { // see setSig
							fl[i-s] |= fSigS | neg<<9
							fl[i-s-1] |= fSigSE
							fl[i-s+1] |= fSigSW
						}
						data[i] = one
					}
					fl[i] |= fVisit
				}
				i += s
			}
		}
	}
	t.mq.mqRegs = m
}

// refPass is the magnitude refinement pass (D.3.3).
func (t *t1Decoder) refPass(bp int) {
	half := int32(1) << bp
	s := t.stride
	fl, data, ctx := t.flags, t.data, &t.ctx
	m, src := t.mq.mqRegs, t.mq.data
	for y0 := 0; y0 < t.h; y0 += 4 {
		rows := min(4, t.h-y0)
		base := (y0+1)*s + 1
		for x := 0; x < t.w; x++ {
			i := base + x
			if rows == 4 && (fl[i]|fl[i+s]|fl[i+2*s]|fl[i+3*s])&fSig == 0 {
				continue
			}
			for k := 0; k < rows; k++ {
				f := fl[i]
				if f&(fSig|fVisit) == fSig {
					c := ctxMR2
					if f&fRef == 0 {
						c = ctxMR0
						if f&fNbr != 0 {
							c = ctxMR1
						}
					}
					cx := &ctx[c]
					var d uint32
					st := *cx
					qe := mqQe[st]
					a := m.a - qe
					if a&0x8000 != 0 && m.c>>16 >= qe {
						m.a, m.c = a, m.c-qe<<16
						d = uint32(st & 1)
					} else {
						if m.c>>16 < qe {
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
							// MPS_EXCHANGE
							m.c -= qe << 16
							if a < qe {
								d = uint32(st&1) ^ 1
								*cx = mqNLPS[st]
							} else {
								d = uint32(st & 1)
								*cx = mqNMPS[st]
							}
						}
						// RENORMD: all shifts at once unless a byte is due on the way.
						if n := renormShift(a); n <= m.ct {
							m.a, m.c, m.ct = a<<uint(n), m.c<<uint(n), m.ct-n
						} else {
							m = mqRenorm(m, a, src)
						}
					}
					// +half for a 1, -half for a 0, without a branch on
					// what is close to a coin toss.
					data[i] += (int32(d)*2 - 1) * half
					fl[i] = f | fRef
				}
				i += s
			}
		}
	}
	t.mq.mqRegs = m
}

// cleanupPass is the cleanup pass with run-length coding (D.3.4).
func (t *t1Decoder) cleanupPass(bp int, zc *[256]uint8, causal bool) {
	one := int32(3) << bp
	s := t.stride
	fl, data, ctx := t.flags, t.data, &t.ctx
	m, src := t.mq.mqRegs, t.mq.data
	for y0 := 0; y0 < t.h; y0 += 4 {
		rows := min(4, t.h-y0)
		base := (y0+1)*s + 1
		for x := 0; x < t.w; x++ {
			i := base + x
			k := 0
			if rows == 4 {
				f0, f1, f2, f3 := fl[i], fl[i+s], fl[i+2*s], fl[i+3*s]
				// All significant before this bit-plane: nothing to code
				// and no visit mark to clear.
				if (f0&f1&f2&f3)&fSig != 0 && (f0|f1|f2|f3)&fVisit == 0 {
					continue
				}
			}
			if rows == 4 && (fl[i]|fl[i+s]|fl[i+2*s]|fl[i+3*s])&(fSig|fVisit|fNbr) == 0 {
				cx := &ctx[ctxRL]
				d, ok := m.fast(cx)
				if !ok {
					m, d = mqSlow(m, src, cx)
				}
				if d == 0 {
					continue
				}
				cx = &ctx[ctxUni]
				r, ok := m.fast(cx)
				if !ok {
					m, r = mqSlow(m, src, cx)
				}
				d, ok = m.fast(cx)
				if !ok {
					m, d = mqSlow(m, src, cx)
				}
				k = int(r<<1 | d)
				i += k * s
				f := fl[i]
				lut := scLUT[(f&0xF)|((f>>4)&0xF0)]
				cx = &ctx[lut&0x1F]
				d, ok = m.fast(cx)
				if !ok {
					m, d = mqSlow(m, src, cx)
				}
				t.setSig(i, d^uint32(lut>>7), causal && k == 0)
				data[i] = one
				k++
				i += s
			}
			for ; k < rows; k++ {
				f := fl[i]
				if f&(fSig|fVisit) == 0 {
					cx := &ctx[zc[f&0xFF]]
					var d uint32
					st := *cx
					qe := mqQe[st]
					a := m.a - qe
					if a&0x8000 != 0 && m.c>>16 >= qe {
						m.a, m.c = a, m.c-qe<<16
						d = uint32(st & 1)
					} else {
						if m.c>>16 < qe {
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
							// MPS_EXCHANGE
							m.c -= qe << 16
							if a < qe {
								d = uint32(st&1) ^ 1
								*cx = mqNLPS[st]
							} else {
								d = uint32(st & 1)
								*cx = mqNMPS[st]
							}
						}
						// RENORMD: all shifts at once unless a byte is due on the way.
						if n := renormShift(a); n <= m.ct {
							m.a, m.c, m.ct = a<<uint(n), m.c<<uint(n), m.ct-n
						} else {
							m = mqRenorm(m, a, src)
						}
					}
					if d != 0 {
						lut := scLUT[(f&0xF)|((f>>4)&0xF0)]
						cx := &ctx[lut&0x1F]
						var d uint32
						st := *cx
						qe := mqQe[st]
						a := m.a - qe
						if a&0x8000 != 0 && m.c>>16 >= qe {
							m.a, m.c = a, m.c-qe<<16
							d = uint32(st & 1)
						} else {
							if m.c>>16 < qe {
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
								// MPS_EXCHANGE
								m.c -= qe << 16
								if a < qe {
									d = uint32(st&1) ^ 1
									*cx = mqNLPS[st]
								} else {
									d = uint32(st & 1)
									*cx = mqNMPS[st]
								}
							}
							// RENORMD: all shifts at once unless a byte is due on the way.
							if n := renormShift(a); n <= m.ct {
								m.a, m.c, m.ct = a<<uint(n), m.c<<uint(n), m.ct-n
							} else {
								m = mqRenorm(m, a, src)
							}
						}
						neg := d ^ uint32(lut>>7)
						fl[i] |= fSig | neg<<15
						fl[i-1] |= fSigE | neg<<11
						fl[i+1] |= fSigW | neg<<10
						fl[i+s] |= fSigN | neg<<8
						fl[i+s-1] |= fSigNE
						fl[i+s+1] |= fSigNW
						if !causal || k != 0 { // see setSig
							fl[i-s] |= fSigS | neg<<9
							fl[i-s-1] |= fSigSE
							fl[i-s+1] |= fSigSW
						}
						data[i] = one
					}
				}
				fl[i] &^= fVisit
				i += s
			}
		}
	}
	t.mq.mqRegs = m
}

// sigPassRaw is the significance pass of the bypass mode: raw bits.
func (t *t1Decoder) sigPassRaw(bp int, causal bool) {
	one := int32(3) << bp
	s := t.stride
	fl := t.flags
	for y0 := 0; y0 < t.h; y0 += 4 {
		rows := min(4, t.h-y0)
		base := (y0+1)*s + 1
		for x := 0; x < t.w; x++ {
			i := base + x
			for k := 0; k < rows; k++ {
				f := fl[i]
				if f&(fSig|fVisit) == 0 && f&fNbr != 0 {
					if t.raw.bit() != 0 {
						neg := t.raw.bit()
						t.setSig(i, neg, causal && k == 0)
						t.data[i] = one
					}
					fl[i] |= fVisit
				}
				i += s
			}
		}
	}
}

// refPassRaw is the refinement pass of the bypass mode: raw bits.
func (t *t1Decoder) refPassRaw(bp int) {
	half := int32(1) << bp
	s := t.stride
	fl := t.flags
	for y0 := 0; y0 < t.h; y0 += 4 {
		rows := min(4, t.h-y0)
		base := (y0+1)*s + 1
		for x := 0; x < t.w; x++ {
			i := base + x
			for k := 0; k < rows; k++ {
				f := fl[i]
				if f&(fSig|fVisit) == fSig {
					if t.raw.bit() != 0 {
						t.data[i] += half
					} else {
						t.data[i] -= half
					}
					fl[i] = f | fRef
				}
				i += s
			}
		}
	}
}
