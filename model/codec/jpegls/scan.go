package jpegls

import (
	"errors"
	"fmt"
	"math/bits"
)

// j is the run-length order table J of T.87 A.7.1.2.
var j = [32]int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// scanState is the coding state of one scan.
type scanState struct {
	near, maxval, rng  int32
	qbpp, limit, reset int32
	t1, t2, t3         int32
	a, b, n            [367]int32 // 0..364 regular contexts, 365/366 run interruption
	c                  [365]int32
	nn                 [367]int32
	qlut               []int8 // gradient quantisation, index d + maxval
	br                 bitReader
}

// scan decodes one scan whose header is seg and whose data starts at pos;
// it returns the position of the marker that ends it.
func (d *decoder) scan(seg []byte, pos int) (int, error) {
	if len(seg) < 1 {
		return 0, errors.New("jpegls: short SOS segment")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.ids) || len(seg) < 4+2*ns {
		return 0, fmt.Errorf("jpegls: invalid scan with %d components", ns)
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
			return 0, fmt.Errorf("jpegls: scan names unknown component %d", seg[1+2*i])
		}
		if seg[2+2*i] != 0 {
			return 0, errors.New("jpegls: mapping tables not supported")
		}
	}
	p := seg[1+2*ns:]
	near, ilv, pt := int32(p[0]), p[1], p[2]&15
	if pt != 0 {
		return 0, fmt.Errorf("jpegls: point transform %d not supported", pt)
	}
	switch {
	case ilv == 0 && ns != 1:
		return 0, errors.New("jpegls: non-interleaved scan with several components")
	case ilv == 2:
		return 0, errors.New("jpegls: sample-interleaved scans (ILV 2) not supported")
	case ilv > 2:
		return 0, fmt.Errorf("jpegls: invalid interleave mode %d", ilv)
	}
	s, err := d.newScanState(near)
	if err != nil {
		return 0, err
	}
	s.br = bitReader{data: d.data, pos: pos}
	if err := d.decodeScan(s, idx); err != nil {
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
			return nil, fmt.Errorf("jpegls: MAXVAL %d exceeds precision %d", d.preset.maxval, d.precision)
		}
		maxval = int32(d.preset.maxval)
	}
	if maxval < 1 {
		return nil, errors.New("jpegls: invalid MAXVAL")
	}
	s.maxval = maxval
	if near < 0 || near > min(255, maxval/2) {
		return nil, fmt.Errorf("jpegls: NEAR %d out of range for MAXVAL %d", near, maxval)
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
		return nil, fmt.Errorf("jpegls: invalid thresholds T1=%d T2=%d T3=%d for MAXVAL %d, NEAR %d", s.t1, s.t2, s.t3, maxval, near)
	}
	if s.reset < 3 || s.reset > max(255, maxval) {
		return nil, fmt.Errorf("jpegls: invalid RESET %d", s.reset)
	}
	s.qlut = make([]int8, 2*maxval+1)
	for i := range s.qlut {
		s.qlut[i] = s.quantize(int32(i) - maxval)
	}
	s.resetContexts()
	return s, nil
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
	for i := range s.a {
		s.a[i] = a
		s.b[i] = 0
		s.n[i] = 1
		s.nn[i] = 0
	}
	clear(s.c[:])
}

// decodeScan decodes the lines of the components idx (one component, or
// line-interleaved components).
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
				return fmt.Errorf("jpegls: missing restart marker at byte %d", s.br.pos)
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
				return fmt.Errorf("%w at line %d of %d (byte %d)", err, y, d.rows, s.br.pos)
			}
			copy(d.planes[k][y*cols:(y+1)*cols], l.cur[1:cols+1])
			l.prev, l.cur = l.cur, l.prev
		}
		if s.br.overrun() {
			return fmt.Errorf("jpegls: truncated scan at line %d of %d (byte %d)", y, d.rows, s.br.pos)
		}
	}
	return nil
}

var (
	errCode  = errors.New("jpegls: invalid Golomb code")
	errRun   = errors.New("jpegls: run longer than the line")
	errValue = errors.New("jpegls: error value out of range")
)

// decodeLine decodes the samples cur[1..cols] given the previous line prev
// (both with one border sample at each end) and returns the new run index.
func (s *scanState) decodeLine(prev, cur []int32, ri int) (int, error) {
	cols := len(cur) - 2
	maxval, near := s.maxval, s.near
	qlut := s.qlut[:2*maxval+1]
	br := &s.br
	for x := 1; x <= cols; {
		ra, rb, rc, rd := cur[x-1], prev[x], prev[x-1], prev[x+1]
		q1 := int32(qlut[rd-rb+maxval])
		q2 := int32(qlut[rb-rc+maxval])
		q3 := int32(qlut[rc-ra+maxval])
		if q1|q2|q3 == 0 {
			// Run mode.
			remaining := cols - x + 1
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
				return ri, errRun
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
			ctx := 365
			if abs(ra-rb) <= near {
				ritype, ctx = 1, 366
			}
			temp := s.a[ctx] + (s.n[ctx]>>1)*ritype
			k := uint(0)
			for nt := s.n[ctx]; nt < temp && k < 31; k++ {
				nt <<= 1
			}
			m, ok := s.golomb(k, s.limit-int32(j[ri])-1)
			if !ok {
				return ri, errCode
			}
			em := m + ritype
			mapb := em & 1
			av := (em + mapb) >> 1
			errv := av
			if (k != 0 || 2*s.nn[ctx] >= s.n[ctx]) == (mapb == 1) {
				errv = -av
			}
			if errv < 0 {
				s.nn[ctx]++
			}
			s.a[ctx] += (m + 1 - ritype) >> 1
			if s.n[ctx] == s.reset {
				s.a[ctx] >>= 1
				s.n[ctx] >>= 1
				s.nn[ctx] >>= 1
			}
			s.n[ctx]++
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
		sign := int32(1)
		if ctx < 0 {
			sign, ctx = -1, -ctx
		}
		var px int32
		if mx, mn := max(ra, rb), min(ra, rb); rc >= mx {
			px = mn
		} else if rc <= mn {
			px = mx
		} else {
			px = ra + rb - rc
		}
		px += sign * s.c[ctx]
		if px < 0 {
			px = 0
		} else if px > maxval {
			px = maxval
		}
		a, n := s.a[ctx], s.n[ctx]
		k := uint(0)
		for nt := n; nt < a && k < 31; k++ {
			nt <<= 1
		}
		m, ok := s.golomb(k, s.limit)
		if !ok {
			return ri, errCode
		}
		errv := (m >> 1) ^ -(m & 1)
		if k == 0 && near == 0 && 2*s.b[ctx]+n-1 < 0 {
			errv = ^errv
		}
		// Update the context (A.6).
		b := s.b[ctx] + errv*(2*near+1)
		a += abs(errv)
		if n == s.reset {
			a >>= 1
			b >>= 1
			n >>= 1
		}
		n++
		c := s.c[ctx]
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
		s.a[ctx], s.b[ctx], s.c[ctx], s.n[ctx] = a, b, c, n
		cur[x] = s.fix(px + sign*errv*(2*near+1))
		x++
	}
	return ri, nil
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
