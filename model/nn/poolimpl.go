package nn

import (
	"fmt"
	"math"

	"sscscore/model/nn/gemm"
	"sscscore/model/nn/vec"
)

// max2 is max without math.Max's NaN and signed-zero handling (fast in loops).
func max2[T Float](a, b T) T {
	if b > a {
		return b
	}
	return a
}

// poolGeom is the window of a max or average pooling (PyTorch semantics, floor mode): output
// size (in + pad_before + pad_after - k) / s + 1; max pooling pads with -inf, average pooling
// counts the padding (count_include_pad=True) as PyTorch does by default.
type poolGeom struct {
	k, s [3]int
	p    [3][2]int
}

func (g poolGeom) out(d, h, w int) (od, oh, ow int, err error) {
	cg := convGeom{k: g.k, s: g.s, p: g.p}
	return cg.out(d, h, w)
}

// window returns the clipped input range [lo, hi) of output index o along axis i and the
// unclipped window size (for count_include_pad).
func (g poolGeom) window(i, o, in int) (lo, hi, full int) {
	start := o*g.s[i] - g.p[i][0]
	end := start + g.k[i]
	full = min(end, in+g.p[i][1]) - start
	return max(start, 0), min(end, in), full
}

// forEachSampleChannel runs f over the N·C (sample, channel) pairs, in parallel natively.
func forEachSampleChannel(n, c, work int, f func(n, c int)) {
	gemm.ParallelRange(n*c, max(1, 65536/max(work, 1)), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i/c, i%c)
		}
	})
}

// maxPoolForward computes y = maxpool(x); when idx is not nil it records, for every output
// element (dense order), the position in x of the maximum (for the backward pass).
func maxPoolForward[T Float](g poolGeom, x []T, xl layout, y []T, yl layout, idx []int32) {
	if idx != nil && len(x) > math.MaxInt32 {
		panic(ShapeError(fmt.Sprintf("nn: max pooling input of %d elements is too large", len(x))))
	}
	fast2 := g.k == [3]int{1, 2, 2} && g.s == [3]int{1, 2, 2} && g.p == [3][2]int{} && idx == nil
	// Non-overlapping windows of width 2 (for example 2×2×2): the maximum over the kd·kh
	// input rows first, then over pairs.
	if !fast2 && idx == nil && g.k[2] == 2 && g.s == g.k && g.p == [3][2]int{} {
		maxPoolRows(g, x, xl, y, yl)
		return
	}
	if !fast2 && idx == nil {
		maxPoolSeparable(g, x, xl, y, yl)
		return
	}
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, yl.D*yl.H*yl.W*g.k[0]*g.k[1]*g.k[2], func(n, c int) {
		di := ((n*yl.C+c)*yl.D)*yl.H*yl.W - 1
		xb := xl.idx(n, c, 0, 0, 0)
		for od := 0; od < yl.D; od++ {
			d0, d1, _ := g.window(0, od, xl.D)
			for oh := 0; oh < yl.H; oh++ {
				h0, h1, _ := g.window(1, oh, xl.H)
				yo := yl.idx(n, c, od, oh, 0)
				if fast2 {
					r0 := x[xl.idx(n, c, od, 2*oh, 0):]
					r1 := x[xl.idx(n, c, od, 2*oh+1, 0):]
					out := y[yo : yo+yl.W]
					if o32, ok := any(out).([]float32); ok {
						vec.MaxPool2(o32, any(r0).([]float32), any(r1).([]float32))
						continue
					}
					r0 = r0[:2*len(out)]
					r1 = r1[:2*len(out)]
					for ow := range out {
						m := r0[2*ow]
						m = max2(m, r0[2*ow+1])
						m = max2(m, r1[2*ow])
						out[ow] = max2(m, r1[2*ow+1])
					}
					continue
				}
				for ow := 0; ow < yl.W; ow++ {
					w0, w1, _ := g.window(2, ow, xl.W)
					m := T(math.Inf(-1))
					mi := -1
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							row := xb + d*xp + h*xw
							for w := w0; w < w1; w++ {
								if v := x[row+w]; v > m || mi < 0 {
									m, mi = v, row+w
								}
							}
						}
					}
					y[yo+ow] = m
					if idx != nil {
						idx[di+1+(od*yl.H+oh)*yl.W+ow] = int32(mi)
					}
				}
			}
		}
	})
}

