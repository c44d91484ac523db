package jpegls

import (
	"fmt"
	"math/bits"
	"sync"
)

// j is the run-length order table J of T.87 A.7.1.2.
var j = [32]int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// scanState is the coding state of one scan.
type scanState struct {
	near, maxval, rng  int32
	qbpp, limit, reset int32
	t1, t2, t3         int32
	ctx                [512]context    // regular mode contexts 0..364 (512 for bounds-check-free masking)
	ri                 [2]riContext    // run interruption contexts (RItype 0, 1)
	qlut               *[qlutSize]int8 // gradient quantisation, index d + maxval
	br                 bitReader
}

// context holds the variables of a regular-mode context (T.87 A.2.1), kept
// together so that one sample touches one cache line.
type context struct{ a, b, c, n int32 }

// riContext holds the variables of a run interruption context.
type riContext struct{ a, n, nn int32 }

// scan decodes one scan whose header is seg and whose data starts at pos;
// it returns the position of the marker that ends it.
func (d *decoder) scan(seg []byte, pos int) (int, error) {
	if len(seg) < 1 {
		return 0, FormatError("short SOS segment")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.ids) || len(seg) < 4+2*ns {
		return 0, FormatError(fmt.Sprintf("invalid scan with %d components", ns))
	}
	idx := make([]int, ns)
	for i := range idx {
		idx[i] = -1
		for k, id := range d.ids {
			if id == seg[1+2*i] {
				idx[i] = k
			}
		}
		if idx[i] < 0 {
			return 0, FormatError(fmt.Sprintf("scan names unknown component %d", seg[1+2*i]))
		}
		if seg[2+2*i] != 0 {
			return 0, UnsupportedError("mapping tables not supported")
		}
	}
	p := seg[1+2*ns:]
	near, ilv, pt := int32(p[0]), p[1], p[2]&15
	if pt != 0 {
		return 0, UnsupportedError(fmt.Sprintf("point transform %d not supported", pt))
	}
	switch {
	case ilv == 0 && ns != 1:
		return 0, FormatError("non-interleaved scan with several components")
	case ilv == 2 && ns > 4:
		return 0, UnsupportedError(fmt.Sprintf("sample-interleaved scan with %d components not supported", ns))
	case ilv > 2:
		return 0, FormatError(fmt.Sprintf("invalid interleave mode %d", ilv))
	}
	s, err := d.newScanState(near)
	if err != nil {
		return 0, err
	}
	s.br = newBitReader(d.data, pos)
	if ilv == 2 && ns > 1 {
		err = d.decodeScanInterleaved(s, idx)
	} else {
		err = d.decodeScan(s, idx)
	}
	if err != nil {
		return 0, err
	}
	for _, k := range idx {
		d.sawScan[k] = true
	}
	return s.br.nextMarker(), nil
}

func (d *decoder) newScanState(near int32) (*scanState, error) {
	s := &scanState{near: near}
	maxval := int32(1)<<uint(d.precision) - 1
	if d.preset.maxval != 0 {
		if d.preset.maxval > int(maxval) {
			return nil, FormatError(fmt.Sprintf("MAXVAL %d exceeds precision %d", d.preset.maxval, d.precision))
		}
		maxval = int32(d.preset.maxval)
	}
	if maxval < 1 {
		return nil, FormatError("invalid MAXVAL")
	}
	s.maxval = maxval
	if near < 0 || near > min(255, maxval/2) {
		return nil, FormatError(fmt.Sprintf("NEAR %d out of range for MAXVAL %d", near, maxval))
	}
	s.rng = (maxval+2*near)/(2*near+1) + 1
	s.qbpp = int32(bits.Len32(uint32(s.rng - 1)))
	bpp := max(2, int32(bits.Len32(uint32(maxval))))
	s.limit = 2 * (bpp + max(8, bpp))
	// Default thresholds (T.87 C.2.4.1.1.1).
	clamp := func(i, j int32) int32 {
		if i > maxval || i < j {
			return j
		}
		return i
	}
	if maxval >= 128 {
		f := (min(maxval, 4095) + 128) >> 8
		s.t1 = clamp(f*(3-2)+2+3*near, near+1)
		s.t2 = clamp(f*(7-3)+3+5*near, s.t1)
		s.t3 = clamp(f*(21-4)+4+7*near, s.t2)
	} else {
		f := 256 / (maxval + 1)
		s.t1 = clamp(max(2, 3/f+3*near), near+1)
		s.t2 = clamp(max(3, 7/f+5*near), s.t1)
		s.t3 = clamp(max(4, 21/f+7*near), s.t2)
	}
	s.reset = 64
	pr := d.preset
	if pr.t1 != 0 {
		s.t1 = int32(pr.t1)
	}
	if pr.t2 != 0 {
		s.t2 = int32(pr.t2)
	}
	if pr.t3 != 0 {
		s.t3 = int32(pr.t3)
	}
	if pr.reset != 0 {
		s.reset = int32(pr.reset)
	}
	if !(near+1 <= s.t1 && s.t1 <= s.t2 && s.t2 <= s.t3 && s.t3 <= max(maxval, near+1)) {
		return nil, FormatError(fmt.Sprintf("invalid thresholds T1=%d T2=%d T3=%d for MAXVAL %d, NEAR %d", s.t1, s.t2, s.t3, maxval, near))
	}
	if s.reset < 3 || s.reset > max(255, maxval) {
		return nil, FormatError(fmt.Sprintf("invalid RESET %d", s.reset))
	}
	s.qlut = s.quantTable()
	s.resetContexts()
	return s, nil
}

