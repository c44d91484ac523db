package nn

import (
	"fmt"
	"math"
	"slices"
	"time"

	"sscscore/model/nn/gemm"
)

// Plan is a Net compiled for fast float32 inference (evaluation mode) at a fixed batch size:
//
//   - no autograd nodes and no gradients: Run is plain loops over three or so reused buffers;
//   - BatchNorm after a convolution is folded into its weights and bias; bias, activation,
//     a BatchNorm after the activation (per-channel affine) and a residual addition are
//     applied while each output block is stored (fused epilogue);
//   - weights are packed once for the GEMM micro-kernel;
//   - activations keep the zero halo their consumer convolution needs, so convolutions never
//     copy or pad their input, and dropout is skipped.
//
// Peak activation memory is the sum of the buffers (see ActivationBytes): each buffer is sized
// for the largest activation (with its halo) it holds, and at most three are live at once
// (input, output and, inside residual blocks, the shortcut). Results are deterministic and do
// not depend on the number of threads. A Plan is not safe for concurrent Runs.
type Plan struct {
	net     *Net
	batch   int
	in, out Shape
	vals    []*pvalue
	steps   []pstep
	outV    int // output value
	bufs    [][]float32
	weights int // bytes of packed weights and per-channel vectors
	scratch int // bytes of step-owned scratch (phase-split inputs of strided stems)
	result  []float32
}

// pvalue is an activation of the plan: its layout (halo decided at compile time), the buffer
// holding it and its last reader.
type pvalue struct {
	l       layout
	shape   Shape
	alias   int // value whose buffer this one views (reshape), or -1
	buf     int
	lastUse int
	dense   bool // must stay halo-free (flat readers)
}

// pstep is one operation of a plan.
type pstep struct {
	ins []int
	out int
	op  planOp
	// inPlace: the op may write its output over its (last-used) first input.
	inPlace bool
}

type planOp interface {
	run(p *Plan, ins [][]float32, inL []layout, out []float32, outL layout)
	name() string
}

// CompileOptions tunes Compile.
type CompileOptions struct {
	// UpTo compiles only Layers[:UpTo] (0: all), for example to read the heat maps before a
	// soft-argmax head.
	UpTo int
}

// Compile prepares n for inference on batches of batch inputs.
func Compile(n *Net, batch int, opt CompileOptions) (*Plan, error) {
	if batch < 1 {
		return nil, fmt.Errorf("nn: plan batch %d", batch)
	}
	for _, p := range n.Params() {
		if paramIsF64(p) {
			return nil, fmt.Errorf("nn: %s: plans run float32 networks", n.Name)
		}
	}
	layers := n.Layers
	if opt.UpTo > 0 {
		layers = layers[:min(opt.UpTo, len(layers))]
	}
	p := &Plan{net: n, batch: batch, in: append(Shape{batch}, n.Input...)}
	x := p.newValue(p.in)
	out, err := p.compile(layers, x)
	if err != nil {
		return nil, fmt.Errorf("nn: compiling %s: %w", n.Name, err)
	}
	p.out = slices.Clone(p.vals[out].shape)
	p.outV = out
	p.root(out).dense = true
	p.root(x).lastUse = max(p.root(x).lastUse, 0)
	p.assignHalos()
	if err := p.allocate(x, out); err != nil {
		return nil, err
	}
	p.result = make([]float32, p.out.Size())
	return p, nil
}

func (p *Plan) newValue(s Shape) int {
	l := denseLayout(1, 1, 1, 1, 1)
	if len(s) >= 2 {
		l = s.layout()
	}
	p.vals = append(p.vals, &pvalue{l: l, shape: slices.Clone(s), alias: -1, lastUse: -1})
	return len(p.vals) - 1
}

func (p *Plan) root(v int) *pvalue {
	for p.vals[v].alias >= 0 {
		v = p.vals[v].alias
	}
	return p.vals[v]
}