// maxPoolRows is maxPoolForward for non-overlapping windows of width 2 without padding.
func maxPoolRows[T Float](g poolGeom, x []T, xl layout, y []T, yl layout) {
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, yl.D*yl.H*yl.W*g.k[0]*g.k[1]*2, func(n, c int) {
		xb := xl.idx(n, c, 0, 0, 0)
		tmp := make([]T, 2*yl.W)
		for od := 0; od < yl.D; od++ {
			for oh := 0; oh < yl.H; oh++ {
				first := true
				for a := 0; a < g.k[0]; a++ {
					for b := 0; b < g.k[1]; b++ {
						row := x[xb+(od*g.s[0]+a)*xp+(oh*g.s[1]+b)*xw:][:2*yl.W]
						if first {
							copy(tmp, row)
							first = false
							continue
						}
						if t32, ok := any(tmp).([]float32); ok {
							vec.Max(t32, t32, any(row).([]float32))
							continue
						}
						for i, v := range row {
							tmp[i] = max2(tmp[i], v)
						}
					}
				}
				out := y[yl.idx(n, c, od, oh, 0):][:yl.W]
				if o32, ok := any(out).([]float32); ok {
					t32 := any(tmp).([]float32)
					vec.MaxPool2(o32, t32, t32)
					continue
				}
				for i := range out {
					out[i] = max2(tmp[2*i], tmp[2*i+1])
				}
			}
		}
	})
}

// maxPoolSeparable is maxPoolForward without argmax: each output plane is the maximum over
// its depth window of the input planes pooled in 2-D, and each plane is pooled separably
// (the maximum over each input row's windows first, then over the window's rows).
func maxPoolSeparable[T Float](g poolGeom, x []T, xl layout, y []T, yl layout) {
	xw := xl.wp()
	kw, sw, pw := g.k[2], g.s[2], g.p[2][0]
	// Output columns whose window lies inside the row need no clipping.
	wlo := min(yl.W, (pw+sw-1)/sw)
	whi := max(wlo, min(yl.W, (xl.W-kw+pw)/sw+1))
	forEachSampleChannel(xl.N, xl.C, yl.D*yl.H*yl.W*g.k[0]*g.k[1]*g.k[2], func(n, c int) {
		hm := make([]T, xl.H*yl.W) // horizontal maxima of every input row of a plane
		var plane []T              // one plane pooled in 2-D (depth windows > 1)
		if g.k[0] > 1 {
			plane = make([]T, yl.H*yl.W)
		}
		pool2D := func(d int, out []T, ostride int) {
			base := xl.idx(n, c, d, 0, 0)
			for h := 0; h < xl.H; h++ {
				row := x[base+h*xw:][:xl.W]
				hr := hm[h*yl.W:][:yl.W]
				for ow := 0; ow < wlo; ow++ {
					w0, w1, _ := g.window(2, ow, xl.W)
					m := row[w0]
					for _, v := range row[w0+1 : w1] {
						m = max2(m, v)
					}
					hr[ow] = m
				}
				if o32, ok := any(hr[wlo:whi]).([]float32); ok && kw == 3 && sw == 2 && whi > wlo {
					vec.MaxWin3S2(o32, any(row[wlo*sw-pw:]).([]float32))
				} else {
					for ow := wlo; ow < whi; ow++ {
						win := row[ow*sw-pw:][:kw]
						m := win[0]
						for _, v := range win[1:] {
							m = max2(m, v)
						}
						hr[ow] = m
					}
				}
				for ow := whi; ow < yl.W; ow++ {
					w0, w1, _ := g.window(2, ow, xl.W)
					m := row[w0]
					for _, v := range row[w0+1 : w1] {
						m = max2(m, v)
					}
					hr[ow] = m
				}
			}
			for oh := 0; oh < yl.H; oh++ {
				h0, h1, _ := g.window(1, oh, xl.H)
				o := out[oh*ostride:][:yl.W]
				copy(o, hm[h0*yl.W:][:yl.W])
				for h := h0 + 1; h < h1; h++ {
					maxInto(o, hm[h*yl.W:][:yl.W])
				}
			}
		}
		for od := 0; od < yl.D; od++ {
			d0, d1, _ := g.window(0, od, xl.D)
			first := yl.idx(n, c, od, 0, 0)
			out := y[first:]
			pool2D(d0, out, yl.wp())
			for d := d0 + 1; d < d1; d++ {
				pool2D(d, plane, yl.W)
				for oh := 0; oh < yl.H; oh++ {
					maxInto(out[oh*yl.wp():][:yl.W], plane[oh*yl.W:][:yl.W])
				}
			}
		}
	})
}

// maxInto sets dst[i] = max(dst[i], src[i]).
func maxInto[T Float](dst, src []T) {
	if d32, ok := any(dst).([]float32); ok {
		vec.Max(d32, d32, any(src).([]float32))
		return
	}
	for i, v := range src {
		dst[i] = max2(dst[i], v)
	}
}

