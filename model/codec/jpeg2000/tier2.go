package jpeg2000

import (
	"math"
	"sort"
)

// Tier-2: the tile, component, resolution, sub-band, precinct and
// code-block structure (Annex B), tag trees, packet headers, and the five
// progression orders with progression order changes.

type tileComp struct {
	x0, y0, x1, y1 int // tile-component area on the component grid
	cs             *codingStyle
	qs             *quantStyle
	roiShift       int
	res            []resolution
	ibuf           []int32   // coefficients/samples, reversible path
	fbuf           []float32 // coefficients/samples, irreversible path
}

func (tc *tileComp) width() int  { return tc.x1 - tc.x0 }
func (tc *tileComp) height() int { return tc.y1 - tc.y0 }

type resolution struct {
	x0, y0, x1, y1 int
	ppx, ppy       int // precinct size exponents
	pw, ph         int // precincts across and down
	px0, py0       int // index of the first precinct (floor(x0/2^ppx))
	bands          []band
	next           []int // per precinct: the next layer to read
}

type band struct {
	orient         int // 0 LL, 1 HL, 2 LH, 3 HH
	x0, y0, x1, y1 int
	offx, offy     int // position of the band in the tile-component buffer
	mb             int // magnitude bit-planes Mb (guard + exponent - 1)
	step           float32
	cbw, cbh       int // code-block size exponents in this band
	precs          []precinct
}

type precinct struct {
	cw, ch    int // code-blocks across and down
	cbs       []codeblock
	incl, zbp tagTree
}

type codeblock struct {
	x0, y0, x1, y1 int
	seen           bool // included in an earlier layer
	lblock         int
	numbps         int // Mb minus the zero bit-planes
	npasses        int
	segs           []segment
}

type segment struct {
	max    int // passes this segment can hold
	passes int
	pieces []piece
}

type piece struct{ off, n int }

// tagTree is the tag tree of B.10.2 over a w x h grid of leaves.
type tagTree struct {
	nodes []ttNode
}

type ttNode struct {
	value, low int32
	parent     int32
}

func newTagTree(w, h int) tagTree {
	if w <= 0 || h <= 0 {
		return tagTree{}
	}
	// Count nodes level by level.
	n := 0
	for lw, lh := w, h; ; lw, lh = (lw+1)/2, (lh+1)/2 {
		n += lw * lh
		if lw == 1 && lh == 1 {
			break
		}
	}
	nodes := make([]ttNode, n)
	start := 0
	for lw, lh := w, h; ; lw, lh = (lw+1)/2, (lh+1)/2 {
		if lw == 1 && lh == 1 {
			nodes[start].parent = -1
			break
		}
		pstart := start + lw*lh
		pw := (lw + 1) / 2
		for y := 0; y < lh; y++ {
			for x := 0; x < lw; x++ {
				nodes[start+y*lw+x].parent = int32(pstart + (y/2)*pw + x/2)
			}
		}
		start = pstart
	}
	for i := range nodes {
		nodes[i].value = math.MaxInt32
	}
	return tagTree{nodes: nodes}
}

// decode reads bits until it knows whether the value of leaf is below
// threshold, and reports that.
func (t *tagTree) decode(br *bitReader, leaf int, threshold int32) bool {
	var stack [40]int32
	depth := 0
	n := int32(leaf)
	for t.nodes[n].parent >= 0 && depth < len(stack) {
		stack[depth] = n
		depth++
		n = t.nodes[n].parent
	}
	var low int32
	for {
		node := &t.nodes[n]
		if low > node.low {
			node.low = low
		} else {
			low = node.low
		}
		for low < threshold && low < node.value {
			if br.bit() != 0 {
				node.value = low
			} else {
				low++
			}
			if br.err {
				return false
			}
		}
		node.low = low
		if depth == 0 {
			break
		}
		depth--
		n = stack[depth]
	}
	return t.nodes[leaf].value < threshold
}

// bitReader reads packet header bits, skipping the stuffed bit after 0xFF.
type bitReader struct {
	data []byte
	pos  int
	cur  uint32
	ct   int
	err  bool // read past the end
}

