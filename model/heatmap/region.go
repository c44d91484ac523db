package heatmap

import (
	"fmt"
	"math"
	"slices"

	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
)

// This file holds the occlusion map's incremental engine. A window changes
// a small part of the input; a convolution's output can only change where
// its kernel reads changed input, so each layer is recomputed only on the
// rectangle its changed input reaches, from the original activations
// elsewhere. For a 45 mm window the score network's eight layers then
// cost about a tenth of a full forward pass, with the same result: the
// recomputed region sees exactly the values a full re-run would (zero
// padding at the image border, original activations outside the changed
// rectangle). TestRegionMatchesFullRerun checks it.

// rect is a half-open rectangle of an activation grid: rows y0…y1-1,
// columns x0…x1-1.
type rect struct{ y0, y1, x0, x1 int }

func (r rect) empty() bool { return r.y1 <= r.y0 || r.x1 <= r.x0 }
func (r rect) h() int      { return r.y1 - r.y0 }
func (r rect) w() int      { return r.x1 - r.x0 }
func (r rect) area() int {
	if r.empty() {
		return 0
	}
	return r.h() * r.w()
}

// stage is one convolution of a chain with its evaluation-mode batch
// normalisation folded into the weights, its activation and an optional
// batch normalisation after the activation (a per-channel affine).
type stage struct {
	cin, cout      int
	kh, kw, sh, sw int
	pt, pl         int // top and left zero padding
	inH, inW       int
	outH, outW     int
	w              *gemm.PackedA[float32]
	bias           []float32
	act            nn.ActKind
	slope          float32
	scale, shift   []float32 // post-activation affine, or nil
}

// chain is a network made only of 2-D convolutions, batch normalisations,
// activations and (inactive) dropout: the score network's architecture.
type chain struct {
	stages        []*stage
	inC, inH, inW int
}

// errNotChain reports a network the incremental engine cannot run; the
// occlusion map then re-runs the whole network for every window.
var errNotChain = fmt.Errorf("heatmap: network is not a plain chain of 2-D convolutions")

// newChain extracts the convolution chain of net (float32 parameters).
func newChain(net *nn.Net) (*chain, error) {
	if len(net.Input) != 3 {
		return nil, fmt.Errorf("%w: input %v", errNotChain, net.Input)
	}
	ch := &chain{inC: net.Input[0], inH: net.Input[1], inW: net.Input[2]}
	c, h, w := ch.inC, ch.inH, ch.inW
	ls := net.Layers
	for i := 0; i < len(ls); {
		cv, ok := ls[i].(*nn.Conv)
		if !ok || cv.Dims != 2 || cv.In != c {
			return nil, fmt.Errorf("%w: layer %d is %T", errNotChain, i, ls[i])
		}
		i++
		if _, ok := cv.W.Value().(*mat.Dense[float32]); !ok {
			return nil, fmt.Errorf("%w: layer %d has no float32 weights", errNotChain, i-1)
		}
		s := &stage{cin: cv.In, cout: cv.Out, kh: cv.Kernel[1], kw: cv.Kernel[2], sh: cv.Stride[1], sw: cv.Stride[2],
			pt: cv.Pad[1][0], pl: cv.Pad[2][0], inH: h, inW: w}
		s.outH = (h+cv.Pad[1][0]+cv.Pad[1][1]-s.kh)/s.sh + 1
		s.outW = (w+cv.Pad[2][0]+cv.Pad[2][1]-s.kw)/s.sw + 1
		if s.outH < 1 || s.outW < 1 {
			return nil, fmt.Errorf("%w: layer %d has no output", errNotChain, i-1)
		}
		raw := slices.Clone(mat.Data[float32](cv.W.Value()))
		s.bias = make([]float32, s.cout)
		if cv.B != nil {
			copy(s.bias, mat.Data[float32](cv.B.Value()))
		}
		kd := s.cin * s.kh * s.kw
		if i < len(ls) {
			if bn, ok := ls[i].(*nn.BatchNorm); ok {
				sc, sf := bnAffine(bn)
				for co := 0; co < s.cout; co++ {
					row := raw[co*kd : (co+1)*kd]
					for k := range row {
						row[k] *= sc[co]
					}
					s.bias[co] = s.bias[co]*sc[co] + sf[co]
				}
				i++
			}
		}
		if i < len(ls) {
			if a, ok := ls[i].(*nn.Activation); ok {
				s.act, s.slope = a.Kind, float32(a.Slope)
				i++
				if i < len(ls) {
					if bn, ok := ls[i].(*nn.BatchNorm); ok {
						s.scale, s.shift = bnAffine(bn)
						i++
					}
				}
			}
		}
		for i < len(ls) {
			if _, ok := ls[i].(*nn.DropoutLayer); !ok {
				break
			}
			i++
		}
		s.w = gemm.PackA(false, s.cout, kd, raw, kd)
		ch.stages = append(ch.stages, s)
		c, h, w = s.cout, s.outH, s.outW
	}
	if len(ch.stages) == 0 {
		return nil, fmt.Errorf("%w: no layers", errNotChain)
	}
	return ch, nil
}

