package jpeg

import (
	"fmt"
	"math"
)

// zigzag maps the zig-zag index of a coefficient to its natural position.
var zigzag = [64]int{
	0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
}

// idctCos[x*8+u] = C(u)/2 * cos((2x+1)u*pi/16).
var idctCos = func() (t [64]float32) {
	for x := 0; x < 8; x++ {
		for u := 0; u < 8; u++ {
			c := 1.0
			if u == 0 {
				c = 1 / math.Sqrt2
			}
			t[x*8+u] = float32(c / 2 * math.Cos(float64(2*x+1)*float64(u)*math.Pi/16))
		}
	}
	return
}()

// dctState holds the padded sample buffers of a DCT-based frame.
type dctState struct {
	hmax, vmax int
	mcux, mcuy int
	bufs       [][]int32 // per component, width stride[k]
	stride     []int
	compW      []int
	compH      []int
}

func (d *decoder) initDCT() error {
	s := &dctState{hmax: 1, vmax: 1}
	for _, c := range d.comps {
		if c.h > 4 || c.v > 4 {
			return FormatError("sampling factor above 4")
		}
		s.hmax = max(s.hmax, c.h)
		s.vmax = max(s.vmax, c.v)
	}
	s.mcux = (d.cols + 8*s.hmax - 1) / (8 * s.hmax)
	s.mcuy = (d.rows + 8*s.vmax - 1) / (8 * s.vmax)
	for _, c := range d.comps {
		w, h := s.mcux*c.h*8, s.mcuy*c.v*8
		s.bufs = append(s.bufs, make([]int32, w*h))
		s.stride = append(s.stride, w)
		s.compW = append(s.compW, (d.cols*c.h+s.hmax-1)/s.hmax)
		s.compH = append(s.compH, (d.rows*c.v+s.vmax-1)/s.vmax)
	}
	d.dct = s
	return nil
}

// sequential decodes a Huffman sequential DCT scan (T.81 Annex F).
func (d *decoder) sequential(br *bitReader, idx []int) error {
	if d.dct == nil {
		if err := d.initDCT(); err != nil {
			return err
		}
	}
	s := d.dct
	for _, k := range idx {
		c := d.comps[k]
		if !d.dc[c.td].defined || !d.ac[c.ta].defined {
			return FormatError("scan uses an undefined Huffman table")
		}
	}
	// Blocks per MCU and MCU grid.
	type blk struct{ k, bx, by int }
	var mcuBlocks []blk
	var nx, ny int
	if len(idx) == 1 {
		k := idx[0]
		nx = (s.compW[k] + 7) / 8
		ny = (s.compH[k] + 7) / 8
		mcuBlocks = []blk{{k, 0, 0}}
	} else {
		nx, ny = s.mcux, s.mcuy
		for _, k := range idx {
			c := d.comps[k]
			for v := 0; v < c.v; v++ {
				for h := 0; h < c.h; h++ {
					mcuBlocks = append(mcuBlocks, blk{k, h, v})
				}
			}
		}
		if len(mcuBlocks) > 10 {
			return FormatError("more than 10 blocks per MCU")
		}
	}
	var pred [4]int32
	var coef [64]int32
	maxv := int32(1)<<uint(d.precision) - 1
	shift := int32(1) << uint(d.precision-1)
	mcu := 0
	for my := 0; my < ny; my++ {
		for mx := 0; mx < nx; mx++ {
			if d.restart > 0 && mcu > 0 && mcu%d.restart == 0 {
				if !br.restart() {
					return FormatError(fmt.Sprintf("missing restart marker at byte %d", br.Pos))
				}
				pred = [4]int32{}
			}
			mcu++
			for _, b := range mcuBlocks {
				c := &d.comps[b.k]
				q := &d.quant[c.tq]
				coef = [64]int32{}
				if br.N < 32 {
					br.Fill()
				}
				t, ok := d.dc[c.td].decode(br)
				if !ok || t > 16 {
					return FormatError(fmt.Sprintf("invalid DC code in MCU %d", mcu-1))
				}
				if t > 0 {
					if t == 16 {
						return FormatError(fmt.Sprintf("invalid DC category in MCU %d", mcu-1))
					}
					pred[b.k] += extend(br.Take(uint(t)), uint(t))
				}
				coef[0] = pred[b.k] * q[0]
				for z := 1; z < 64; z++ {
					if br.N < 32 {
						br.Fill()
					}
					rs, ok := d.ac[c.ta].decode(br)
					if !ok {
						return FormatError(fmt.Sprintf("invalid AC code in MCU %d", mcu-1))
					}
					r, sz := int(rs>>4), uint(rs&15)
					if sz == 0 {
						if r != 15 {
							break
						}
						z += 15
						continue
					}
					z += r
					if z > 63 {
						return FormatError(fmt.Sprintf("AC coefficients overrun the block in MCU %d", mcu-1))
					}
					coef[zigzag[z]] = extend(br.Take(sz), sz) * q[z]
				}
				// Block position in the component buffer.
				var x0, y0 int
				if len(idx) == 1 {
					x0, y0 = mx*8, my*8
				} else {
					x0, y0 = (mx*c.h+b.bx)*8, (my*c.v+b.by)*8
				}
				idct(&coef, s.bufs[b.k][y0*s.stride[b.k]+x0:], s.stride[b.k], shift, maxv)
			}
			if br.Overrun() {
				return FormatError(fmt.Sprintf("truncated scan at MCU %d of %d (byte %d)", mcu-1, nx*ny, br.Pos))
			}
		}
	}
	// Upsample (nearest neighbour) into the component planes.
	for _, k := range idx {
		c := d.comps[k]
		buf, stride, plane := s.bufs[k], s.stride[k], d.planes[k]
		for y := 0; y < d.rows; y++ {
			sy := y * c.v / s.vmax
			for x := 0; x < d.cols; x++ {
				plane[y*d.cols+x] = buf[sy*stride+x*c.h/s.hmax]
			}
		}
	}
	return nil
}

// idct computes the inverse DCT of a dequantised block, adds the level
// shift, clamps to 0..maxv and stores the 8x8 samples at out (row stride).
func idct(coef *[64]int32, out []int32, stride int, shift, maxv int32) {
	var tmp [64]float32
	// Rows: tmp[v*8+x] = sum_u C(u) F(v,u) cos.
	for v := 0; v < 8; v++ {
		row := coef[v*8 : v*8+8]
		if row[1]|row[2]|row[3]|row[4]|row[5]|row[6]|row[7] == 0 {
			dc := float32(row[0]) * idctCos[0]
			for x := 0; x < 8; x++ {
				tmp[v*8+x] = dc
			}
			continue
		}
		for x := 0; x < 8; x++ {
			cs := idctCos[x*8 : x*8+8]
			var sum float32
			for u := 0; u < 8; u++ {
				sum += float32(row[u]) * cs[u]
			}
			tmp[v*8+x] = sum
		}
	}
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			cs := idctCos[y*8 : y*8+8]
			var sum float32
			for v := 0; v < 8; v++ {
				sum += tmp[v*8+x] * cs[v]
			}
			p := int32(math.Floor(float64(sum)+0.5)) + shift
			if p < 0 {
				p = 0
			} else if p > maxv {
				p = maxv
			}
			out[y*stride+x] = p
		}
	}
}