func (b *bitReader) bit() uint32 {
	if b.ct == 0 {
		if b.pos >= len(b.data) {
			b.err = true
			return 0
		}
		if b.cur == 0xFF {
			b.ct = 7
		} else {
			b.ct = 8
		}
		b.cur = uint32(b.data[b.pos])
		b.pos++
	}
	b.ct--
	return (b.cur >> uint(b.ct)) & 1
}

func (b *bitReader) bits(n int) uint32 {
	var v uint32
	for ; n > 0; n-- {
		v = v<<1 | b.bit()
	}
	return v
}

// align ends a packet header: the rest of the byte is padding, and a byte
// after 0xFF is skipped as well (its stuffed bit keeps markers out).
func (b *bitReader) align() {
	if b.cur == 0xFF {
		if b.pos >= len(b.data) {
			b.err = true
		} else {
			b.pos++
		}
	}
	b.cur = 0
	b.ct = 0
}

// tileDecoder decodes one tile.
type tileDecoder struct {
	idx            int
	x0, y0, x1, y1 int // tile area on the reference grid
	cod            *codDefaults
	comps          []tileComp
	body           []byte // concatenated tile-part bodies
	pos            int
	hdr            []byte // packed packet headers (PPM/PPT), nil if in the bodies
	hpos           int
	pocs           []pocEntry
	pending        []pendingPiece
	maxRes         int
	compInfo       []compInfo
	// trace, if set, is told where each packet lay in the body: from
	// start (its SOP marker, if any) through its header (with EPH) to the
	// end of its data. Used by tests to rewrite codestreams.
	trace func(start, hdrStart, hdrEnd, end int)
}

type pendingPiece struct {
	cb  *codeblock
	seg int
	n   int
}

// build computes the geometry of tile-component tc (B.5 to B.7).
func (td *tileDecoder) buildComp(tc *tileComp, ci compInfo) error {
	cs := tc.cs
	nl := cs.levels
	tc.res = make([]resolution, nl+1)
	for r := 0; r <= nl; r++ {
		res := &tc.res[r]
		lv := nl - r
		res.x0, res.y0 = ceilDivPow2(tc.x0, lv), ceilDivPow2(tc.y0, lv)
		res.x1, res.y1 = ceilDivPow2(tc.x1, lv), ceilDivPow2(tc.y1, lv)
		res.ppx, res.ppy = cs.ppx[r], cs.ppy[r]
		if res.x1 > res.x0 && res.y1 > res.y0 {
			res.px0 = res.x0 >> res.ppx
			res.py0 = res.y0 >> res.ppy
			res.pw = ceilDivPow2(res.x1, res.ppx) - res.px0
			res.ph = ceilDivPow2(res.y1, res.ppy) - res.py0
		}
		var orients []int
		if r == 0 {
			orients = []int{0}
		} else {
			orients = []int{1, 2, 3}
		}
		cbw, cbh := min(cs.cbw, res.ppx), min(cs.cbh, res.ppy)
		if r > 0 {
			cbw, cbh = min(cs.cbw, res.ppx-1), min(cs.cbh, res.ppy-1)
		}
		res.bands = make([]band, len(orients))
		for bi, o := range orients {
			b := &res.bands[bi]
			b.orient = o
			if r == 0 {
				b.x0, b.y0, b.x1, b.y1 = res.x0, res.y0, res.x1, res.y1
			} else {
				nb := nl - r + 1 // decomposition level of the band
				xob, yob := o&1, o>>1
				b.x0 = ceilDiv(tc.x0-(xob<<(nb-1)), 1<<nb)
				b.x1 = ceilDiv(tc.x1-(xob<<(nb-1)), 1<<nb)
				b.y0 = ceilDiv(tc.y0-(yob<<(nb-1)), 1<<nb)
				b.y1 = ceilDiv(tc.y1-(yob<<(nb-1)), 1<<nb)
				prev := &tc.res[r-1]
				if xob == 1 {
					b.offx = prev.x1 - prev.x0
				}
				if yob == 1 {
					b.offy = prev.y1 - prev.y0
				}
			}
			// Quantization.
			qb := 0
			if r > 0 {
				qb = 3*(r-1) + o
			}
			exp, mant, err := tc.qs.bandQuant(qb, nl)
			if err != nil {
				return err
			}
			b.mb = tc.qs.guard + exp - 1
			if !cs.reversible {
				gain := [4]int{0, 1, 1, 2}[o]
				b.step = float32(math.Ldexp(1+float64(mant)/2048, ci.precision+gain-exp))
			}
			b.cbw, b.cbh = cbw, cbh
		}
	}
	return nil
}

