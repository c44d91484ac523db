package jpeg

import (
	"fmt"
)

// pred6Overflow selects predictor 6 as computed by encoders that truncate
// Ra-Rc to a signed 16-bit value (DCMTK's "workaround-pred6").
const pred6Overflow = 8

// lossless decodes a lossless (process 14) scan of the components idx with
// predictor (selection value) psv and point transform pt (T.81 Annex H).
// Samples are stored in the component planes shifted left by pt.
func (d *decoder) lossless(br *bitReader, idx []int, psv, pt int) error {
	if psv < 1 || psv > 7 {
		return FormatError(fmt.Sprintf("invalid lossless predictor %d", psv))
	}
	if pt >= d.precision {
		return FormatError(fmt.Sprintf("point transform %d not below precision %d", pt, d.precision))
	}
	for _, k := range idx {
		c := d.comps[k]
		if c.h != 1 || c.v != 1 {
			return UnsupportedError("subsampled lossless components not supported")
		}
		if !d.dc[c.td].defined {
			return FormatError(fmt.Sprintf("scan uses undefined Huffman table %d", c.td))
		}
	}
	rows, cols := d.rows, d.cols
	rowsPerInterval := rows
	if d.restart > 0 {
		if d.restart%cols != 0 {
			return FormatError(fmt.Sprintf("restart interval %d is not a multiple of the %d samples of a line", d.restart, cols))
		}
		rowsPerInterval = d.restart / cols
	}
	if psv == 6 && d.precision == 16 {
		if len(idx) > 1 {
			d.pred6At16 = true // lossless1 sets it only when Ra-Rc overflows
		}
		if d.pred6Workaround {
			psv = pred6Overflow
		}
	}
	initial := int32(1) << uint(d.precision-pt-1)
	var err error
	for y0 := 0; y0 < rows; y0 += rowsPerInterval {
		if y0 > 0 {
			if !br.restart() {
				return FormatError(fmt.Sprintf("missing restart marker at byte %d", br.Pos))
			}
		}
		y1 := min(y0+rowsPerInterval, rows)
		if len(idx) == 1 {
			err = d.lossless1(br, d.planes[idx[0]], &d.dc[d.comps[idx[0]].td], psv, initial, y0, y1)
		} else {
			err = d.losslessN(br, idx, psv, initial, y0, y1)
		}
		if err != nil {
			return err
		}
	}
	if pt > 0 {
		for _, k := range idx {
			p := d.planes[k]
			for i := range p {
				p[i] <<= uint(pt)
			}
		}
	}
	return nil
}

// lossless1 decodes the lines y0..y1 of a one-component scan; y0 is the
// first line of the scan or of a restart interval.
func (d *decoder) lossless1(br *bitReader, plane []int32, h *huffman, psv int, initial int32, y0, y1 int) error {
	cols := d.cols
	for y := y0; y < y1; y++ {
		row := plane[y*cols : (y+1)*cols]
		var prev []int32
		if y > y0 {
			prev = plane[(y-1)*cols : y*cols]
		}
		for x := range row {
			// Prediction.
			var pred int32
			switch {
			case x == 0 && prev == nil:
				pred = initial
			case x == 0:
				pred = prev[0]
			case prev == nil:
				pred = row[x-1]
			default:
				ra, rb, rc := row[x-1], prev[x], prev[x-1]
				switch psv {
				case 1:
					pred = ra
				case 2:
					pred = rb
				case 3:
					pred = rc
				case 4:
					pred = ra + rb - rc
				case 5:
					pred = ra + (rb-rc)>>1
				case 6:
					pred = rb + (ra-rc)>>1
					if ra-rc != int32(int16(ra-rc)) {
						d.pred6At16 = true
					}
				case pred6Overflow:
					pred = rb + int32(int16(ra-rc))>>1
				case 7:
					pred = (ra + rb) >> 1
				}
			}
			// Difference.
			if br.N < 32 {
				br.Fill()
			}
			var s uint
			if e := h.lut[br.Acc>>(64-lutBits)]; e != 0 {
				l := uint(e >> 8)
				br.Acc <<= l
				br.N -= l
				s = uint(e & 0xFF)
			} else {
				v, ok := h.slow(br)
				if !ok {
					return FormatError(fmt.Sprintf("invalid Huffman code at line %d, byte %d", y, br.Pos))
				}
				s = uint(v)
			}
			var diff int32
			switch {
			case s == 0:
			case s < 16:
				v := int32(br.Acc >> (64 - s))
				br.Acc <<= s
				br.N -= s
				if v < 1<<(s-1) {
					v += 1 - 1<<s
				}
				diff = v
			case s == 16:
				diff = 32768
			default:
				return FormatError(fmt.Sprintf("invalid difference category %d at line %d", s, y))
			}
			row[x] = (pred + diff) & 0xFFFF
		}
		if br.Overrun() {
			return FormatError(fmt.Sprintf("truncated scan at line %d of %d (byte %d)", y, d.rows, br.Pos))
		}
	}
	return nil
}

// losslessN decodes the lines y0..y1 of an interleaved scan of several
// components, each sampled once per MCU.
func (d *decoder) losslessN(br *bitReader, idx []int, psv int, initial int32, y0, y1 int) error {
	cols := d.cols
	for y := y0; y < y1; y++ {
		for x := 0; x < cols; x++ {
			for _, k := range idx {
				plane := d.planes[k]
				i := y*cols + x
				var pred int32
				switch {
				case x == 0 && y == y0:
					pred = initial
				case x == 0:
					pred = plane[i-cols]
				case y == y0:
					pred = plane[i-1]
				default:
					ra, rb, rc := plane[i-1], plane[i-cols], plane[i-cols-1]
					pred = predict(psv, ra, rb, rc)
				}
				if br.N < 32 {
					br.Fill()
				}
				s, ok := d.dc[d.comps[k].td].decode(br)
				if !ok {
					return FormatError(fmt.Sprintf("invalid Huffman code at line %d, byte %d", y, br.Pos))
				}
				var diff int32
				switch {
				case s == 0:
				case s < 16:
					diff = extend(br.Take(uint(s)), uint(s))
				case s == 16:
					diff = 32768
				default:
					return FormatError(fmt.Sprintf("invalid difference category %d at line %d", s, y))
				}
				plane[i] = (pred + diff) & 0xFFFF
			}
		}
		if br.Overrun() {
			return FormatError(fmt.Sprintf("truncated scan at line %d of %d (byte %d)", y, d.rows, br.Pos))
		}
	}
	return nil
}

func predict(psv int, ra, rb, rc int32) int32 {
	switch psv {
	case 1:
		return ra
	case 2:
		return rb
	case 3:
		return rc
	case 4:
		return ra + rb - rc
	case 5:
		return ra + (rb-rc)>>1
	case 6:
		return rb + (ra-rc)>>1
	case pred6Overflow:
		return rb + int32(int16(ra-rc))>>1
	default:
		return (ra + rb) >> 1
	}
}
