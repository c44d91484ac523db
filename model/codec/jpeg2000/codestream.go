package jpeg2000

import (
	"encoding/binary"
	"fmt"
)

// Marker codes of ISO/IEC 15444-1 Annex A.
const (
	mSOC = 0xFF4F // start of codestream
	mCAP = 0xFF50 // extended capabilities (Part 15, HTJ2K)
	mSIZ = 0xFF51 // image and tile size
	mCOD = 0xFF52 // coding style default
	mCOC = 0xFF53 // coding style component
	mTLM = 0xFF55 // tile-part lengths
	mPLM = 0xFF57 // packet lengths, main header
	mPLT = 0xFF58 // packet lengths, tile-part header
	mCPF = 0xFF59 // corresponding profile (Part 15)
	mQCD = 0xFF5C // quantization default
	mQCC = 0xFF5D // quantization component
	mRGN = 0xFF5E // region of interest
	mPOC = 0xFF5F // progression order change
	mPPM = 0xFF60 // packed packet headers, main header
	mPPT = 0xFF61 // packed packet headers, tile-part header
	mCRG = 0xFF63 // component registration
	mCOM = 0xFF64 // comment
	mSOT = 0xFF90 // start of tile-part
	mSOP = 0xFF91 // start of packet
	mEPH = 0xFF92 // end of packet header
	mSOD = 0xFF93 // start of data
	mEOC = 0xFFD9 // end of codestream
)

// Limits that keep hostile headers from asking for absurd work or memory.
const (
	maxComponents  = 16384 // Csiz limit of the standard
	maxLevels      = 32    // decomposition levels
	maxBitPlanes   = 30    // magnitude bit-planes a code-block may carry (with ROI shift)
	maxPrecision   = 31    // component bit depth (Ssiz allows 38; int32 samples hold 31 + sign)
	defaultMaxPix  = 1 << 26
	maxTilesTotal  = 65535
	maxQuantBands  = 3*maxLevels + 1
	unlimitedPass  = 1 << 30
	progressionMax = 4
)

// Progression orders (Table A.16).
const (
	progLRCP = 0
	progRLCP = 1
	progRPCL = 2
	progPCRL = 3
	progCPRL = 4
)

// Code-block style flags (Table A.19).
const (
	cbBypass    = 0x01 // selective arithmetic coding bypass ("lazy")
	cbReset     = 0x02 // reset context probabilities on coding pass boundaries
	cbTermAll   = 0x04 // termination on each coding pass
	cbCausal    = 0x08 // vertically causal context
	cbPredTerm  = 0x10 // predictable termination
	cbSegSymbol = 0x20 // segmentation symbols
	cbHT        = 0x40 // high-throughput block coder (Part 15)
)

// formatErr returns a FormatError, so callers can tell bad data from
// other failures.
func formatErr(format string, args ...any) error {
	return FormatError(fmt.Sprintf(format, args...))
}

// unsupportedErr returns an UnsupportedError.
func unsupportedErr(format string, args ...any) error {
	return UnsupportedError(fmt.Sprintf(format, args...))
}

// compInfo is one component of the SIZ marker.
type compInfo struct {
	precision int // bit depth, 1..38
	signed    bool
	dx, dy    int // sub-sampling XRsiz, YRsiz
}

// imageSize is the SIZ marker segment.
type imageSize struct {
	rsiz           int
	x1, y1, x0, y0 int // Xsiz, Ysiz, XOsiz, YOsiz (reference grid)
	tw, th         int // XTsiz, YTsiz
	tx0, ty0       int // XTOsiz, YTOsiz
	comps          []compInfo
	ntx, nty       int // tiles across and down
}

// compRect returns the area of component c on its own (sub-sampled) grid.
func (s *imageSize) compRect(c int) (x0, y0, x1, y1 int) {
	ci := s.comps[c]
	return ceilDiv(s.x0, ci.dx), ceilDiv(s.y0, ci.dy), ceilDiv(s.x1, ci.dx), ceilDiv(s.y1, ci.dy)
}