// avgPoolForward computes y = avgpool(x) (count_include_pad semantics).
func avgPoolForward[T Float](g poolGeom, x []T, xl layout, y []T, yl layout) {
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, yl.D*yl.H*yl.W*g.k[0]*g.k[1]*g.k[2], func(n, c int) {
		xb := xl.idx(n, c, 0, 0, 0)
		for od := 0; od < yl.D; od++ {
			d0, d1, fd := g.window(0, od, xl.D)
			for oh := 0; oh < yl.H; oh++ {
				h0, h1, fh := g.window(1, oh, xl.H)
				yo := yl.idx(n, c, od, oh, 0)
				for ow := 0; ow < yl.W; ow++ {
					w0, w1, fw := g.window(2, ow, xl.W)
					var s T
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							row := xb + d*xp + h*xw
							for _, v := range x[row+w0 : row+w1] {
								s += v
							}
						}
					}
					y[yo+ow] = s / T(fd*fh*fw)
				}
			}
		}
	})
}

// adaptiveBin returns PyTorch's adaptive pooling bin [start, end) of output o of out along an
// axis of length in.
func adaptiveBin(o, out, in int) (int, int) {
	start := o * in / out
	end := ((o+1)*in + out - 1) / out
	return start, end
}

// adaptiveAvgForward computes PyTorch's AdaptiveAvgPool to yl's D×H×W.
func adaptiveAvgForward[T Float](x []T, xl layout, y []T, yl layout) {
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, xl.D*xl.H*xl.W, func(n, c int) {
		xb := xl.idx(n, c, 0, 0, 0)
		for od := 0; od < yl.D; od++ {
			d0, d1 := adaptiveBin(od, yl.D, xl.D)
			for oh := 0; oh < yl.H; oh++ {
				h0, h1 := adaptiveBin(oh, yl.H, xl.H)
				for ow := 0; ow < yl.W; ow++ {
					w0, w1 := adaptiveBin(ow, yl.W, xl.W)
					var s T
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							row := xb + d*xp + h*xw
							for _, v := range x[row+w0 : row+w1] {
								s += v
							}
						}
					}
					y[yl.idx(n, c, od, oh, ow)] = s / T((d1-d0)*(h1-h0)*(w1-w0))
				}
			}
		}
	})
}

// avgPoolBackward adds to dx (dense) the gradient of avgPoolForward given dy (dense).
func avgPoolBackward[T Float](g poolGeom, dy []T, yl layout, dx []T, xl layout) {
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, yl.D*yl.H*yl.W*g.k[0]*g.k[1]*g.k[2], func(n, c int) {
		xb := xl.idx(n, c, 0, 0, 0)
		for od := 0; od < yl.D; od++ {
			d0, d1, fd := g.window(0, od, xl.D)
			for oh := 0; oh < yl.H; oh++ {
				h0, h1, fh := g.window(1, oh, xl.H)
				for ow := 0; ow < yl.W; ow++ {
					w0, w1, fw := g.window(2, ow, xl.W)
					v := dy[yl.idx(n, c, od, oh, ow)] / T(fd*fh*fw)
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							row := xb + d*xp + h*xw
							for w := w0; w < w1; w++ {
								dx[row+w] += v
							}
						}
					}
				}
			}
		}
	})
}

// adaptiveAvgBackward adds to dx (dense) the gradient of adaptiveAvgForward.
func adaptiveAvgBackward[T Float](dy []T, yl layout, dx []T, xl layout) {
	xp, xw := xl.plane(), xl.wp()
	forEachSampleChannel(xl.N, xl.C, xl.D*xl.H*xl.W, func(n, c int) {
		xb := xl.idx(n, c, 0, 0, 0)
		for od := 0; od < yl.D; od++ {
			d0, d1 := adaptiveBin(od, yl.D, xl.D)
			for oh := 0; oh < yl.H; oh++ {
				h0, h1 := adaptiveBin(oh, yl.H, xl.H)
				for ow := 0; ow < yl.W; ow++ {
					w0, w1 := adaptiveBin(ow, yl.W, xl.W)
					v := dy[yl.idx(n, c, od, oh, ow)] / T((d1-d0)*(h1-h0)*(w1-w0))
					for d := d0; d < d1; d++ {
						for h := h0; h < h1; h++ {
							row := xb + d*xp + h*xw
							for w := w0; w < w1; w++ {
								dx[row+w] += v
							}
						}
					}
				}
			}
		}
	})
}