// buildPrecincts creates the precincts and code-blocks of every
// resolution of tc.
func (td *tileDecoder) buildPrecincts(tc *tileComp) {
	for r := range tc.res {
		res := &tc.res[r]
		np := res.pw * res.ph
		res.next = make([]int, np)
		for bi := range res.bands {
			b := &res.bands[bi]
			b.precs = make([]precinct, np)
			// Precinct partition in band coordinates.
			ppx, ppy := res.ppx, res.ppy
			if r > 0 {
				ppx, ppy = ppx-1, ppy-1
			}
			for p := 0; p < np; p++ {
				i, j := p%res.pw, p/res.pw
				px0 := (res.px0 + i) << ppx
				py0 := (res.py0 + j) << ppy
				x0, y0 := max(px0, b.x0), max(py0, b.y0)
				x1, y1 := min(px0+(1<<ppx), b.x1), min(py0+(1<<ppy), b.y1)
				prc := &b.precs[p]
				if x0 >= x1 || y0 >= y1 {
					continue
				}
				cx0, cy0 := x0>>b.cbw, y0>>b.cbh
				cx1, cy1 := ceilDivPow2(x1, b.cbw), ceilDivPow2(y1, b.cbh)
				prc.cw, prc.ch = cx1-cx0, cy1-cy0
				prc.cbs = make([]codeblock, prc.cw*prc.ch)
				for k := range prc.cbs {
					cx, cy := cx0+k%prc.cw, cy0+k/prc.cw
					cb := &prc.cbs[k]
					cb.x0 = max(cx<<b.cbw, x0)
					cb.y0 = max(cy<<b.cbh, y0)
					cb.x1 = min((cx+1)<<b.cbw, x1)
					cb.y1 = min((cy+1)<<b.cbh, y1)
					cb.lblock = 3
				}
				prc.incl = newTagTree(prc.cw, prc.ch)
				prc.zbp = newTagTree(prc.cw, prc.ch)
			}
		}
	}
}

// countPackets returns the number of packets of the tile, for a sanity
// check against the data length before precincts are allocated.
func (td *tileDecoder) countPackets() int {
	n := 0
	for c := range td.comps {
		for r := range td.comps[c].res {
			res := &td.comps[c].res[r]
			n += res.pw * res.ph
			if n > math.MaxInt32 {
				return n
			}
		}
	}
	return n * td.cod.layers
}

