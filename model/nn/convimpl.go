package nn

import (
	"context"
	"fmt"
	"sync"

	"sscscore/model/nn/gemm"
	"sscscore/model/nn/vec"
	"sscscore/model/parallel"
)

// convGeom is the geometry of a 2-D or 3-D convolution (2-D: kernel, stride 1 and no padding
// along d). Weights are Cout × (Cin·kd·kh·kw) in PyTorch order (co; ci, kd, kh, kw).
type convGeom struct {
	cin, cout int
	k, s      [3]int    // kernel and stride along d, h, w
	p         [3][2]int // zero padding before/after along d, h, w
	// taps, when set, keeps only these of the Cin·kvol taps (in order): the GEMM's k runs
	// over them (phase-split stems drop the taps that fall outside the original kernel).
	taps []int32
}

func (g convGeom) kvol() int { return g.k[0] * g.k[1] * g.k[2] }

// kdim is the GEMM depth: Cin·kvol, or the number of kept taps.
func (g convGeom) kdim() int {
	if g.taps != nil {
		return len(g.taps)
	}
	return g.cin * g.kvol()
}

// out returns the output size along the three axes, or an error when the kernel does not fit.
func (g convGeom) out(d, h, w int) (od, oh, ow int, err error) {
	in := [3]int{d, h, w}
	var o [3]int
	for i := range 3 {
		span := in[i] + g.p[i][0] + g.p[i][1] - g.k[i]
		if span < 0 || g.s[i] < 1 {
			return 0, 0, 0, ShapeError(fmt.Sprintf("nn: kernel %v stride %v pad %v does not fit input %v", g.k, g.s, g.p, in))
		}
		o[i] = span/g.s[i] + 1
	}
	return o[0], o[1], o[2], nil
}

func (g convGeom) unitStride() bool { return g.s == [3]int{1, 1, 1} }

// haloCovers reports whether layout l keeps at least the convolution's padding as zero halo.
func (g convGeom) haloCovers(l layout) bool {
	h := [3][2]int{l.pd, l.ph, l.pw}
	for i := range 3 {
		if h[i][0] < g.p[i][0] || h[i][1] < g.p[i][1] {
			return false
		}
	}
	return true
}

// offsets returns the im2col offsets of the GEMM's k index (ci, a, b, c) relative to the
// first element of a sample in layout l, for output position 0 (halo must cover the padding).
func (g convGeom) offsets(l layout) []int32 {
	off := make([]int32, g.cin*g.kvol())
	sd := l.pd[0] - g.p[0][0]
	sh := l.ph[0] - g.p[1][0]
	sw := l.pw[0] - g.p[2][0]
	plane, wp, cs := l.plane(), l.wp(), l.chanSz()
	i := 0
	for ci := 0; ci < g.cin; ci++ {
		for a := 0; a < g.k[0]; a++ {
			for b := 0; b < g.k[1]; b++ {
				for c := 0; c < g.k[2]; c++ {
					off[i] = int32(ci*cs + (a+sd)*plane + (b+sh)*wp + c + sw)
					i++
				}
			}
		}
	}
	if g.taps != nil {
		kept := make([]int32, len(g.taps))
		for i, t := range g.taps {
			kept[i] = off[t]
		}
		return kept
	}
	return off
}

type actKind uint8

const (
	actNone actKind = iota
	actReLU
	actLeaky
)

// epilogue is applied while a convolution's (or linear layer's) output block is stored:
// v = acc + bias[c] (+ res); v = act(v); v = v·scale[c] + shift[c].
type epilogue[T Float] struct {
	bias         []T
	res          []T    // residual input, nil for none
	resL         layout // layout of res (same N, C, D, H, W as the output)
	act          actKind
	slope        T
	scale, shift []T
}