func (p *Plan) emit(op planOp, out Shape, inPlace bool, ins ...int) int {
	o := p.newValue(out)
	for _, i := range ins {
		p.root(i).lastUse = len(p.steps)
	}
	p.steps = append(p.steps, pstep{ins: ins, out: o, op: op, inPlace: inPlace})
	return o
}

// compile emits the steps of a layer sequence starting from value x and returns the output.
func (p *Plan) compile(layers []Layer, x int) (int, error) {
	for i := 0; i < len(layers); i++ {
		in := p.vals[x].shape
		out, err := layers[i].OutShape(in)
		if err != nil {
			return 0, err
		}
		switch l := layers[i].(type) {
		case *Conv:
			st := newConvStep(l, in)
			p.scratch += 4 * len(st.phase)
			// Fold a following BatchNorm, then take an activation and a BatchNorm after it.
			if i+1 < len(layers) {
				if bn, ok := layers[i+1].(*BatchNorm); ok {
					st.foldBN(bn)
					i++
				}
			}
			if i+1 < len(layers) {
				if a, ok := layers[i+1].(*Activation); ok && (a.Kind == ActReLU || a.Kind == ActLeakyReLU) {
					st.setAct(a.Kind, a.Slope)
					i++
					if i+1 < len(layers) {
						if bn, ok := layers[i+1].(*BatchNorm); ok {
							st.postBN(bn)
							i++
						}
					}
				}
			}
			x = p.emit(st, out, false, x)
			p.weights += st.bytes()
		case *BatchNorm:
			scale, shift := bnAffine(l)
			x = p.emit(&affineStep{scale: scale, shift: shift}, out, true, x)
		case *Activation:
			x = p.emit(&actStep{kind: l.Kind, slope: float32(l.Slope)}, out, true, x)
		case *Affine:
			x = p.emit(&actStep{kind: ActNone, a: float32(l.A), b: float32(l.B)}, out, true, x)
		case *Pool:
			x = p.emit(&poolStep{g: l.geom(), max: l.Max}, out, false, x)
		case *AdaptivePool:
			x = p.emit(&adaptiveStep{}, out, false, x)
		case *DropoutLayer:
			// Identity in evaluation mode.
		case *Reshape:
			p.root(x).dense = true
			v := p.newValue(out)
			p.vals[v].alias = x
			x = v
		case *Linear:
			p.root(x).dense = true
			st := newLinearStep(l)
			p.weights += st.bytes()
			x = p.emit(st, out, false, x)
		case *SoftArgmaxLayer:
			p.root(x).dense = true
			x = p.emit(&softArgmaxStep{}, out, false, x)
		case *Residual:
			var err error
			if x, err = p.compileResidual(l, x); err != nil {
				return 0, err
			}
		default:
			return 0, fmt.Errorf("layer %T cannot be compiled", l)
		}
		if got := p.vals[x].shape; !slices.Equal(got, out) {
			return 0, fmt.Errorf("internal: layer %T gives %v, expected %v", layers[i], got, out)
		}
	}
	return x, nil
}

func (p *Plan) compileResidual(r *Residual, x int) (int, error) {
	sc := x
	if len(r.Shortcut) > 0 {
		var err error
		if sc, err = p.compile(r.Shortcut, x); err != nil {
			return 0, err
		}
	}
	n0 := len(p.steps)
	y, err := p.compile(r.Body, x)
	if err != nil {
		return 0, err
	}
	// Fuse the addition (and the block's activation) into the body's last convolution when
	// nothing else follows it.
	if len(p.steps) > n0 {
		last := &p.steps[len(p.steps)-1]
		if cs, ok := last.op.(*convStep); ok && last.out == y && cs.act == actNone && cs.scale == nil && cs.resIn < 0 {
			if r.Act == ActSigmoid {
				return 0, fmt.Errorf("%s: sigmoid after a residual addition is not supported", r.Name)
			}
			cs.resIn = len(last.ins)
			last.ins = append(last.ins, sc)
			p.root(sc).lastUse = len(p.steps) - 1
			cs.setAct(r.Act, r.Slope)
			return y, nil
		}
	}
	out := p.vals[y].shape
	o := p.emit(&addStep{}, out, false, y, sc)
	if r.Act != ActNone {
		o = p.emit(&actStep{kind: r.Act, slope: float32(r.Slope)}, out, true, o)
	}
	return o, nil
}