// qlutSize bounds the quantisation table index d + MAXVAL (at most
// 2*65535); masking an index with qlutSize-1 lets the compiler drop bounds
// checks.
const qlutSize = 1 << 17

// lutKey identifies a gradient quantisation table.
type lutKey struct{ maxval, near, t1, t2, t3 int32 }

// luts caches quantisation tables (up to 128 KiB each for 16-bit data): a
// series of slices shares one. The cache holds a few tables at most.
var luts struct {
	sync.Mutex
	m map[lutKey]*[qlutSize]int8
}

// quantTable returns the table mapping a gradient d to its quantised value,
// indexed by d + MAXVAL.
func (s *scanState) quantTable() *[qlutSize]int8 {
	key := lutKey{s.maxval, s.near, s.t1, s.t2, s.t3}
	luts.Lock()
	defer luts.Unlock()
	if t, ok := luts.m[key]; ok {
		return t
	}
	t := new([qlutSize]int8)
	for i := range 2*s.maxval + 1 {
		t[i] = s.quantize(i - s.maxval)
	}
	if luts.m == nil || len(luts.m) >= 8 {
		luts.m = map[lutKey]*[qlutSize]int8{}
	}
	luts.m[key] = t
	return t
}

func (s *scanState) quantize(d int32) int8 {
	switch {
	case d <= -s.t3:
		return -4
	case d <= -s.t2:
		return -3
	case d <= -s.t1:
		return -2
	case d < -s.near:
		return -1
	case d <= s.near:
		return 0
	case d < s.t1:
		return 1
	case d < s.t2:
		return 2
	case d < s.t3:
		return 3
	}
	return 4
}

func (s *scanState) resetContexts() {
	a := max(2, (s.rng+32)/64)
	for i := range s.ctx {
		s.ctx[i] = context{a: a, n: 1}
	}
	s.ri = [2]riContext{{a: a, n: 1}, {a: a, n: 1}}
}

// decodeScan decodes the lines of the components idx (one component, or
// line-interleaved components, ILV 1).
func (d *decoder) decodeScan(s *scanState, idx []int) error {
	cols := d.cols
	type line struct {
		prev, cur []int32
		run       int
	}
	lines := make([]line, len(idx))
	for i := range lines {
		lines[i] = line{make([]int32, cols+2), make([]int32, cols+2), 0}
	}
	interval := d.rows
	if d.restart > 0 {
		interval = d.restart
	}
	for y := 0; y < d.rows; y++ {
		if y > 0 && y%interval == 0 {
			if !s.br.restart() {
				return FormatError(fmt.Sprintf("missing restart marker at byte %d", s.br.Pos))
			}
			s.resetContexts()
			for i := range lines {
				clear(lines[i].prev)
				lines[i].run = 0
			}
		}
		for i, k := range idx {
			l := &lines[i]
			l.cur[0] = l.prev[1]
			l.prev[cols+1] = l.prev[cols]
			var err error
			l.run, err = s.decodeLine(l.prev, l.cur, l.run)
			if err != nil {
				return fmt.Errorf("%w at line %d of %d (byte %d)", err, y, d.rows, s.br.Pos)
			}
			copy(d.planes[k][y*cols:(y+1)*cols], l.cur[1:cols+1])
			l.prev, l.cur = l.cur, l.prev
		}
		if s.br.Overrun() {
			return FormatError(fmt.Sprintf("truncated scan at line %d of %d (byte %d)", y, d.rows, s.br.Pos))
		}
	}
	return nil
}