// apply writes dst[i] = epilogue(src[i]) for channel c; res is the matching residual slice.
// The order of operations is that of the separate graph ops: (acc + bias) + res, then the
// activation, then the affine.
func (ep *epilogue[T]) apply(dst, src, res []T, c int) {
	if ep == nil {
		copy(dst, src)
		return
	}
	if d32, ok := any(dst).([]float32); ok {
		var r32 []float32
		if res != nil {
			r32 = any(res).([]float32)
		}
		any(ep).(*epilogue[float32]).apply32(d32, any(src).([]float32), r32, c)
		return
	}
	var b T
	if ep.bias != nil {
		b = ep.bias[c]
	}
	src = src[:len(dst)]
	if res != nil {
		res = res[:len(dst)]
		for i, v := range src {
			dst[i] = v + b + res[i]
		}
		src, b = dst, 0
	}
	switch ep.act {
	case actNone:
		for i, v := range src {
			dst[i] = v + b
		}
	case actReLU:
		for i, v := range src {
			v += b
			if v < 0 {
				v = 0
			}
			dst[i] = v
		}
	case actLeaky:
		s := ep.slope
		for i, v := range src {
			v += b
			if v < 0 {
				v *= s
			}
			dst[i] = v
		}
	}
	if ep.scale != nil {
		s, t := ep.scale[c], ep.shift[c]
		for i, v := range dst {
			dst[i] = v*s + t
		}
	}
}

// apply32 is apply for float32 on the vectorised loops of package vec.
func (ep *epilogue[T]) apply32(dst, src, res []float32, c int) {
	var b float32
	if ep.bias != nil {
		b = float32(ep.bias[c])
	}
	if res != nil {
		vec.AddBias(dst, src, b)
		vec.Add(dst, dst, res)
		src, b = dst, 0
	}
	switch ep.act {
	case actNone:
		vec.AddBias(dst, src, b)
	case actReLU:
		vec.AddBiasReLU(dst, src, b)
	case actLeaky:
		vec.AddBiasLeaky(dst, src, b, float32(ep.slope))
	}
	if ep.scale != nil {
		vec.ScaleShift(dst, dst, float32(ep.scale[c]), float32(ep.shift[c]))
	}
}

// pspace maps GEMM columns to output positions: column p is (p/plane, p%plane/row, p%row),
// valid when inside od×oh×ow. The implicit path computes on the padded input grid, whose
// extra columns are discarded here.
type pspace struct {
	plane, row int
	od, oh, ow int
	segLen     int // > 0: column p is in segment p/segLen (depth slice), offset p%segLen
}

// storeBlock writes GEMM columns j0…j0+nc-1 of sample n (cb: cout rows, stride ldc) to y,
// one contiguous row segment at a time, through the epilogue.
func storeBlock[T Float](cb []T, ldc, j0, nc int, ps pspace, y []T, yl layout, n, cout int, ep *epilogue[T]) {
	cs := yl.chanSz()
	hasRes := ep != nil && ep.res != nil
	var rcs int
	if hasRes {
		rcs = ep.resL.chanSz()
	}
	for j := 0; j < nc; {
		p := j0 + j
		var od, r int
		if ps.segLen > 0 {
			od = p / ps.segLen
			r = p - od*ps.segLen
		} else {
			od = p / ps.plane
			r = p - od*ps.plane
		}
		oh := r / ps.row
		ow := r - oh*ps.row
		seg := min(nc-j, ps.row-ow)
		if ps.segLen > 0 {
			seg = min(seg, ps.segLen-r)
		}
		if od < ps.od && oh < ps.oh && ow < ps.ow {
			valid := min(seg, ps.ow-ow)
			d0 := yl.idx(n, 0, od, oh, ow)
			var r0 int
			if hasRes {
				r0 = ep.resL.idx(n, 0, od, oh, ow)
			}
			for co := 0; co < cout; co++ {
				o := d0 + co*cs
				var res []T
				if hasRes {
					res = ep.res[r0+co*rcs : r0+co*rcs+valid]
				}
				ep.apply(y[o:o+valid], cb[co*ldc+j:co*ldc+j+valid], res, co)
			}
		}
		j += seg
	}
}