// assignHalos gives every value the zero halo its convolution readers need.
func (p *Plan) assignHalos() {
	for _, st := range p.steps {
		cs, ok := st.op.(*convStep)
		if !ok {
			continue
		}
		v := p.root(st.ins[0])
		if v.dense {
			continue // the convolution pads per sample instead
		}
		h := [3][2]int{v.l.pd, v.l.ph, v.l.pw}
		for a := range 3 {
			for s := range 2 {
				h[a][s] = max(h[a][s], cs.g.p[a][s])
			}
		}
		v.l = v.l.withHalo(h[0], h[1], h[2])
	}
	// Aliases share their root's (dense) layout; a value viewed through a reshape is dense.
	for _, v := range p.vals {
		if v.alias >= 0 {
			v.l = v.shape.layout()
		}
	}
}

// allocate assigns buffers to values by liveness and sizes them.
func (p *Plan) allocate(in, out int) error {
	p.root(out).lastUse = len(p.steps) // the result must survive the last step
	var holders []int                  // buffer → root value currently in it (-1 free)
	var sizes []int
	place := func(v *pvalue, vid int, at int, avoid []int) {
		for b, h := range holders {
			if slices.Contains(avoid, b) {
				continue
			}
			if h < 0 || p.vals[h].lastUse < at {
				holders[b] = vid
				v.buf = b
				sizes[b] = max(sizes[b], v.l.size())
				return
			}
		}
		holders = append(holders, vid)
		sizes = append(sizes, v.l.size())
		v.buf = len(holders) - 1
	}
	place(p.root(in), p.rootID(in), 0, nil)
	for i, st := range p.steps {
		v := p.vals[st.out]
		var avoid []int
		for _, x := range st.ins {
			avoid = append(avoid, p.root(x).buf)
		}
		if st.inPlace {
			src := p.root(st.ins[0])
			if src.lastUse == i && src.l == v.l {
				v.buf = src.buf
				holders[v.buf] = st.out
				continue
			}
		}
		place(v, st.out, i+1, avoid)
	}
	for _, v := range p.vals {
		if v.alias >= 0 {
			v.buf = p.root(v.alias).buf
		}
	}
	p.bufs = make([][]float32, len(sizes))
	for b, n := range sizes {
		p.bufs[b] = make([]float32, n)
	}
	return nil
}

func (p *Plan) rootID(v int) int {
	for p.vals[v].alias >= 0 {
		v = p.vals[v].alias
	}
	return v
}

// InputShape and OutputShape are the plan's batch shapes.
func (p *Plan) InputShape() Shape  { return slices.Clone(p.in) }
func (p *Plan) OutputShape() Shape { return slices.Clone(p.out) }

// ActivationBytes is the memory held by the activation buffers (and step scratch).
func (p *Plan) ActivationBytes() int {
	n := p.scratch
	for _, b := range p.bufs {
		n += 4 * len(b)
	}
	return n
}

// WeightBytes is the memory held by the packed weights, biases and folded statistics.
func (p *Plan) WeightBytes() int { return p.weights }

// LargestActivation is the number of elements of the largest activation (halo excluded).
func (p *Plan) LargestActivation() int {
	m := 0
	for _, v := range p.vals {
		m = max(m, v.shape.Size())
	}
	return m
}

// Buffers reports how many activation buffers the plan uses.
func (p *Plan) Buffers() int { return len(p.bufs) }