// decodeScanInterleaved decodes a sample-interleaved scan (ILV 2).
func (d *decoder) decodeScanInterleaved(s *scanState, idx []int) error {
	cols, nc := d.cols, len(idx)
	prev, cur := make([]int32, (cols+2)*nc), make([]int32, (cols+2)*nc)
	run := 0
	interval := d.rows
	if d.restart > 0 {
		interval = d.restart
	}
	for y := 0; y < d.rows; y++ {
		if y > 0 && y%interval == 0 {
			if !s.br.restart() {
				return FormatError(fmt.Sprintf("missing restart marker at byte %d", s.br.Pos))
			}
			s.resetContexts()
			clear(prev)
			run = 0
		}
		copy(cur[:nc], prev[nc:2*nc])
		copy(prev[(cols+1)*nc:], prev[cols*nc:(cols+1)*nc])
		var err error
		run, err = s.decodeLineInterleaved(prev, cur, nc, run)
		if err != nil {
			return fmt.Errorf("%w at line %d of %d (byte %d)", err, y, d.rows, s.br.Pos)
		}
		for c, k := range idx {
			row := d.planes[k][y*cols : (y+1)*cols]
			for x := range row {
				row[x] = cur[(x+1)*nc+c]
			}
		}
		prev, cur = cur, prev
		if s.br.Overrun() {
			return FormatError(fmt.Sprintf("truncated scan at line %d of %d (byte %d)", y, d.rows, s.br.Pos))
		}
	}
	return nil
}

var (
	errCode = FormatError("invalid Golomb code")
	errRun  = FormatError("run longer than the line")
)

// decodeLine decodes the samples cur[1..cols] given the previous line prev
// (both with one border sample at each end) and returns the new run index.
func (s *scanState) decodeLine(prev, cur []int32, ri int) (int, error) {
	cols := len(cur) - 2
	prev = prev[:cols+2]
	maxval, near, reset := s.maxval, s.near, s.reset
	qlut := s.qlut
	br := &s.br
	escape := s.limit - s.qbpp - 1
	for x := 1; x <= cols; {
		ra, rb, rc, rd := cur[x-1], prev[x], prev[x-1], prev[x+1]
		q1 := int32(qlut[(rd-rb+maxval)&(qlutSize-1)])
		q2 := int32(qlut[(rb-rc+maxval)&(qlutSize-1)])
		q3 := int32(qlut[(rc-ra+maxval)&(qlutSize-1)])
		if q1|q2|q3 == 0 {
			// Run mode.
			var cnt int
			var err error
			cnt, ri, err = s.runLength(cols-x+1, ri)
			if err != nil {
				return ri, err
			}
			for i := x; i < x+cnt; i++ {
				cur[i] = ra
			}
			x += cnt
			if x > cols {
				break
			}
			// Run interruption sample.
			rb = prev[x]
			var ritype int32
			if abs(ra-rb) <= near {
				ritype = 1
			}
			errv, err := s.riError(ritype, ri)
			if err != nil {
				return ri, err
			}
			if ritype == 1 {
				cur[x] = s.fix(ra + errv*(2*near+1))
			} else {
				if rb < ra {
					errv = -errv
				}
				cur[x] = s.fix(rb + errv*(2*near+1))
			}
			x++
			if ri > 0 {
				ri--
			}
			continue
		}
		// Regular mode.
		ctx := 81*q1 + 9*q2 + q3
		sgn := ctx >> 31 // 0, or -1 when the context is negated (SIGN = -1)
		ctx = (ctx ^ sgn) - sgn
		mx, mn := max(ra, rb), min(ra, rb)
		px := ra + rb - rc
		if rc <= mn {
			px = mx
		}
		if rc >= mx {
			px = mn
		}
		cx := &s.ctx[ctx&511]
		a, b, c, n := cx.a, cx.b, cx.c, cx.n
		px = min(max(px+(c^sgn)-sgn, 0), maxval)
		k := golombK(a, n)
		// Limited-length Golomb code (A.5.3), fast path inline.
		var m int32
		if br.N < 48 {
			br.Fill()
		}
		if z := uint(bits.LeadingZeros64(br.Acc)); int32(z) < escape && z+1+k <= br.N {
			acc := br.Acc << (z + 1)
			m = int32(z)
			if k > 0 {
				m = m<<k | int32(acc>>(64-k))
				acc <<= k
			}
			br.Acc = acc
			br.N -= z + 1 + k
		} else {
			var ok bool
			m, ok = s.golomb(k, s.limit)
			if !ok {
				return ri, errCode
			}
		}
		errv := (m >> 1) ^ -(m & 1)
		if k == 0 && near == 0 && 2*b+n-1 < 0 {
			errv = ^errv
		}
		// Update the context (A.6).
		b += errv * (2*near + 1)
		a += abs(errv)
		if n == reset {
			a >>= 1
			b >>= 1
			n >>= 1
		}
		n++
		if b+n <= 0 {
			b += n
			if b <= -n {
				b = -n + 1
			}
			if c > -128 {
				c--
			}
		} else if b > 0 {
			b -= n
			if b > 0 {
				b = 0
			}
			if c < 127 {
				c++
			}
		}
		*cx = context{a, b, c, n}
		cur[x] = s.fix(px + ((errv^sgn)-sgn)*(2*near+1))
		x++
	}
	return ri, nil
}