// bnAffine returns an evaluation-mode batch normalisation as y = x·scale +
// shift per channel.
func bnAffine(bn *nn.BatchNorm) (scale, shift []float32) {
	g := mat.Data[float32](bn.Weight.Value())
	b := mat.Data[float32](bn.Bias.Value())
	scale = make([]float32, bn.C)
	shift = make([]float32, bn.C)
	for c := range scale {
		s := float64(g[c]) / math.Sqrt(bn.RunningVar[c]+bn.Eps)
		scale[c] = float32(s)
		shift[c] = float32(float64(b[c]) - bn.RunningMean[c]*s)
	}
	return scale, shift
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// outRect returns the output positions of s whose kernel reads any input
// in r.
func (s *stage) outRect(r rect) rect {
	if r.empty() {
		return rect{}
	}
	o := rect{
		y0: max(0, floorDiv(r.y0+s.pt-s.kh+1+s.sh-1, s.sh)),
		y1: min(s.outH, floorDiv(r.y1-1+s.pt, s.sh)+1),
		x0: max(0, floorDiv(r.x0+s.pl-s.kw+1+s.sw-1, s.sw)),
		x1: min(s.outW, floorDiv(r.x1-1+s.pl, s.sw)+1),
	}
	if o.empty() {
		return rect{}
	}
	return o
}

// patch holds the values of one activation on a rectangle: channel c at
// (y, x) is data[c*ld + off + (y-r.y0)*r.w() + (x-r.x0)].
type patch struct {
	r       rect
	data    []float32
	ld, off int
}

// job is one window travelling through the chain.
type job struct {
	p   patch
	out rect
	off int
}

// workspace holds one worker's scratch buffers.
type workspace struct {
	b, tile []float32
	c       [2][]float32
	cur     int
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n, n+n/4)
	}
	return s[:n]
}

// run applies stage s to a batch of jobs whose current patches are
// changes of the activation orig (the stage's full input, nil when the
// patches cover all of it). The outputs land in ws.c[ws.cur] and become
// the jobs' patches.
func (s *stage) run(jobs []*job, orig []float32, ws *workspace) {
	n := 0
	for _, j := range jobs {
		j.out = s.outRect(j.p.r)
		j.off = n
		n += j.out.area()
	}
	k := s.cin * s.kh * s.kw
	ws.cur ^= 1
	ws.c[ws.cur] = grow(ws.c[ws.cur], s.cout*n)
	out := ws.c[ws.cur]
	if n == 0 {
		for _, j := range jobs {
			j.p = patch{r: rect{}, data: out}
		}
		return
	}
	ws.b = grow(ws.b, k*n)
	b := ws.b
	for _, j := range jobs {
		if j.out.empty() {
			continue
		}
		s.im2col(j, orig, b, n, ws)
	}
	gemm.Run(&gemm.Problem[float32]{
		A: s.w,
		N: n,
		PackB: func(dst []float32, nr, k0, kc, j0, nc int) {
			gemm.PackB(dst, false, b, n, nr, k0, kc, j0, nc)
		},
		Store: func(cb []float32, ldc, j0, nc int) {
			for co := 0; co < s.cout; co++ {
				src := cb[co*ldc : co*ldc+nc]
				dst := out[co*n+j0 : co*n+j0+nc]
				bias := s.bias[co]
				for i, v := range src {
					v += bias
					switch s.act {
					case nn.ActReLU:
						v = max(v, 0)
					case nn.ActLeakyReLU:
						if v < 0 {
							v *= s.slope
						}
					case nn.ActSigmoid:
						v = float32(1 / (1 + math.Exp(-float64(v))))
					}
					dst[i] = v
				}
				if s.scale != nil {
					sc, sf := s.scale[co], s.shift[co]
					for i, v := range dst {
						dst[i] = v*sc + sf
					}
				}
			}
		},
		Threads: 1,
	})
	for _, j := range jobs {
		j.p = patch{r: j.out, data: out, ld: n, off: j.off}
	}
}