// Steps describes the compiled operations, one line each.
func (p *Plan) Steps() []string {
	var s []string
	for _, st := range p.steps {
		v := p.vals[st.out]
		s = append(s, fmt.Sprintf("%s -> %v (buffer %d)", st.op.name(), v.shape, p.root(st.out).buf))
	}
	return s
}

// Run computes the network's output for input (NCDHW, InputShape().Size() values). The
// returned slice is reused by the next Run.
func (p *Plan) Run(input []float32) ([]float32, error) {
	return p.run(input, nil)
}

// RunProfiled is Run that also returns the wall time of every step (see Steps).
func (p *Plan) RunProfiled(input []float32) ([]float32, []time.Duration, error) {
	times := make([]time.Duration, len(p.steps))
	out, err := p.run(input, times)
	return out, times, err
}

func (p *Plan) run(input []float32, times []time.Duration) ([]float32, error) {
	if len(input) != p.in.Size() {
		return nil, ShapeError(fmt.Sprintf("nn: %s: input has %d values, plan expects %v", p.net.Name, len(input), p.in))
	}
	v0 := p.root(0)
	buf := p.bufs[v0.buf]
	zeroHalo(buf, v0.l)
	copyInto(buf, v0.l, input, p.in.layout())
	for i, st := range p.steps {
		ins := make([][]float32, len(st.ins))
		inL := make([]layout, len(st.ins))
		for i, x := range st.ins {
			ins[i] = p.bufs[p.root(x).buf]
			inL[i] = p.vals[x].l
		}
		var t0 time.Time
		if times != nil {
			t0 = time.Now()
		}
		st.op.run(p, ins, inL, p.bufs[p.root(st.out).buf], p.vals[st.out].l)
		if times != nil {
			times[i] = time.Since(t0)
		}
	}
	res := p.vals[p.outV]
	copyInto(p.result, p.out.layout(), p.bufs[p.root(p.outV).buf], res.l)
	return p.result, nil
}

// convStep is a convolution with folded BatchNorm and fused epilogue.
//
// A strided convolution with few input channels (a stem) runs as a unit-stride convolution
// over the phase-split input (space-to-depth: channel (c, r) holds x[i·s + r]) with the
// kernel split accordingly, so that it reads its input in place through the implicit GEMM
// instead of gathering an im2col panel.
type convStep struct {
	g     convGeom
	w     *gemm.PackedA[float32]
	bias  []float32
	act   actKind
	slope float32
	scale []float32 // BatchNorm after the activation
	shift []float32
	resIn int // index in ins of the residual input, or -1
	// raw weights until packing (BatchNorm folding edits them)
	raw []float32

	// Phase split (strided stems): geometry of the unit-stride convolution, phases per axis
	// and the scratch holding the split input.
	pg    convGeom
	nph   [3]int
	phase []float32
	pl    layout
}

func newConvStep(c *Conv, in Shape) *convStep {
	st := &convStep{g: c.geom(), resIn: -1}
	st.raw = slices.Clone(paramData[float32](c.W))
	st.bias = make([]float32, c.Out)
	if c.B != nil {
		copy(st.bias, paramData[float32](c.B))
	}
	if !st.g.unitStride() && st.g.kdim() <= 64 {
		l := in.layout()
		od, oh, ow, _ := st.g.out(l.D, l.H, l.W)
		o := [3]int{od, oh, ow}
		var kq, dims [3]int
		for a := range 3 {
			kq[a] = (st.g.k[a] + st.g.s[a] - 1) / st.g.s[a]
			st.nph[a] = min(st.g.s[a], st.g.k[a])
			dims[a] = o[a] + kq[a] - 1
		}
		st.pg = convGeom{cin: c.In * st.nph[0] * st.nph[1] * st.nph[2], cout: c.Out, k: kq, s: [3]int{1, 1, 1}}
		// Keep the taps (channel (ci, r), offset q) with s·q + r inside the kernel.
		t := int32(0)
		for ci := 0; ci < c.In; ci++ {
			for r0 := 0; r0 < st.nph[0]; r0++ {
				for r1 := 0; r1 < st.nph[1]; r1++ {
					for r2 := 0; r2 < st.nph[2]; r2++ {
						for q0 := 0; q0 < kq[0]; q0++ {
							for q1 := 0; q1 < kq[1]; q1++ {
								for q2 := 0; q2 < kq[2]; q2++ {
									if st.g.s[0]*q0+r0 < st.g.k[0] && st.g.s[1]*q1+r1 < st.g.k[1] && st.g.s[2]*q2+r2 < st.g.k[2] {
										st.pg.taps = append(st.pg.taps, t)
									}
									t++
								}
							}
						}
					}
				}
			}
		}
		st.pl = layout{N: l.N, C: st.pg.cin, D: dims[0], H: dims[1], W: dims[2]}
		st.phase = make([]float32, st.pl.size())
	}
	st.pack()
	return st
}

