package spec

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"sscscore/model/nn"
)

// Options controls Build.
type Options struct {
	Seed    uint64 // parameter initialisation (deterministic)
	Float64 bool   // build in float64 (gradient checks); default float32
}

// Build turns s into a network with freshly initialised parameters (He-normal convolutions,
// PyTorch-default linear layers, BatchNorm γ=1 β=0).
func Build(s Spec, opt Options) (*nn.Net, error) {
	r := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x5851f42d4c957f2d))
	b := &builder{params: true, f64: opt.Float64, rand: r}
	n, err := b.net(s)
	if err != nil {
		return nil, err
	}
	return n, nil
}

type builder struct {
	params bool // allocate parameters (false: shapes only, for Count)
	f64    bool
	rand   *rand.Rand
	visit  func(l Layer, m nn.Layer, in, out nn.Shape)
}

func (b *builder) net(s Spec) (*nn.Net, error) {
	if len(s.Input) != 3 && len(s.Input) != 4 {
		return nil, fmt.Errorf("spec %s: input %v must be (C, H, W) or (C, D, H, W)", s.Name, s.Input)
	}
	for _, v := range s.Input {
		if v < 1 {
			return nil, fmt.Errorf("spec %s: input %v", s.Name, s.Input)
		}
	}
	in := append(nn.Shape{1}, s.Input...)
	layers, _, err := b.layers(s.Layers, in)
	if err != nil {
		return nil, fmt.Errorf("spec %s: %w", s.Name, err)
	}
	return &nn.Net{Name: s.Name, Input: nn.Shape(append([]int(nil), s.Input...)), Layers: layers}, nil
}

func (b *builder) layers(ls []Layer, in nn.Shape) ([]nn.Layer, nn.Shape, error) {
	out := make([]nn.Layer, 0, len(ls))
	for i, l := range ls {
		what := fmt.Sprintf("layer %d (%s)", i, l.Type)
		if l.Name != "" {
			what = fmt.Sprintf("layer %d (%s %q)", i, l.Type, l.Name)
		}
		m, err := b.layer(l, in)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		next, err := m.OutShape(in)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", what, err)
		}
		if b.visit != nil {
			b.visit(l, m, in, next)
		}
		out = append(out, m)
		in = next
	}
	return out, in, nil
}

// axes expands a per-axis list (one value, or one per spatial axis) to (d, h, w).
func axes(v []int, dims int, def int, what string) ([3]int, error) {
	r := [3]int{1, def, def}
	if dims == 3 {
		r[0] = def
	}
	switch len(v) {
	case 0:
	case 1:
		r[1], r[2] = v[0], v[0]
		if dims == 3 {
			r[0] = v[0]
		}
	case dims:
		copy(r[3-dims:], v)
	default:
		return r, fmt.Errorf("%s %v: give 1 or %d values", what, v, dims)
	}
	for _, x := range r {
		if x < 0 {
			return r, fmt.Errorf("%s %v is negative", what, v)
		}
	}
	return r, nil
}

// pads expands pad (1 value, one per axis, or befores then afters) to (d, h, w) pairs.
func pads(v []int, dims int) ([3][2]int, error) {
	var p [3][2]int
	if len(v) == 2*dims {
		for i := 0; i < dims; i++ {
			p[3-dims+i] = [2]int{v[i], v[dims+i]}
		}
	} else {
		a, err := axes(v, dims, 0, "pad")
		if err != nil {
			return p, fmt.Errorf("pad %v: give 1, %d or %d values", v, dims, 2*dims)
		}
		if dims == 2 {
			a[0] = 0
		}
		for i := range 3 {
			p[i] = [2]int{a[i], a[i]}
		}
	}
	for _, x := range p {
		if x[0] < 0 || x[1] < 0 {
			return p, fmt.Errorf("pad %v is negative", v)
		}
	}
	return p, nil
}

func dimsOf(in nn.Shape) (int, error) {
	switch len(in) {
	case 4:
		return 2, nil
	case 5:
		return 3, nil
	}
	return 0, fmt.Errorf("needs a (N, C, H, W) or (N, C, D, H, W) input, got %v", in)
}

func actKind(s string) (nn.ActKind, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return nn.ActNone, nil
	case "relu":
		return nn.ActReLU, nil
	case "leakyrelu":
		return nn.ActLeakyReLU, nil
	case "sigmoid":
		return nn.ActSigmoid, nil
	}
	return 0, fmt.Errorf("unknown activation %q", s)
}