// readPacket reads the packet of layer l, resolution r, component c,
// precinct p.
func (td *tileDecoder) readPacket(l, r, c, p int) error {
	tc := &td.comps[c]
	res := &tc.res[r]
	start := td.pos
	if td.cod.sop && td.pos+6 <= len(td.body) && td.body[td.pos] == 0xFF && td.body[td.pos+1] == 0x91 {
		td.pos += 6
	}
	var br bitReader
	if td.hdr != nil {
		br.data, br.pos = td.hdr, td.hpos
	} else {
		br.data, br.pos = td.body, td.pos
	}
	if br.pos >= len(br.data) {
		return formatErr("tile %d: data ends before packet (layer %d, resolution %d, component %d, precinct %d)", td.idx, l, r, c, p)
	}
	td.pending = td.pending[:0]
	hdrStart := br.pos
	if br.bit() != 0 {
		style := tc.cs.cbStyle
		for bi := range res.bands {
			b := &res.bands[bi]
			prc := &b.precs[p]
			for k := range prc.cbs {
				cb := &prc.cbs[k]
				var inc bool
				if !cb.seen {
					inc = prc.incl.decode(&br, k, int32(l+1))
				} else {
					inc = br.bit() != 0
				}
				if br.err {
					break
				}
				if !inc {
					continue
				}
				if !cb.seen {
					zbp := int32(0)
					for !prc.zbp.decode(&br, k, zbp+1) {
						zbp++
						if br.err || zbp > 74 {
							return formatErr("tile %d: bad zero bit-plane count in a packet header", td.idx)
						}
					}
					cb.numbps = b.mb - int(zbp)
					if cb.numbps+tc.roiShift > maxBitPlanes {
						return unsupportedErr("tile %d: code-block with %d bit-planes (at most %d supported)", td.idx, cb.numbps+tc.roiShift, maxBitPlanes)
					}
					cb.seen = true
				}
				np := readNumPasses(&br)
				for br.bit() != 0 {
					cb.lblock++
					if cb.lblock > 32 || br.err {
						return formatErr("tile %d: bad code-block length indicator", td.idx)
					}
				}
				if cb.numbps <= 0 {
					return formatErr("tile %d: code-block has more zero bit-planes than its sub-band has bit-planes", td.idx)
				}
				cb.npasses += np
				if len(cb.segs) == 0 {
					cb.segs = append(cb.segs, segment{max: segMax(style, nil)})
				} else if last := &cb.segs[len(cb.segs)-1]; last.passes == last.max {
					cb.segs = append(cb.segs, segment{max: segMax(style, last)})
				}
				for {
					si := len(cb.segs) - 1
					seg := &cb.segs[si]
					nn := min(seg.max-seg.passes, np)
					nbits := cb.lblock + floorLog2(nn)
					if nbits > 31 {
						return formatErr("tile %d: code-block segment length of %d bits", td.idx, nbits)
					}
					n := int(br.bits(nbits))
					td.pending = append(td.pending, pendingPiece{cb, si, n})
					seg.passes += nn
					np -= nn
					if np <= 0 {
						break
					}
					cb.segs = append(cb.segs, segment{max: segMax(style, seg)})
				}
				if br.err {
					break
				}
			}
			if br.err {
				break
			}
		}
	}
	br.align()
	if br.err {
		return formatErr("tile %d: data ends inside a packet header (layer %d, resolution %d, component %d, precinct %d)", td.idx, l, r, c, p)
	}
	if td.hdr != nil {
		td.hpos = br.pos
		if td.cod.eph && td.hpos+2 <= len(td.hdr) && td.hdr[td.hpos] == 0xFF && td.hdr[td.hpos+1] == 0x92 {
			td.hpos += 2
		}
	} else {
		td.pos = br.pos
		if td.cod.eph && td.pos+2 <= len(td.body) && td.body[td.pos] == 0xFF && td.body[td.pos+1] == 0x92 {
			td.pos += 2
		}
	}
	hdrEnd := td.pos
	for _, pp := range td.pending {
		if pp.n > len(td.body)-td.pos {
			return formatErr("tile %d: data ends inside a packet (layer %d, resolution %d, component %d, precinct %d): %d bytes missing", td.idx, l, r, c, p, pp.n-(len(td.body)-td.pos))
		}
		seg := &pp.cb.segs[pp.seg]
		seg.pieces = append(seg.pieces, piece{td.pos, pp.n})
		td.pos += pp.n
	}
	if td.trace != nil {
		td.trace(start, hdrStart, hdrEnd, td.pos)
	}
	return nil
}

// segMax is the number of passes a new segment holds (B.10.7.1): one per
// segment when every pass is terminated; in bypass mode ten arithmetic-coded
// passes, then alternately two raw passes and one arithmetic-coded one;
// otherwise unlimited.
func segMax(style int, prev *segment) int {
	switch {
	case style&cbTermAll != 0:
		return 1
	case style&cbBypass != 0:
		if prev == nil {
			return 10
		}
		if prev.max == 1 || prev.max == 10 {
			return 2
		}
		return 1
	}
	return unlimitedPass
}

// readNumPasses decodes the number of coding passes (Table B.4).
func readNumPasses(br *bitReader) int {
	if br.bit() == 0 {
		return 1
	}
	if br.bit() == 0 {
		return 2
	}
	if n := br.bits(2); n != 3 {
		return 3 + int(n)
	}
	if n := br.bits(5); n != 31 {
		return 6 + int(n)
	}
	return 37 + int(br.bits(7))
}

func floorLog2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}