// convForward computes y = conv(x) (+ epilogue) for every sample. x and y may have any halo;
// when x's halo does not cover the padding, each sample is first copied into a padded scratch.
// w is the packed Cout × Cin·kvol weight matrix.
func convForward[T Float](g convGeom, w *gemm.PackedA[T], x []T, xl layout, y []T, yl layout, ep *epilogue[T]) {
	od, oh, ow, err := g.out(xl.D, xl.H, xl.W)
	if err != nil {
		panic(err)
	}
	if yl.D != od || yl.H != oh || yl.W != ow || yl.C != g.cout || xl.C != g.cin || yl.N != xl.N {
		panic(ShapeError(fmt.Sprintf("nn: conv output layout %v does not match input %v and geometry %+v", yl, xl, g)))
	}
	nr := gemm.NR[T]()
	// cols returns the GEMM column space over a sample of layout l and its column count.
	// Small planes of volumes get one column segment per output slice, which skips the
	// padding rows between slices.
	cols := func(l layout) (pspace, int) {
		if !g.unitStride() {
			return pspace{plane: oh * ow, row: ow, od: od, oh: oh, ow: ow}, od * oh * ow
		}
		ps, nc := pspace{plane: l.plane(), row: l.wp(), od: od, oh: oh, ow: ow}, (od-1)*l.plane()+(oh-1)*l.wp()+ow
		if od > 1 {
			per := (oh-1)*l.wp() + ow
			if s := roundUp(per, nr); s < ps.plane {
				ps.segLen = s
				nc = (od-1)*s + per
			}
		}
		return ps, nc
	}
	// reach is how far past a sample's start the implicit GEMM reads for offset 0: the start
	// of the last NR tile of columns, mapped through the segments, plus NR (as gemm.Run checks).
	reach := func(ps pspace, nc int) int {
		last := roundUp(nc, nr) - nr
		if ps.segLen > 0 {
			last = last/ps.segLen*ps.plane + last%ps.segLen
		}
		return last + nr
	}
	// The input is used in place when its halo covers the padding and (implicit GEMM) the
	// last tile's reads stay inside the buffer; otherwise samples go through a padded scratch.
	src, sl := x, xl
	perSample := !g.haloCovers(xl)
	if !perSample && g.unitStride() {
		ps, nc := cols(xl)
		perSample = (xl.N-1)*xl.sample()+int(maxOffset(g.offsets(xl)))+reach(ps, nc) > len(x)
	}
	if perSample {
		sl = layout{N: 1, C: xl.C, D: xl.D, H: xl.H, W: xl.W, pd: g.p[0], ph: g.p[1], pw: g.p[2]}
	}
	off := g.offsets(sl)
	ps, ncols := cols(sl)
	threads := gemm.Threads()
	sampleParallel := xl.N > 1 && threads > 1 && ncols < 8*nr*threads
	run := func(n int, scratch []T, th int) {
		var xs []T
		if perSample {
			copyInto(scratch, sl, x[n*xl.sample():], denseOrSample(xl))
			xs = scratch
		} else {
			xs = src[n*sl.sample():]
		}
		p := &gemm.Problem[T]{A: w, N: ncols, Threads: th, FixedOrder: true,
			Store: func(cb []T, ldc, j0, nc int) {
				storeBlock(cb, ldc, j0, nc, ps, y, yl, n, g.cout, ep)
			}}
		if g.unitStride() {
			p.B, p.BOff = xs, off
			if ps.segLen > 0 {
				p.SegLen, p.SegStride = ps.segLen, ps.plane
			}
		} else {
			p.PackB = func(dst []T, nr, k0, kc, j0, nc int) {
				packStrided(dst, nr, k0, kc, j0, nc, xs, off, sl, g, oh, ow)
			}
		}
		gemm.Run(p)
	}
	newScratch := func() []T {
		if !perSample {
			return nil
		}
		s := make([]T, sl.size())
		return s
	}
	if sampleParallel {
		scratch := make([][]T, parallel.Workers(xl.N, threads))
		_ = parallel.For(context.Background(), xl.N, threads, func(w, n int) error {
			if scratch[w] == nil {
				scratch[w] = newScratch()
			}
			run(n, scratch[w], 1)
			return nil
		})
		return
	}
	scratch := newScratch()
	for n := 0; n < xl.N; n++ {
		run(n, scratch, 0)
	}
}