func (c *convStep) pack() {
	kd := c.g.kdim()
	if c.phase == nil {
		c.w = gemm.PackA(false, c.g.cout, kd, c.raw, kd)
		return
	}
	// W'[co][(ci, r)][q] = W[co][ci][s·q + r], keeping only the taps inside the kernel.
	g, pg := c.g, c.pg
	var w []float32
	for co := 0; co < g.cout; co++ {
		for ci := 0; ci < g.cin; ci++ {
			for r0 := 0; r0 < c.nph[0]; r0++ {
				for r1 := 0; r1 < c.nph[1]; r1++ {
					for r2 := 0; r2 < c.nph[2]; r2++ {
						for q0 := 0; q0 < pg.k[0]; q0++ {
							for q1 := 0; q1 < pg.k[1]; q1++ {
								for q2 := 0; q2 < pg.k[2]; q2++ {
									a, b, e := g.s[0]*q0+r0, g.s[1]*q1+r1, g.s[2]*q2+r2
									if a < g.k[0] && b < g.k[1] && e < g.k[2] {
										w = append(w, c.raw[((co*g.cin+ci)*g.k[0]+a)*g.k[1]*g.k[2]+b*g.k[2]+e])
									}
								}
							}
						}
					}
				}
			}
		}
	}
	pk := pg.kdim()
	c.w = gemm.PackA(false, g.cout, pk, w, pk)
}

// splitPhases fills the phase-split input: channel (ci, r0, r1, r2) at (i0, i1, i2) holds the
// zero-padded input at (i0·s0 + r0, i1·s1 + r1, i2·s2 + r2).
func (c *convStep) splitPhases(x []float32, xl layout) {
	g, pl := c.g, c.pl
	in := [3]int{xl.D, xl.H, xl.W}
	src := func(a, i, r int) int { return i*g.s[a] + r - g.p[a][0] } // interior coordinate
	for n := 0; n < pl.N; n++ {
		for ci := 0; ci < g.cin; ci++ {
			for r0 := 0; r0 < c.nph[0]; r0++ {
				for r1 := 0; r1 < c.nph[1]; r1++ {
					for r2 := 0; r2 < c.nph[2]; r2++ {
						pc := ((ci*c.nph[0]+r0)*c.nph[1]+r1)*c.nph[2] + r2
						for i0 := 0; i0 < pl.D; i0++ {
							z := src(0, i0, r0)
							for i1 := 0; i1 < pl.H; i1++ {
								y := src(1, i1, r1)
								row := c.phase[pl.idx(n, pc, i0, i1, 0):][:pl.W]
								if z < 0 || z >= in[0] || y < 0 || y >= in[1] {
									clear(row)
									continue
								}
								xr := x[xl.idx(n, ci, z, y, 0)-xl.pw[0]:][:xl.wp()]
								for i2 := range row {
									v := float32(0)
									if xx := src(2, i2, r2); xx >= 0 && xx < in[2] {
										v = xr[xx+xl.pw[0]]
									}
									row[i2] = v
								}
							}
						}
					}
				}
			}
		}
	}
}