// codingStyle is what COD and COC say about one component (SPcod/SPcoc).
type codingStyle struct {
	levels     int   // decomposition levels NL
	cbw, cbh   int   // code-block width and height exponents (xcb+2, ycb+2)
	cbStyle    int   // code-block style flags
	reversible bool  // 5/3 reversible wavelet (else 9/7 irreversible)
	ppx, ppy   []int // precinct size exponents per resolution (0..levels)
}

// codDefaults is the part of COD that applies to the whole tile (Scod, SGcod).
type codDefaults struct {
	sop, eph    bool
	progression int
	layers      int
	mct         int
}

// quantStyle is a QCD or QCC marker segment.
type quantStyle struct {
	style int // 0 none (reversible), 1 scalar derived, 2 scalar expounded
	guard int // guard bits
	exp   []int
	mant  []int
}

// pocEntry is one progression of a POC marker segment.
type pocEntry struct {
	rs, cs, lye, re, ce, order int
}

// header holds the coding parameters of the main header or of one tile
// (tile-part headers). Nil pointers mean "not given here".
type header struct {
	cod    *codDefaults
	codCS  *codingStyle
	coc    map[int]*codingStyle
	qcd    *quantStyle
	qcc    map[int]*quantStyle
	rgn    map[int]int
	pocs   []pocEntry
	hasPOC bool
}

// tilePart is one tile-part of the codestream.
type tilePart struct {
	tile  int
	index int // TPsot
	body  []byte
	ppt   [][]byte // PPT payloads in marker order
}

// codestream is a parsed codestream: main header, and the tile-parts in the
// order they appear.
type codestream struct {
	siz       imageSize
	main      header
	tiles     map[int]*header // tile-part header parameters per tile
	parts     []tilePart
	ppm       []byte // concatenated PPM payloads (Nppm, Ippm pairs), nil if absent
	truncated bool   // data ended inside a tile-part
}

// reader reads big-endian fields from a marker segment with bounds checks.
type reader struct {
	b   []byte
	off int
	err bool
}

func (r *reader) u8() int {
	if r.off+1 > len(r.b) {
		r.err = true
		return 0
	}
	v := r.b[r.off]
	r.off++
	return int(v)
}