func maxOffset(off []int32) int32 {
	var m int32
	for _, o := range off {
		m = max(m, o)
	}
	return m
}

func roundUp(a, b int) int { return (a + b - 1) / b * b }

// denseOrSample returns the layout of one sample of l (N = 1), for copying sample by sample.
func denseOrSample(l layout) layout {
	l.N = 1
	return l
}

// packStrided gathers the im2col panel of a strided convolution: column j (an output
// position) and row k hold xs[base(j) + off[k]].
func packStrided[T Float](dst []T, nr, k0, kc, j0, nc int, xs []T, off []int32, sl layout, g convGeom, oh, ow int) {
	var bases [64]int
	plane, wp := sl.plane(), sl.wp()
	sd, sh, sw := g.s[0]*plane, g.s[1]*wp, g.s[2]
	for q := 0; q*nr < nc; q++ {
		panel := dst[q*kc*nr : (q+1)*kc*nr]
		cols := min(nr, nc-q*nr)
		p := j0 + q*nr
		d := p / (oh * ow)
		r := p - d*oh*ow
		h := r / ow
		w := r - h*ow
		sameRow := w+cols <= ow
		for j := 0; j < cols; j++ {
			bases[j] = d*sd + h*sh + w*sw
			if w++; w == ow {
				w = 0
				if h++; h == oh {
					h, d = 0, d+1
				}
			}
		}
		if sameRow {
			// The columns are one output row: a strided run of the input.
			b0 := bases[0]
			for k := 0; k < kc; k++ {
				src := xs[b0+int(off[k0+k]):]
				src = src[:(cols-1)*sw+1]
				row := panel[k*nr : k*nr+nr]
				for j := 0; j < cols; j++ {
					row[j] = src[j*sw]
				}
				clear(row[cols:])
			}
			continue
		}
		for k := 0; k < kc; k++ {
			o := int(off[k0+k])
			row := panel[k*nr : k*nr+nr]
			for j := 0; j < cols; j++ {
				row[j] = xs[bases[j]+o]
			}
			clear(row[cols:])
		}
	}
}

// convBackwardData computes dx = ∂L/∂x of the convolution from dy (both dense layouts). Unit
// strides run as a convolution of dy with the flipped, transposed kernel; other strides
// multiply by Wᵀ and scatter the columns back (col2im).
func convBackwardData[T Float](g convGeom, w []T, dy []T, yl layout, dx []T, xl layout) {
	flipPads := [3][2]int{}
	ok := g.unitStride()
	for i := range 3 {
		flipPads[i] = [2]int{g.k[i] - 1 - g.p[i][0], g.k[i] - 1 - g.p[i][1]}
		ok = ok && flipPads[i][0] >= 0 && flipPads[i][1] >= 0
	}
	if ok {
		gt := convGeom{cin: g.cout, cout: g.cin, k: g.k, s: g.s, p: flipPads}
		kv := g.kvol()
		wt := make([]T, len(w))
		for co := 0; co < g.cout; co++ {
			for ci := 0; ci < g.cin; ci++ {
				src := w[(co*g.cin+ci)*kv : (co*g.cin+ci+1)*kv]
				dst := wt[(ci*g.cout+co)*kv : (ci*g.cout+co+1)*kv]
				for i, v := range src {
					dst[kv-1-i] = v
				}
			}
		}
		convForward(gt, gemm.PackA(false, g.cin, g.cout*kv, wt, g.cout*kv), dy, yl, dx, xl, nil)
		return
	}
	// col2im: dcol = Wᵀ·dy per sample, scattered into a padded scratch.
	sl := layout{N: 1, C: xl.C, D: xl.D, H: xl.H, W: xl.W, pd: g.p[0], ph: g.p[1], pw: g.p[2]}
	off := g.offsets(sl)
	R := g.kdim()
	wtp := gemm.PackA(true, R, g.cout, w, R)
	P := yl.D * yl.H * yl.W
	plane, wp := sl.plane(), sl.wp()
	scratch := make([]T, sl.size())
	var mu sync.Mutex
	for n := 0; n < xl.N; n++ {
		clear(scratch)
		dyn := dy[n*yl.sample() : (n+1)*yl.sample()]
		gemm.Run(&gemm.Problem[T]{A: wtp, N: P,
			PackB: func(dst []T, nr, k0, kc, j0, nc int) {
				gemm.PackB(dst, false, dyn, P, nr, k0, kc, j0, nc)
			},
			Store: func(cb []T, ldc, j0, nc int) {
				mu.Lock()
				defer mu.Unlock()
				for j := 0; j < nc; j++ {
					p := j0 + j
					d := p / (yl.H * yl.W)
					r := p - d*yl.H*yl.W
					h := r / yl.W
					wv := r - h*yl.W
					base := d*g.s[0]*plane + h*g.s[1]*wp + wv*g.s[2]
					for ri := 0; ri < R; ri++ {
						scratch[base+int(off[ri])] += cb[ri*ldc+j]
					}
				}
			}})
		copyInto(dx[n*xl.sample():], denseOrSample(xl), scratch, sl)
	}
}