func (b *builder) layer(l Layer, in nn.Shape) (nn.Layer, error) {
	switch strings.ToLower(l.Type) {
	case "conv":
		dims, err := dimsOf(in)
		if err != nil {
			return nil, err
		}
		if l.Out < 1 {
			return nil, fmt.Errorf("conv needs out ≥ 1")
		}
		k, err := axes(l.Kernel, dims, 0, "kernel")
		if err != nil {
			return nil, err
		}
		if k[0] < 1 || k[1] < 1 || k[2] < 1 {
			return nil, fmt.Errorf("conv needs a kernel, got %v", l.Kernel)
		}
		s, err := axes(l.Stride, dims, 1, "stride")
		if err != nil {
			return nil, err
		}
		if s[0] < 1 || s[1] < 1 || s[2] < 1 {
			return nil, fmt.Errorf("stride %v must be ≥ 1", l.Stride)
		}
		p, err := pads(l.Pad, dims)
		if err != nil {
			return nil, err
		}
		bias := l.Bias == nil || *l.Bias
		if !b.params { // shapes only (Count)
			return &nn.Conv{Name: l.Name, Dims: dims, In: in[1], Out: l.Out, Kernel: k, Stride: s, Pad: p}, nil
		}
		if b.f64 {
			return nn.NewConv[float64](l.Name, dims, in[1], l.Out, k, s, p, bias, b.rand), nil
		}
		return nn.NewConv[float32](l.Name, dims, in[1], l.Out, k, s, p, bias, b.rand), nil
	case "bn", "batchnorm":
		dims, err := dimsOf(in)
		if err != nil {
			return nil, err
		}
		if !b.params {
			return &nn.BatchNorm{Name: l.Name, Dims: dims, C: in[1]}, nil
		}
		if b.f64 {
			return nn.NewBatchNorm[float64](l.Name, dims, in[1]), nil
		}
		return nn.NewBatchNorm[float32](l.Name, dims, in[1]), nil
	case "relu":
		return &nn.Activation{Kind: nn.ActReLU}, nil
	case "leakyrelu":
		slope := l.P
		if slope == 0 {
			slope = 0.01
		}
		return &nn.Activation{Kind: nn.ActLeakyReLU, Slope: slope}, nil
	case "sigmoid":
		return &nn.Activation{Kind: nn.ActSigmoid}, nil
	case "maxpool", "avgpool":
		dims, err := dimsOf(in)
		if err != nil {
			return nil, err
		}
		k, err := axes(l.Kernel, dims, 0, "kernel")
		if err != nil {
			return nil, err
		}
		if k[0] < 1 || k[1] < 1 || k[2] < 1 {
			return nil, fmt.Errorf("pooling needs a kernel, got %v", l.Kernel)
		}
		s := k
		if len(l.Stride) > 0 {
			if s, err = axes(l.Stride, dims, 1, "stride"); err != nil {
				return nil, err
			}
		}
		if s[0] < 1 || s[1] < 1 || s[2] < 1 {
			return nil, fmt.Errorf("stride %v must be ≥ 1", l.Stride)
		}
		p, err := pads(l.Pad, dims)
		if err != nil {
			return nil, err
		}
		return &nn.Pool{Max: strings.EqualFold(l.Type, "maxpool"), Kernel: k, Stride: s, Pad: p}, nil
	case "adaptiveavgpool", "gap":
		dims, err := dimsOf(in)
		if err != nil {
			return nil, err
		}
		size := l.Size
		if strings.EqualFold(l.Type, "gap") {
			size = []int{1}
		}
		o, err := axes(size, dims, 0, "size")
		if err != nil {
			return nil, err
		}
		return &nn.AdaptivePool{Out: o}, nil
	case "linear":
		if len(in) != 2 {
			return nil, fmt.Errorf("linear layer on %v: flatten first", in)
		}
		if l.Out < 1 {
			return nil, fmt.Errorf("linear needs out ≥ 1")
		}
		bias := l.Bias == nil || *l.Bias
		if !b.params {
			return &nn.Linear{Name: l.Name, In: in[1], Out: l.Out}, nil
		}
		if b.f64 {
			return nn.NewLinear[float64](l.Name, in[1], l.Out, bias, b.rand), nil
		}
		return nn.NewLinear[float32](l.Name, in[1], l.Out, bias, b.rand), nil
	case "dropout":
		if l.P < 0 || l.P >= 1 {
			return nil, fmt.Errorf("dropout p %v must be in [0, 1)", l.P)
		}
		return &nn.DropoutLayer{P: l.P}, nil
	case "flatten":
		return &nn.Reshape{}, nil
	case "reshape":
		return &nn.Reshape{To: nn.Shape(append([]int(nil), l.Size...))}, nil
	case "softargmax":
		return &nn.SoftArgmaxLayer{}, nil
	case "affine":
		return &nn.Affine{A: l.A, B: l.B}, nil
	case "residual":
		act, err := actKind(l.Act)
		if err != nil {
			return nil, err
		}
		body, _, err := b.layers(l.Body, in)
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		sc, _, err := b.layers(l.Shortcut, in)
		if err != nil {
			return nil, fmt.Errorf("shortcut: %w", err)
		}
		slope := 0.0
		if act == nn.ActLeakyReLU {
			slope = 0.01
		}
		return &nn.Residual{Name: l.Name, Body: body, Shortcut: sc, Act: act, Slope: slope}, nil
	}
	return nil, fmt.Errorf("unknown layer type %q", l.Type)
}