func (r *reader) u16() int {
	if r.off+2 > len(r.b) {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint16(r.b[r.off:])
	r.off += 2
	return int(v)
}

func (r *reader) u32() uint32 {
	if r.off+4 > len(r.b) {
		r.err = true
		return 0
	}
	v := binary.BigEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

func (r *reader) left() int { return len(r.b) - r.off }

// parseCodestream parses the main header and splits the tile-parts. With
// headerOnly it stops after the SIZ marker segment.
func parseCodestream(data []byte, headerOnly bool) (*codestream, error) {
	if len(data) < 4 || binary.BigEndian.Uint16(data) != mSOC {
		return nil, formatErr("no SOC marker at the start of the codestream")
	}
	cs := &codestream{tiles: map[int]*header{}}
	pos := 2
	gotSIZ := false
	var ppmParts []ppmPart
	// Main header.
	for {
		if pos+2 > len(data) {
			return nil, formatErr("codestream ends inside the main header")
		}
		m := int(binary.BigEndian.Uint16(data[pos:]))
		if m == mSOT {
			break
		}
		if m == mEOC {
			return nil, formatErr("codestream has no tile (EOC before the first SOT)")
		}
		if m>>8 != 0xFF {
			return nil, formatErr("expected a marker at offset %d, found %#04x", pos, m)
		}
		if pos+4 > len(data) {
			return nil, formatErr("codestream ends inside marker %#04x", m)
		}
		l := int(binary.BigEndian.Uint16(data[pos+2:]))
		if l < 2 || pos+2+l > len(data) {
			return nil, formatErr("marker %#04x at offset %d has bad length %d", m, pos, l)
		}
		seg := data[pos+4 : pos+2+l]
		if !gotSIZ {
			if m != mSIZ {
				return nil, formatErr("first marker after SOC is %#04x, not SIZ", m)
			}
			if err := cs.parseSIZ(seg); err != nil {
				return nil, err
			}
			gotSIZ = true
			if headerOnly {
				return cs, nil
			}
		} else {
			switch m {
			case mSIZ:
				return nil, formatErr("second SIZ marker")
			case mPPM:
				if len(seg) < 1 {
					return nil, formatErr("empty PPM marker segment")
				}
				ppmParts = append(ppmParts, ppmPart{int(seg[0]), seg[1:]})
			case mCAP, mCPF:
				return nil, unsupportedErr("JPEG 2000 Part 15 (HTJ2K) codestreams are not supported")
			default:
				if err := cs.parseParam(&cs.main, m, seg); err != nil {
					return nil, err
				}
			}
		}
		pos += 2 + l
	}
	if cs.main.cod == nil || cs.main.codCS == nil {
		return nil, formatErr("main header has no COD marker")
	}
	if cs.main.qcd == nil {
		return nil, formatErr("main header has no QCD marker")
	}
	if len(ppmParts) > 0 {
		cs.ppm = joinZ(ppmParts)
	}
	// Tile-parts.
	ntiles := cs.siz.ntx * cs.siz.nty
	for pos+2 <= len(data) {
		m := int(binary.BigEndian.Uint16(data[pos:]))
		if m == mEOC {
			break
		}
		if m != mSOT {
			// Some encoders pad the end of the stream: stop quietly at
			// trailing zero or 0xFF bytes, otherwise report the garbage.
			if allPadding(data[pos:]) {
				break
			}
			return nil, formatErr("expected SOT or EOC at offset %d, found %#04x", pos, m)
		}
		if pos+12 > len(data) {
			cs.truncated = true
			break
		}
		r := reader{b: data[pos+2 : pos+12]}
		if r.u16() != 10 {
			return nil, formatErr("SOT marker with bad length")
		}
		isot := r.u16()
		psot := int(r.u32())
		tpsot := r.u8()
		r.u8() // TNsot
		if isot >= ntiles {
			return nil, formatErr("tile index %d out of range (%d tiles)", isot, ntiles)
		}
		start := pos
		end := len(data)
		if psot != 0 {
			if psot < 14 {
				return nil, formatErr("SOT of tile %d has bad length %d", isot, psot)
			}
			if start+psot > len(data) {
				cs.truncated = true
			} else {
				end = start + psot
			}
		} else if len(data) >= 2 && binary.BigEndian.Uint16(data[len(data)-2:]) == mEOC {
			end = len(data) - 2
		}
		pos += 12
		th := cs.tiles[isot]
		if th == nil {
			th = &header{}
			cs.tiles[isot] = th
		}
		tp := tilePart{tile: isot, index: tpsot}
		// Tile-part header up to SOD.
		for {
			if pos+2 > end {
				return nil, formatErr("tile-part of tile %d has no SOD marker", isot)
			}
			m := int(binary.BigEndian.Uint16(data[pos:]))
			if m == mSOD {
				pos += 2
				break
			}
			if m>>8 != 0xFF || pos+4 > end {
				return nil, formatErr("bad marker %#04x in the header of tile %d", m, isot)
			}
			l := int(binary.BigEndian.Uint16(data[pos+2:]))
			if l < 2 || pos+2+l > end {
				return nil, formatErr("marker %#04x in tile %d has bad length %d", m, isot, l)
			}
			seg := data[pos+4 : pos+2+l]
			switch m {
			case mPPT:
				if len(seg) < 1 {
					return nil, formatErr("empty PPT marker segment")
				}
				tp.ppt = append(tp.ppt, seg[1:])
			case mSIZ, mPPM, mTLM, mPLM, mCRG:
				return nil, formatErr("marker %#04x not allowed in a tile-part header", m)
			default:
				if err := cs.parseParam(th, m, seg); err != nil {
					return nil, fmt.Errorf("tile %d: %w", isot, err)
				}
			}
			pos += 2 + l
		}
		tp.body = data[pos:end]
		cs.parts = append(cs.parts, tp)
		pos = end
		if cs.truncated {
			break
		}
	}
	if len(cs.parts) == 0 {
		return nil, formatErr("codestream has no tile data")
	}
	return cs, nil
}

func allPadding(b []byte) bool {
	for _, c := range b {
		if c != 0 && c != 0xFF {
			return false
		}
	}
	return true
}

type ppmPart struct {
	z    int
	data []byte
}

// joinZ concatenates PPM payloads in the order of their Zppm index (stable
// for equal indexes, as files with more than 256 segments wrap around).
func joinZ(parts []ppmPart) []byte {
	sorted := true
	for i := 1; i < len(parts); i++ {
		if parts[i].z < parts[i-1].z {
			sorted = false
		}
	}
	n := 0
	for _, p := range parts {
		n += len(p.data)
	}
	out := make([]byte, 0, n)
	if sorted {
		for _, p := range parts {
			out = append(out, p.data...)
		}
		return out
	}
	for z := 0; z < 256; z++ {
		for _, p := range parts {
			if p.z == z {
				out = append(out, p.data...)
			}
		}
	}
	return out
}

func (cs *codestream) parseSIZ(seg []byte) error {
	r := reader{b: seg}
	s := &cs.siz
	s.rsiz = r.u16()
	x1, y1, x0, y0 := r.u32(), r.u32(), r.u32(), r.u32()
	tw, th, tx0, ty0 := r.u32(), r.u32(), r.u32(), r.u32()
	nc := r.u16()
	if r.err {
		return formatErr("SIZ marker too short")
	}
	const lim = 1 << 31
	if x1 >= lim || y1 >= lim || x0 >= lim || y0 >= lim || tw >= lim || th >= lim || tx0 >= lim || ty0 >= lim {
		return formatErr("SIZ: image or tile size %dx%d (tile %dx%d) too large", x1, y1, tw, th)
	}
	s.x1, s.y1, s.x0, s.y0 = int(x1), int(y1), int(x0), int(y0)
	s.tw, s.th, s.tx0, s.ty0 = int(tw), int(th), int(tx0), int(ty0)
	if s.x0 >= s.x1 || s.y0 >= s.y1 {
		return formatErr("SIZ: empty image area (%d..%d x %d..%d)", s.x0, s.x1, s.y0, s.y1)
	}
	if s.tw == 0 || s.th == 0 {
		return formatErr("SIZ: zero tile size")
	}
	if s.tx0 > s.x0 || s.ty0 > s.y0 || s.tx0+s.tw <= s.x0 || s.ty0+s.th <= s.y0 {
		return formatErr("SIZ: tile grid origin (%d,%d) does not cover the image origin (%d,%d)", s.tx0, s.ty0, s.x0, s.y0)
	}
	if nc == 0 || nc > maxComponents {
		return formatErr("SIZ: bad number of components %d", nc)
	}
	if r.left() < 3*nc {
		return formatErr("SIZ: marker too short for %d components", nc)
	}
	s.comps = make([]compInfo, nc)
	for i := range s.comps {
		ssiz := r.u8()
		dx, dy := r.u8(), r.u8()
		p := ssiz&0x7F + 1
		if p > maxPrecision {
			return unsupportedErr("SIZ: component %d has %d-bit samples (at most %d supported)", i, p, maxPrecision)
		}
		if dx == 0 || dy == 0 {
			return formatErr("SIZ: component %d has zero sub-sampling", i)
		}
		s.comps[i] = compInfo{precision: p, signed: ssiz&0x80 != 0, dx: dx, dy: dy}
	}
	s.ntx = ceilDiv(s.x1-s.tx0, s.tw)
	s.nty = ceilDiv(s.y1-s.ty0, s.th)
	if s.ntx*s.nty > maxTilesTotal {
		return formatErr("SIZ: %dx%d tiles (at most %d allowed)", s.ntx, s.nty, maxTilesTotal)
	}
	return nil
}

// compIndex reads a component index (1 byte if Csiz < 257, else 2).
func (cs *codestream) compIndex(r *reader) (int, error) {
	var c int
	if len(cs.siz.comps) < 257 {
		c = r.u8()
	} else {
		c = r.u16()
	}
	if r.err {
		return 0, formatErr("marker segment too short")
	}
	if c >= len(cs.siz.comps) {
		return 0, formatErr("component index %d out of range", c)
	}
	return c, nil
}

// parseParam parses a coding parameter marker segment into h.
func (cs *codestream) parseParam(h *header, m int, seg []byte) error {
	r := reader{b: seg}
	switch m {
	case mCOD:
		scod := r.u8()
		d := &codDefaults{sop: scod&2 != 0, eph: scod&4 != 0}
		d.progression = r.u8()
		d.layers = r.u16()
		d.mct = r.u8()
		if r.err {
			return formatErr("COD marker too short")
		}
		if d.progression > progressionMax {
			return formatErr("COD: unknown progression order %d", d.progression)
		}
		if d.layers == 0 {
			return formatErr("COD: zero quality layers")
		}
		if d.mct > 1 {
			return unsupportedErr("COD: multiple component transform %d is not supported", d.mct)
		}
		sp, err := parseSPcod(&r, scod&1 != 0)
		if err != nil {
			return fmt.Errorf("COD: %w", err)
		}
		h.cod, h.codCS = d, sp
	case mCOC:
		c, err := cs.compIndex(&r)
		if err != nil {
			return fmt.Errorf("COC: %w", err)
		}
		scoc := r.u8()
		sp, err := parseSPcod(&r, scoc&1 != 0)
		if err != nil {
			return fmt.Errorf("COC: %w", err)
		}
		if h.coc == nil {
			h.coc = map[int]*codingStyle{}
		}
		h.coc[c] = sp
	case mQCD:
		q, err := parseQuant(&r)
		if err != nil {
			return fmt.Errorf("QCD: %w", err)
		}
		h.qcd = q
	case mQCC:
		c, err := cs.compIndex(&r)
		if err != nil {
			return fmt.Errorf("QCC: %w", err)
		}
		q, err := parseQuant(&r)
		if err != nil {
			return fmt.Errorf("QCC: %w", err)
		}
		if h.qcc == nil {
			h.qcc = map[int]*quantStyle{}
		}
		h.qcc[c] = q
	case mRGN:
		c, err := cs.compIndex(&r)
		if err != nil {
			return fmt.Errorf("RGN: %w", err)
		}
		srgn := r.u8()
		shift := r.u8()
		if r.err {
			return formatErr("RGN marker too short")
		}
		if srgn != 0 {
			return formatErr("RGN: unknown ROI style %d", srgn)
		}
		if shift > maxBitPlanes {
			return formatErr("RGN: ROI shift %d too large", shift)
		}
		if h.rgn == nil {
			h.rgn = map[int]int{}
		}
		h.rgn[c] = shift
	case mPOC:
		size := 7
		if len(cs.siz.comps) >= 257 {
			size = 9
		}
		if len(seg) < size || len(seg)%size != 0 {
			return formatErr("POC marker has bad length %d", len(seg))
		}
		for r.left() >= size {
			var p pocEntry
			p.rs = r.u8()
			if size == 7 {
				p.cs = r.u8()
			} else {
				p.cs = r.u16()
			}
			p.lye = r.u16()
			p.re = r.u8()
			if size == 7 {
				p.ce = r.u8()
				if p.ce == 0 {
					p.ce = 256
				}
			} else {
				p.ce = r.u16()
				if p.ce == 0 {
					p.ce = 16384
				}
			}
			p.order = r.u8()
			if p.order > progressionMax {
				return formatErr("POC: unknown progression order %d", p.order)
			}
			h.pocs = append(h.pocs, p)
		}
		h.hasPOC = true
	case mTLM, mPLM, mPLT, mCRG, mCOM:
		// Informative only: lengths are recomputed from the packet headers.
	default:
		if m < 0xFF30 || m > 0xFF3F {
			// Unknown marker segments are skipped (they carry a length).
			return nil
		}
	}
	return nil
}

func parseSPcod(r *reader, precincts bool) (*codingStyle, error) {
	cs := &codingStyle{}
	cs.levels = r.u8()
	xcb, ycb := r.u8(), r.u8()
	cs.cbStyle = r.u8()
	tr := r.u8()
	if r.err {
		return nil, formatErr("marker too short")
	}
	if cs.levels > maxLevels {
		return nil, formatErr("%d decomposition levels (at most %d)", cs.levels, maxLevels)
	}
	if xcb > 8 || ycb > 8 || xcb+ycb > 8 {
		return nil, formatErr("bad code-block size exponents %d,%d", xcb+2, ycb+2)
	}
	cs.cbw, cs.cbh = xcb+2, ycb+2
	if cs.cbStyle&cbHT != 0 {
		return nil, unsupportedErr("HTJ2K (Part 15) code-blocks are not supported")
	}
	if cs.cbStyle&0x80 != 0 {
		return nil, formatErr("unknown code-block style %#x", cs.cbStyle)
	}
	switch tr {
	case 0:
	case 1:
		cs.reversible = true
	default:
		return nil, unsupportedErr("unknown wavelet transform %d (Part 2 kernels are not supported)", tr)
	}
	n := cs.levels + 1
	cs.ppx, cs.ppy = make([]int, n), make([]int, n)
	for i := 0; i < n; i++ {
		if !precincts {
			cs.ppx[i], cs.ppy[i] = 15, 15
			continue
		}
		v := r.u8()
		if r.err {
			return nil, formatErr("marker too short for %d precinct sizes", n)
		}
		cs.ppx[i], cs.ppy[i] = v&0xF, v>>4
		if i > 0 && (cs.ppx[i] == 0 || cs.ppy[i] == 0) {
			return nil, formatErr("precinct size exponent 0 at resolution %d", i)
		}
	}
	return cs, nil
}

func parseQuant(r *reader) (*quantStyle, error) {
	s := r.u8()
	if r.err {
		return nil, formatErr("marker too short")
	}
	q := &quantStyle{style: s & 0x1F, guard: s >> 5}
	switch q.style {
	case 0:
		for r.left() > 0 && len(q.exp) < maxQuantBands {
			q.exp = append(q.exp, r.u8()>>3)
			q.mant = append(q.mant, 0)
		}
	case 1, 2:
		for r.left() >= 2 && len(q.exp) < maxQuantBands {
			v := r.u16()
			q.exp = append(q.exp, v>>11)
			q.mant = append(q.mant, v&0x7FF)
			if q.style == 1 {
				break
			}
		}
	default:
		return nil, formatErr("unknown quantization style %d", q.style)
	}
	if len(q.exp) == 0 {
		return nil, formatErr("no step sizes")
	}
	return q, nil
}

// bandQuant returns the exponent and mantissa of band b (0 = LL, then HL, LH,
// HH of the lowest resolution first) for a component with nl levels.
func (q *quantStyle) bandQuant(b, nl int) (exp, mant int, err error) {
	if q.style == 1 {
		// Derived: eps_b = eps_0 - NL + n_b, mu_b = mu_0 (E.1.1.2).
		nb := nl
		if b > 0 {
			nb = nl - (b-1)/3
		}
		e := q.exp[0] - nl + nb
		if e < 0 {
			return 0, 0, formatErr("derived quantization gives a negative exponent")
		}
		return e, q.mant[0], nil
	}
	if b >= len(q.exp) {
		return 0, 0, formatErr("quantization marker has %d step sizes, band %d needs more", len(q.exp), b)
	}
	return q.exp[b], q.mant[b], nil
}

func ceilDiv(a, b int) int {
	if b <= 0 {
		return 0
	}
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}

// ceilDivPow2 returns ceil(a / 2^n) for a >= 0.
func ceilDivPow2(a, n int) int {
	if n >= 62 {
		if a > 0 {
			return 1
		}
		return 0
	}
	return (a + (1 << n) - 1) >> n
}