// runLength reads the length of a run of at most remaining samples
// (A.7.1.2) and returns it with the updated run index.
func (s *scanState) runLength(remaining, ri int) (int, int, error) {
	br := &s.br
	cnt := 0
	for br.bit() {
		r := 1 << uint(j[ri])
		take := min(r, remaining-cnt)
		cnt += take
		if take == r && ri < 31 {
			ri++
		}
		if cnt == remaining {
			break
		}
	}
	if cnt != remaining && j[ri] > 0 {
		cnt += int(br.read(uint(j[ri])))
	}
	if cnt > remaining {
		return 0, ri, errRun
	}
	return cnt, ri, nil
}

// riError decodes the error value of a run interruption sample of type
// ritype (A.7.2) and updates its context.
func (s *scanState) riError(ritype int32, ri int) (int32, error) {
	rc := &s.ri[ritype]
	temp := rc.a + (rc.n>>1)*ritype
	k := golombK(temp, rc.n)
	m, ok := s.golomb(k, s.limit-int32(j[ri])-1)
	if !ok {
		return 0, errCode
	}
	em := m + ritype
	mapb := em & 1
	av := (em + mapb) >> 1
	errv := av
	if (k != 0 || 2*rc.nn >= rc.n) == (mapb == 1) {
		errv = -av
	}
	if errv < 0 {
		rc.nn++
	}
	rc.a += (m + 1 - ritype) >> 1
	if rc.n == s.reset {
		rc.a >>= 1
		rc.n >>= 1
		rc.nn >>= 1
	}
	rc.n++
	return errv, nil
}

// regular decodes one sample in regular mode (A.3-A.6) given its context
// number q (-364..364) and neighbours; decodeLine has this code inline.
func (s *scanState) regular(q, ra, rb, rc int32) (int32, error) {
	near, maxval := s.near, s.maxval
	sgn := q >> 31
	q = (q ^ sgn) - sgn
	mx, mn := max(ra, rb), min(ra, rb)
	px := ra + rb - rc
	if rc <= mn {
		px = mx
	}
	if rc >= mx {
		px = mn
	}
	cx := &s.ctx[q&511]
	a, b, c, n := cx.a, cx.b, cx.c, cx.n
	px = min(max(px+(c^sgn)-sgn, 0), maxval)
	k := golombK(a, n)
	m, ok := s.golomb(k, s.limit)
	if !ok {
		return 0, errCode
	}
	errv := (m >> 1) ^ -(m & 1)
	if k == 0 && near == 0 && 2*b+n-1 < 0 {
		errv = ^errv
	}
	b += errv * (2*near + 1)
	a += abs(errv)
	if n == s.reset {
		a >>= 1
		b >>= 1
		n >>= 1
	}
	n++
	if b+n <= 0 {
		b += n
		if b <= -n {
			b = -n + 1
		}
		if c > -128 {
			c--
		}
	} else if b > 0 {
		b -= n
		if b > 0 {
			b = 0
		}
		if c < 127 {
			c++
		}
	}
	*cx = context{a, b, c, n}
	return s.fix(px + ((errv^sgn)-sgn)*(2*near+1)), nil
}