// im2col writes the columns of job j (its output rectangle) into b (k rows
// of n values): the input tile the kernels read is assembled first from
// orig and the job's patch, with zeros outside the image.
func (s *stage) im2col(j *job, orig []float32, b []float32, n int, ws *workspace) {
	o := j.out
	rh, rw := o.h(), o.w()
	ty0, tx0 := o.y0*s.sh-s.pt, o.x0*s.sw-s.pl
	th, tw := (rh-1)*s.sh+s.kh, (rw-1)*s.sw+s.kw
	ws.tile = grow(ws.tile, s.cin*th*tw)
	tile := ws.tile
	p := j.p
	pw := p.r.w()
	plane := s.inH * s.inW
	for ci := 0; ci < s.cin; ci++ {
		for ty := 0; ty < th; ty++ {
			y := ty0 + ty
			row := tile[(ci*th+ty)*tw : (ci*th+ty+1)*tw]
			if y < 0 || y >= s.inH {
				clear(row)
				continue
			}
			// columns tx0 … tx0+tw-1 of row y: zero outside the image, the
			// original inside, the patch over its rectangle
			xa, xb := max(tx0, 0), min(tx0+tw, s.inW)
			clear(row[:max(0, xa-tx0)])
			if xb < tx0+tw {
				clear(row[max(0, xb-tx0):])
			}
			if orig != nil && xb > xa {
				copy(row[xa-tx0:xb-tx0], orig[ci*plane+y*s.inW+xa:ci*plane+y*s.inW+xb])
			}
			if y >= p.r.y0 && y < p.r.y1 {
				pa, pb := max(xa, p.r.x0), min(xb, p.r.x1)
				if pb > pa {
					base := ci*p.ld + p.off + (y-p.r.y0)*pw
					copy(row[pa-tx0:pb-tx0], p.data[base+pa-p.r.x0:base+pb-p.r.x0])
				}
			} else if orig == nil {
				panic("heatmap: patch does not cover the input")
			}
		}
	}
	area := rh * rw
	for ci := 0; ci < s.cin; ci++ {
		for ky := 0; ky < s.kh; ky++ {
			for kx := 0; kx < s.kw; kx++ {
				kk := (ci*s.kh+ky)*s.kw + kx
				dst := b[kk*n+j.off : kk*n+j.off+area]
				for oy := 0; oy < rh; oy++ {
					src := tile[(ci*th+oy*s.sh+ky)*tw+kx:]
					d := dst[oy*rw : (oy+1)*rw]
					if s.sw == 1 {
						copy(d, src[:rw])
						continue
					}
					for ox := range d {
						d[ox] = src[ox*s.sw]
					}
				}
			}
		}
	}
}

// forward runs the whole chain on x (inC × inH × inW) and returns every
// activation: acts[0] is x, acts[i] the output of stage i-1.
func (ch *chain) forward(x []float32, ws *workspace) [][]float32 {
	acts := [][]float32{x}
	j := &job{p: patch{r: rect{0, ch.inH, 0, ch.inW}, data: x, ld: ch.inH * ch.inW}}
	for _, s := range ch.stages {
		s.run([]*job{j}, nil, ws)
		acts = append(acts, slices.Clone(j.p.data[:s.cout*s.outH*s.outW]))
	}
	return acts
}

// changed runs a batch of jobs (patches of the input that differ from
// acts[0]) through the chain; each job's patch ends as the changed
// rectangle of the output (valid until the workspace is reused).
func (ch *chain) changed(jobs []*job, acts [][]float32, ws *workspace) {
	for i, s := range ch.stages {
		s.run(jobs, acts[i], ws)
	}
}