// foldBN folds an evaluation-mode BatchNorm applied to the convolution's output.
func (c *convStep) foldBN(bn *BatchNorm) {
	scale, shift := bnAffine(bn)
	kd := c.g.kdim()
	for co := 0; co < c.g.cout; co++ {
		row := c.raw[co*kd : (co+1)*kd]
		for i := range row {
			row[i] *= scale[co]
		}
		c.bias[co] = c.bias[co]*scale[co] + shift[co]
	}
	c.pack()
}

func (c *convStep) setAct(k ActKind, slope float64) {
	switch k {
	case ActReLU:
		c.act = actReLU
	case ActLeakyReLU:
		c.act, c.slope = actLeaky, float32(slope)
	}
}

func (c *convStep) postBN(bn *BatchNorm) { c.scale, c.shift = bnAffine(bn) }

func (c *convStep) bytes() int {
	return c.w.Bytes() + 4*(len(c.bias)+len(c.scale)+len(c.shift))
}

func (c *convStep) name() string {
	return fmt.Sprintf("conv %d->%d k%v s%v", c.g.cin, c.g.cout, c.g.k, c.g.s)
}

func (c *convStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	ep := &epilogue[float32]{bias: c.bias, act: c.act, slope: c.slope, scale: c.scale, shift: c.shift}
	if c.resIn >= 0 {
		ep.res, ep.resL = ins[c.resIn], inL[c.resIn]
	}
	if c.phase != nil {
		c.splitPhases(ins[0], inL[0])
		convForward(c.pg, c.w, c.phase, c.pl, out, outL, ep)
	} else {
		convForward(c.g, c.w, ins[0], inL[0], out, outL, ep)
	}
	zeroHalo(out, outL)
}

// bnAffine returns the evaluation-mode BatchNorm as y = x·scale + shift per channel.
func bnAffine(bn *BatchNorm) (scale, shift []float32) {
	g := paramData[float32](bn.Weight)
	b := paramData[float32](bn.Bias)
	scale = make([]float32, bn.C)
	shift = make([]float32, bn.C)
	for c := range scale {
		s := float64(g[c]) / math.Sqrt(bn.RunningVar[c]+bn.Eps)
		scale[c] = float32(s)
		shift[c] = float32(float64(b[c]) - bn.RunningMean[c]*s)
	}
	return scale, shift
}

// affineStep is a standalone per-channel affine (a BatchNorm not after a convolution).
type affineStep struct{ scale, shift []float32 }

func (a *affineStep) name() string { return "batchnorm" }

func (a *affineStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	src, sl := ins[0], inL[0]
	outL.rows(func(n, c, d, h, off int) {
		s, t := a.scale[c], a.shift[c]
		in := src[sl.idx(n, c, d, h, 0):]
		for i := range out[off : off+outL.W] {
			out[off+i] = in[i]*s + t
		}
	})
	zeroHalo(out, outL)
}

// actStep is an element-wise activation (or constant affine a·x + b when kind is ActNone).
type actStep struct {
	kind  ActKind
	slope float32
	a, b  float32
}

func (a *actStep) name() string { return fmt.Sprintf("activation %d", a.kind) }