// decodeLineInterleaved decodes one line of nc sample-interleaved components
// (ILV 2): cur and prev hold (cols+2)*nc samples, pixel by pixel, with one
// border pixel at each end. Run mode applies to whole pixels.
func (s *scanState) decodeLineInterleaved(prev, cur []int32, nc, ri int) (int, error) {
	cols := len(cur)/nc - 2
	maxval := s.maxval
	qlut := s.qlut
	var qs [4]int32
	for x := 1; x <= cols; {
		zero := true
		for c := 0; c < nc; c++ {
			ra, rb, rc, rd := cur[(x-1)*nc+c], prev[x*nc+c], prev[(x-1)*nc+c], prev[(x+1)*nc+c]
			qs[c] = 81*int32(qlut[(rd-rb+maxval)&(qlutSize-1)]) + 9*int32(qlut[(rb-rc+maxval)&(qlutSize-1)]) + int32(qlut[(rc-ra+maxval)&(qlutSize-1)])
			zero = zero && qs[c] == 0
		}
		if !zero {
			for c := 0; c < nc; c++ {
				v, err := s.regular(qs[c], cur[(x-1)*nc+c], prev[x*nc+c], prev[(x-1)*nc+c])
				if err != nil {
					return ri, err
				}
				cur[x*nc+c] = v
			}
			x++
			continue
		}
		cnt, nri, err := s.runLength(cols-x+1, ri)
		if err != nil {
			return ri, err
		}
		ri = nri
		for i := x; i < x+cnt; i++ {
			copy(cur[i*nc:(i+1)*nc], cur[(x-1)*nc:x*nc])
		}
		x += cnt
		if x > cols {
			break
		}
		// Run interruption pixel: every component with RItype 0.
		for c := 0; c < nc; c++ {
			errv, err := s.riError(0, ri)
			if err != nil {
				return ri, err
			}
			ra, rb := cur[(x-1)*nc+c], prev[x*nc+c]
			if rb < ra {
				errv = -errv
			}
			cur[x*nc+c] = s.fix(rb + errv*(2*s.near+1))
		}
		x++
		if ri > 0 {
			ri--
		}
	}
	return ri, nil
}

// golombK returns the smallest k with n<<k >= a (A.5.1), at most 30.
func golombK(a, n int32) uint {
	if n >= a || n <= 0 {
		return 0
	}
	k := bits.Len32(uint32(a)) - bits.Len32(uint32(n))
	if n<<uint(k) < a {
		k++
	}
	return uint(min(k, 30))
}

// golomb reads a limited-length Golomb code with parameter k (A.5.3).
func (s *scanState) golomb(k uint, limit int32) (int32, bool) {
	br := &s.br
	q := int32(br.unary(int(limit)))
	escape := limit - s.qbpp - 1
	if q < escape {
		if k == 0 {
			return q, true
		}
		if k > 24 {
			return 0, false
		}
		return q<<k | br.read(k), true
	}
	if q > escape {
		return 0, false
	}
	return br.read(uint(s.qbpp)) + 1, true
}

// fix reduces a reconstructed value modulo the range and clamps it.
func (s *scanState) fix(v int32) int32 {
	if v < -s.near {
		v += s.rng * (2*s.near + 1)
	} else if v > s.maxval+s.near {
		v -= s.rng * (2*s.near + 1)
	}
	if v < 0 {
		return 0
	}
	if v > s.maxval {
		return s.maxval
	}
	return v
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