// convBackwardWeight accumulates ∂L/∂W (Cout × Cin·kvol, PyTorch order) and, when db is not
// nil, ∂L/∂b into dw and db from the input x and dy (dense layouts).
func convBackwardWeight[T Float](g convGeom, x []T, xl layout, dy []T, yl layout, dw, db []T) {
	sl := layout{N: 1, C: xl.C, D: xl.D, H: xl.H, W: xl.W, pd: g.p[0], ph: g.p[1], pw: g.p[2]}
	off := g.offsets(sl)
	R := g.kdim()
	P := yl.D * yl.H * yl.W
	plane, wp := sl.plane(), sl.wp()
	scratch := make([]T, sl.size())
	for n := 0; n < xl.N; n++ {
		copyInto(scratch, sl, x[n*xl.sample():], denseOrSample(xl))
		dyn := dy[n*yl.sample() : (n+1)*yl.sample()]
		if db != nil {
			for co := 0; co < g.cout; co++ {
				var s T
				for _, v := range dyn[co*P : (co+1)*P] {
					s += v
				}
				db[co] += s
			}
		}
		gemm.Run(&gemm.Problem[T]{A: gemm.PackA(false, g.cout, P, dyn, P), N: R,
			PackB: func(dst []T, nr, k0, kc, j0, nc int) {
				// Row k is output position k0+k, column j is im2col row j0+j.
				d0 := k0 / (yl.H * yl.W)
				r0 := k0 - d0*yl.H*yl.W
				h0 := r0 / yl.W
				w0 := r0 - h0*yl.W
				for q := 0; q*nr < nc; q++ {
					panel := dst[q*kc*nr : (q+1)*kc*nr]
					cols := min(nr, nc-q*nr)
					o := off[j0+q*nr : j0+q*nr+cols]
					d, h, w := d0, h0, w0
					for k := 0; k < kc; k++ {
						src := scratch[d*g.s[0]*plane+h*g.s[1]*wp+w*g.s[2]:]
						row := panel[k*nr : k*nr+nr]
						for j, oj := range o {
							row[j] = src[oj]
						}
						clear(row[cols:])
						if w++; w == yl.W {
							w = 0
							if h++; h == yl.H {
								h, d = 0, d+1
							}
						}
					}
				}
			},
			Store: func(cb []T, ldc, j0, nc int) {
				for co := 0; co < g.cout; co++ {
					dst := dw[co*R+j0 : co*R+j0+nc]
					for j, v := range cb[co*ldc : co*ldc+nc] {
						dst[j] += v
					}
				}
			}})
	}
}