// precKey places a precinct in the position-driven progressions (B.12.1.3):
// the reference-grid point at which the standard's loops over y and x first
// reach it.
type precKey struct {
	c, r, p int
	kx, ky  int
}

func (td *tileDecoder) precinctKeys() []precKey {
	var keys []precKey
	for c := range td.comps {
		tc := &td.comps[c]
		nl := len(tc.res) - 1
		for r := range tc.res {
			res := &tc.res[r]
			lv := nl - r
			for p := 0; p < res.pw*res.ph; p++ {
				i, j := p%res.pw, p/res.pw
				kx := ((res.px0 + i) << (res.ppx + lv)) * td.compDx(c)
				ky := ((res.py0 + j) << (res.ppy + lv)) * td.compDy(c)
				keys = append(keys, precKey{c, r, p, max(kx, td.x0), max(ky, td.y0)})
			}
		}
	}
	return keys
}

// forEachPacket reads the packets of the tile in progression order.
func (td *tileDecoder) forEachPacket() error {
	vols := td.pocs
	if len(vols) == 0 {
		vols = []pocEntry{{rs: 0, cs: 0, lye: td.cod.layers, re: td.maxRes, ce: len(td.comps), order: td.cod.progression}}
	}
	var keys []precKey
	emit := func(l, r, c, p int) error {
		res := &td.comps[c].res[r]
		if res.next[p] != l {
			return nil
		}
		res.next[p]++
		return td.readPacket(l, r, c, p)
	}
	for _, v := range vols {
		lye := min(v.lye, td.cod.layers)
		re := min(v.re, td.maxRes)
		ce := min(v.ce, len(td.comps))
		rs, cs := v.rs, v.cs
		if rs >= re || cs >= ce || lye <= 0 {
			continue
		}
		inVol := func(k precKey) bool {
			return k.r >= rs && k.r < re && k.c >= cs && k.c < ce
		}
		switch v.order {
		case progLRCP, progRLCP:
			loop := func(l, r int) error {
				for c := cs; c < ce; c++ {
					if r >= len(td.comps[c].res) {
						continue
					}
					res := &td.comps[c].res[r]
					for p := 0; p < res.pw*res.ph; p++ {
						if err := emit(l, r, c, p); err != nil {
							return err
						}
					}
				}
				return nil
			}
			if v.order == progLRCP {
				for l := 0; l < lye; l++ {
					for r := rs; r < re; r++ {
						if err := loop(l, r); err != nil {
							return err
						}
					}
				}
			} else {
				for r := rs; r < re; r++ {
					for l := 0; l < lye; l++ {
						if err := loop(l, r); err != nil {
							return err
						}
					}
				}
			}
		default:
			if keys == nil {
				keys = td.precinctKeys()
			}
			sel := make([]precKey, 0, len(keys))
			for _, k := range keys {
				if inVol(k) {
					sel = append(sel, k)
				}
			}
			var less func(a, b precKey) bool
			switch v.order {
			case progRPCL:
				less = func(a, b precKey) bool {
					return lexLess(a.r, b.r, a.ky, b.ky, a.kx, b.kx, a.c, b.c)
				}
			case progPCRL:
				less = func(a, b precKey) bool {
					return lexLess(a.ky, b.ky, a.kx, b.kx, a.c, b.c, a.r, b.r)
				}
			default: // CPRL
				less = func(a, b precKey) bool {
					return lexLess(a.c, b.c, a.ky, b.ky, a.kx, b.kx, a.r, b.r)
				}
			}
			sort.SliceStable(sel, func(i, j int) bool { return less(sel[i], sel[j]) })
			for _, k := range sel {
				for l := 0; l < lye; l++ {
					if err := emit(l, k.r, k.c, k.p); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// lexLess compares (a1, a2, a3, a4) with (b1, b2, b3, b4) given as pairs.
func lexLess(a1, b1, a2, b2, a3, b3, a4, b4 int) bool {
	if a1 != b1 {
		return a1 < b1
	}
	if a2 != b2 {
		return a2 < b2
	}
	if a3 != b3 {
		return a3 < b3
	}
	return a4 < b4
}

func (td *tileDecoder) compDx(c int) int { return td.compInfo[c].dx }
func (td *tileDecoder) compDy(c int) int { return td.compInfo[c].dy }