func (a *actStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	src, sl := ins[0], inL[0]
	outL.rows(func(n, c, d, h, off int) {
		in := src[sl.idx(n, c, d, h, 0):]
		dst := out[off : off+outL.W]
		in = in[:len(dst)]
		switch a.kind {
		case ActReLU:
			for i, v := range in {
				dst[i] = max(v, 0)
			}
		case ActLeakyReLU:
			for i, v := range in {
				if v < 0 {
					v *= a.slope
				}
				dst[i] = v
			}
		case ActSigmoid:
			for i, v := range in {
				dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		default:
			for i, v := range in {
				dst[i] = a.a*v + a.b
			}
		}
	})
	zeroHalo(out, outL)
}

// addStep is an element-wise sum (a residual addition that could not be fused).
type addStep struct{}

func (addStep) name() string { return "add" }

func (addStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	outL.rows(func(n, c, d, h, off int) {
		a := ins[0][inL[0].idx(n, c, d, h, 0):]
		b := ins[1][inL[1].idx(n, c, d, h, 0):]
		for i := range out[off : off+outL.W] {
			out[off+i] = a[i] + b[i]
		}
	})
	zeroHalo(out, outL)
}

type poolStep struct {
	g   poolGeom
	max bool
}

func (s *poolStep) name() string {
	if s.max {
		return fmt.Sprintf("maxpool k%v s%v", s.g.k, s.g.s)
	}
	return fmt.Sprintf("avgpool k%v s%v", s.g.k, s.g.s)
}

func (s *poolStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	if s.max {
		maxPoolForward(s.g, ins[0], inL[0], out, outL, nil)
	} else {
		avgPoolForward(s.g, ins[0], inL[0], out, outL)
	}
	zeroHalo(out, outL)
}

type adaptiveStep struct{}

func (adaptiveStep) name() string { return "adaptive avgpool" }

func (adaptiveStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	adaptiveAvgForward(ins[0], inL[0], out, outL)
	zeroHalo(out, outL)
}

// linearStep is a fully connected layer on a dense (N, in) input.
type linearStep struct {
	in, out int
	w       []float32 // out × in
	bias    []float32
}

func newLinearStep(l *Linear) *linearStep {
	s := &linearStep{in: l.In, out: l.Out, w: slices.Clone(paramData[float32](l.W)), bias: make([]float32, l.Out)}
	if l.B != nil {
		copy(s.bias, paramData[float32](l.B))
	}
	return s
}

func (s *linearStep) bytes() int { return 4 * (len(s.w) + len(s.bias)) }

func (s *linearStep) name() string { return fmt.Sprintf("linear %d->%d", s.in, s.out) }

func (s *linearStep) run(p *Plan, ins [][]float32, _ []layout, out []float32, _ layout) {
	x := ins[0]
	n := p.batch
	if n >= 4 {
		linearForward(x[:n*s.in], s.w, s.bias, out[:n*s.out], n, s.in, s.out)
		return
	}
	for b := 0; b < n; b++ {
		xb := x[b*s.in : (b+1)*s.in]
		yb := out[b*s.out : (b+1)*s.out]
		gemm.ParallelRange(s.out, 64, func(lo, hi int) {
			for o := lo; o < hi; o++ {
				yb[o] = dot(s.w[o*s.in:(o+1)*s.in], xb) + s.bias[o]
			}
		})
	}
}

// dot is a four-accumulator dot product.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

type softArgmaxStep struct{}

func (softArgmaxStep) name() string { return "soft-argmax" }

func (softArgmaxStep) run(_ *Plan, ins [][]float32, inL []layout, out []float32, outL layout) {
	l := inL[0].D * inL[0].H * inL[0].W
	rows := outL.N * outL.C
	pos, _ := SoftArgmaxRows(ins[0][:rows*l], l)
	copy(out, pos)
}

// SoftArgmaxRows returns, for each row of l heat-map values, the soft-argmax position in
// [0, 1] (index/(l-1) under softmax) and a confidence: the softmax mass within ±2 indices of
// that position.
func SoftArgmaxRows(heat []float32, l int) (pos, conf []float32) {
	rows := len(heat) / l
	pos = make([]float32, rows)
	conf = make([]float32, rows)
	prob := make([]float32, l)
	for r := 0; r < rows; r++ {
		softmaxRows(heat[r*l:(r+1)*l], prob, l)
		var s float64
		for i, q := range prob {
			s += float64(q) * float64(i)
		}
		pos[r] = float32(s / float64(max(l-1, 1)))
		c := int(math.Round(s))
		var m float64
		for i := max(0, c-2); i <= min(l-1, c+2); i++ {
			m += float64(prob[i])
		}
		conf[r] = float32(m)
	}
	return pos, conf
}
