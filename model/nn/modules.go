package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"
)

// Mode selects training behaviour (batch statistics in BatchNorm, active Dropout) or
// evaluation behaviour (running statistics, no dropout).
type Mode uint8

const (
	// Eval uses BatchNorm running statistics and disables dropout.
	Eval Mode = iota
	// Train normalises with batch statistics, updates the running averages and applies dropout.
	Train
)

// Ctx carries the mode and the random source of one forward pass through a Net.
type Ctx struct {
	Mode Mode
	Rand *rand.Rand // dropout masks (Train mode)
}

// NewCtx returns a context for one or more forward passes; seed makes dropout reproducible.
func NewCtx(mode Mode, seed uint64) *Ctx {
	return &Ctx{Mode: mode, Rand: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// NamedTensor is one entry of a network's state: a trainable parameter, a BatchNorm running
// statistic or a batch counter, under its PyTorch state_dict name and shape.
type NamedTensor struct {
	Name  string
	Shape []int     // PyTorch shape (conv weight O, I, [kD,] kH, kW; linear out × in; vectors)
	Param *nn.Param // weights and biases; nil for buffers
	Stat  []float64 // running_mean / running_var (float64 in memory, stored as float32)
	Count *int64    // num_batches_tracked (int64)
}

// Layer is a module of a Net: a spago model with a graph forward pass.
type Layer interface {
	nn.Model
	// Forward applies the layer to x in the autograd graph.
	Forward(ctx *Ctx, x Tensor) Tensor
	// OutShape returns the output shape for an input shape (batch first), or an error when the
	// layer cannot take that input.
	OutShape(in Shape) (Shape, error)
	// Tensors visits the layer's parameters and buffers under their PyTorch names.
	Tensors(visit func(NamedTensor))
}

// ActKind is an activation function.
type ActKind uint8

const (
	// ActNone is the identity.
	ActNone ActKind = iota
	// ActReLU is max(x, 0).
	ActReLU
	// ActLeakyReLU is x for x > 0, slope·x otherwise.
	ActLeakyReLU
	// ActSigmoid is 1/(1+e^-x).
	ActSigmoid
)

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func spatialDims(in Shape) (int, error) {
	switch len(in) {
	case 4:
		return 2, nil
	case 5:
		return 3, nil
	}
	return 0, ShapeError(fmt.Sprintf("nn: spatial layer on a %v tensor", in))
}

// newParam returns a trainable parameter of the given matrix shape filled by init.
func newParam[T Float](rows, cols int, init func() float64) *nn.Param {
	d := make([]T, rows*cols)
	for i := range d {
		d[i] = T(init())
	}
	return nn.NewParam(mat.NewDense[T](mat.WithShape(rows, cols), mat.WithBacking(d)))
}

// Conv is a 2-D or 3-D convolution module (PyTorch Conv2d/Conv3d, no groups or dilation).
type Conv struct {
	nn.Module
	Name    string // PyTorch module path, e.g. "features.0"
	Dims    int    // 2 or 3
	In, Out int
	Kernel  [3]int    // d, h, w (d = 1 in 2-D)
	Stride  [3]int    // d, h, w
	Pad     [3][2]int // before/after per axis
	W       *nn.Param // Out × In·kvol (PyTorch O, I, [kD,] kH, kW flattened)
	B       *nn.Param // Out × 1, or nil
}

// NewConv returns a convolution with He-normal weights (fan-in, for ReLU networks) and zero
// bias, in element type T.
func NewConv[T Float](name string, dims, in, out int, kernel, stride [3]int, pad [3][2]int, bias bool, r *rand.Rand) *Conv {
	kv := kernel[0] * kernel[1] * kernel[2]
	std := math.Sqrt(2 / float64(in*kv))
	c := &Conv{Name: name, Dims: dims, In: in, Out: out, Kernel: kernel, Stride: stride, Pad: pad,
		W: newParam[T](out, in*kv, func() float64 { return r.NormFloat64() * std })}
	if bias {
		c.B = newParam[T](out, 1, func() float64 { return 0 })
	}
	return c
}

// Forward implements Layer.
func (c *Conv) Forward(_ *Ctx, x Tensor) Tensor {
	var b mat.Tensor
	if c.B != nil {
		b = c.B
	}
	return Convolution(x, c.W, b, c.Out, c.Kernel, c.Stride, c.Pad)
}

func (c *Conv) geom() convGeom {
	return convGeom{cin: c.In, cout: c.Out, k: c.Kernel, s: c.Stride, p: c.Pad}
}

// OutShape implements Layer.
func (c *Conv) OutShape(in Shape) (Shape, error) {
	d, err := spatialDims(in)
	if err != nil || d != c.Dims {
		return nil, ShapeError(fmt.Sprintf("nn: %d-D convolution on input %v", c.Dims, in))
	}
	l := in.layout()
	if l.C != c.In {
		return nil, ShapeError(fmt.Sprintf("nn: convolution expects %d channels, input %v", c.In, in))
	}
	od, oh, ow, err := c.geom().out(l.D, l.H, l.W)
	if err != nil {
		return nil, err
	}
	return volumeShape(in, c.Out, od, oh, ow), nil
}

// Tensors implements Layer.
func (c *Conv) Tensors(visit func(NamedTensor)) {
	shape := []int{c.Out, c.In, c.Kernel[0], c.Kernel[1], c.Kernel[2]}
	if c.Dims == 2 {
		shape = []int{c.Out, c.In, c.Kernel[1], c.Kernel[2]}
	}
	visit(NamedTensor{Name: join(c.Name, "weight"), Shape: shape, Param: c.W})
	if c.B != nil {
		visit(NamedTensor{Name: join(c.Name, "bias"), Shape: []int{c.Out}, Param: c.B})
	}
}

// BatchNorm is PyTorch's BatchNorm2d/BatchNorm3d (affine, tracking running statistics).
type BatchNorm struct {
	nn.Module
	Name                    string
	Dims                    int
	C                       int
	Eps, Momentum           float64   // PyTorch defaults 1e-5, 0.1
	Weight, Bias            *nn.Param // γ, β (C × 1)
	RunningMean, RunningVar []float64
	NumBatches              int64
}

// NewBatchNorm returns a batch normalisation with γ = 1, β = 0 and unit running variance.
func NewBatchNorm[T Float](name string, dims, c int) *BatchNorm {
	bn := &BatchNorm{Name: name, Dims: dims, C: c, Eps: 1e-5, Momentum: 0.1,
		Weight:      newParam[T](c, 1, func() float64 { return 1 }),
		Bias:        newParam[T](c, 1, func() float64 { return 0 }),
		RunningMean: make([]float64, c), RunningVar: make([]float64, c)}
	for i := range bn.RunningVar {
		bn.RunningVar[i] = 1
	}
	return bn
}

// Forward implements Layer. In Train mode it also updates the running averages (with
// PyTorch's unbiased variance) and the batch counter.
func (b *BatchNorm) Forward(ctx *Ctx, x Tensor) Tensor {
	if ctx == nil || ctx.Mode != Train {
		return BatchNormalize(x, b.Weight, b.Bias, false, b.Eps, b.RunningMean, b.RunningVar)
	}
	mean := make([]float64, b.C)
	variance := make([]float64, b.C)
	y := BatchNormalize(x, b.Weight, b.Bias, true, b.Eps, mean, variance)
	m := float64(x.Shape.Size() / b.C)
	unbias := 1.0
	if m > 1 {
		unbias = m / (m - 1)
	}
	for c := range mean {
		// Rounded to float32 like PyTorch's buffers, so that saved weights reload exactly.
		b.RunningMean[c] = float64(float32((1-b.Momentum)*b.RunningMean[c] + b.Momentum*mean[c]))
		b.RunningVar[c] = float64(float32((1-b.Momentum)*b.RunningVar[c] + b.Momentum*variance[c]*unbias))
	}
	b.NumBatches++
	return y
}

// OutShape implements Layer.
func (b *BatchNorm) OutShape(in Shape) (Shape, error) {
	if d, err := spatialDims(in); err != nil || d != b.Dims || in[1] != b.C {
		return nil, ShapeError(fmt.Sprintf("nn: %d-D batch norm of %d channels on input %v", b.Dims, b.C, in))
	}
	return slices.Clone(in), nil
}

// Tensors implements Layer.
func (b *BatchNorm) Tensors(visit func(NamedTensor)) {
	visit(NamedTensor{Name: join(b.Name, "weight"), Shape: []int{b.C}, Param: b.Weight})
	visit(NamedTensor{Name: join(b.Name, "bias"), Shape: []int{b.C}, Param: b.Bias})
	visit(NamedTensor{Name: join(b.Name, "running_mean"), Shape: []int{b.C}, Stat: b.RunningMean})
	visit(NamedTensor{Name: join(b.Name, "running_var"), Shape: []int{b.C}, Stat: b.RunningVar})
	visit(NamedTensor{Name: join(b.Name, "num_batches_tracked"), Shape: []int{}, Count: &b.NumBatches})
}

// Activation applies an element-wise activation.
type Activation struct {
	nn.Module
	Kind  ActKind
	Slope float64 // LeakyReLU negative slope
}

// Forward implements Layer.
func (a *Activation) Forward(_ *Ctx, x Tensor) Tensor { return activate(x, a.Kind, a.Slope) }

func activate(x Tensor, k ActKind, slope float64) Tensor {
	switch k {
	case ActReLU:
		return ReLU(x)
	case ActLeakyReLU:
		return LeakyReLU(x, slope)
	case ActSigmoid:
		return Sigmoid(x)
	}
	return x
}

// OutShape implements Layer.
func (a *Activation) OutShape(in Shape) (Shape, error) { return slices.Clone(in), nil }

// Tensors implements Layer.
func (a *Activation) Tensors(func(NamedTensor)) {}

// Pool is a max or average pooling (PyTorch MaxPool/AvgPool 2d/3d, floor mode; average
// pooling counts the padding).
type Pool struct {
	nn.Module
	Max    bool
	Kernel [3]int
	Stride [3]int
	Pad    [3][2]int
}

func (p *Pool) geom() poolGeom { return poolGeom{k: p.Kernel, s: p.Stride, p: p.Pad} }

// Forward implements Layer.
func (p *Pool) Forward(_ *Ctx, x Tensor) Tensor {
	if p.Max {
		return MaxPool(x, p.Kernel, p.Stride, p.Pad)
	}
	return AvgPool(x, p.Kernel, p.Stride, p.Pad)
}

// OutShape implements Layer.
func (p *Pool) OutShape(in Shape) (Shape, error) {
	d, err := spatialDims(in)
	if err != nil {
		return nil, err
	}
	if d == 2 && (p.Kernel[0] != 1 || p.Stride[0] != 1 || p.Pad[0] != [2]int{}) {
		return nil, fmt.Errorf("nn: 2-D pooling with depth window %v", p.Kernel)
	}
	for i := range 3 {
		if p.Pad[i][0] > p.Kernel[i]/2 || p.Pad[i][1] > p.Kernel[i]/2 {
			return nil, fmt.Errorf("nn: pooling padding %v exceeds half the window %v", p.Pad, p.Kernel)
		}
	}
	l := in.layout()
	od, oh, ow, err := p.geom().out(l.D, l.H, l.W)
	if err != nil {
		return nil, err
	}
	return volumeShape(in, l.C, od, oh, ow), nil
}

// Tensors implements Layer.
func (p *Pool) Tensors(func(NamedTensor)) {}

// AdaptivePool is PyTorch's AdaptiveAvgPool2d/3d to a fixed output size (d, h, w; d = 1 in
// 2-D; sizes larger than the input repeat values, as in PyTorch). Out = (1, 1, 1) is global
// average pooling.
type AdaptivePool struct {
	nn.Module
	Out [3]int
}

// Forward implements Layer.
func (p *AdaptivePool) Forward(_ *Ctx, x Tensor) Tensor { return AdaptiveAvgPool(x, p.Out) }

// OutShape implements Layer.
func (p *AdaptivePool) OutShape(in Shape) (Shape, error) {
	d, err := spatialDims(in)
	if err != nil {
		return nil, err
	}
	l := in.layout()
	if (d == 2 && p.Out[0] != 1) || p.Out[0] < 1 || p.Out[1] < 1 || p.Out[2] < 1 {
		return nil, ShapeError(fmt.Sprintf("nn: adaptive pooling to %v of input %v", p.Out, in))
	}
	return volumeShape(in, l.C, p.Out[0], p.Out[1], p.Out[2]), nil
}

// Tensors implements Layer.
func (p *AdaptivePool) Tensors(func(NamedTensor)) {}

// Linear is a fully connected layer y = x·Wᵀ + b on (N, In) inputs.
type Linear struct {
	nn.Module
	Name    string
	In, Out int
	W       *nn.Param // Out × In
	B       *nn.Param // Out × 1, or nil
}

// NewLinear returns a linear layer with PyTorch's default initialisation
// (uniform ±1/√In for weights and bias).
func NewLinear[T Float](name string, in, out int, bias bool, r *rand.Rand) *Linear {
	bound := 1 / math.Sqrt(float64(in))
	u := func() float64 { return (r.Float64()*2 - 1) * bound }
	l := &Linear{Name: name, In: in, Out: out, W: newParam[T](out, in, u)}
	if bias {
		l.B = newParam[T](out, 1, u)
	}
	return l
}

// Forward implements Layer.
func (l *Linear) Forward(_ *Ctx, x Tensor) Tensor {
	var b mat.Tensor
	if l.B != nil {
		b = l.B
	}
	return FullyConnected(x, l.W, b)
}

// OutShape implements Layer.
func (l *Linear) OutShape(in Shape) (Shape, error) {
	if len(in) != 2 || in[1] != l.In {
		return nil, ShapeError(fmt.Sprintf("nn: linear layer of %d inputs on %v (flatten first)", l.In, in))
	}
	return Shape{in[0], l.Out}, nil
}

// Tensors implements Layer.
func (l *Linear) Tensors(visit func(NamedTensor)) {
	visit(NamedTensor{Name: join(l.Name, "weight"), Shape: []int{l.Out, l.In}, Param: l.W})
	if l.B != nil {
		visit(NamedTensor{Name: join(l.Name, "bias"), Shape: []int{l.Out}, Param: l.B})
	}
}

// DropoutLayer zeroes activations with probability P in Train mode.
type DropoutLayer struct {
	nn.Module
	P float64
}

// Forward implements Layer.
func (d *DropoutLayer) Forward(ctx *Ctx, x Tensor) Tensor {
	if ctx == nil || ctx.Mode != Train {
		return x
	}
	return Dropout(x, d.P, ctx.Rand)
}

// OutShape implements Layer.
func (d *DropoutLayer) OutShape(in Shape) (Shape, error) { return slices.Clone(in), nil }

// Tensors implements Layer.
func (d *DropoutLayer) Tensors(func(NamedTensor)) {}

// Reshape views activations with another per-sample shape (To, batch excluded); an empty To
// flattens to (N, features).
type Reshape struct {
	nn.Module
	To Shape
}

// Forward implements Layer.
func (r *Reshape) Forward(_ *Ctx, x Tensor) Tensor {
	s, err := r.OutShape(x.Shape)
	if err != nil {
		panic(err)
	}
	return x.Reshape(s)
}

// OutShape implements Layer.
func (r *Reshape) OutShape(in Shape) (Shape, error) {
	if len(r.To) == 0 {
		return Shape{in[0], in.Features()}, nil
	}
	s := append(Shape{in[0]}, r.To...)
	if s.Size() != in.Size() {
		return nil, ShapeError(fmt.Sprintf("nn: cannot reshape %v to per-sample %v", in, r.To))
	}
	return s, nil
}

// Tensors implements Layer.
func (r *Reshape) Tensors(func(NamedTensor)) {}

// SoftArgmaxLayer maps (N, C, L) heat maps (or (N, C, L, 1, 1)) to (N, C) positions in [0, 1].
type SoftArgmaxLayer struct{ nn.Module }

// Forward implements Layer.
func (s *SoftArgmaxLayer) Forward(_ *Ctx, x Tensor) Tensor { return SoftArgmax(x) }

// OutShape implements Layer.
func (s *SoftArgmaxLayer) OutShape(in Shape) (Shape, error) {
	if len(in) < 3 || Shape(in[3:]).Size() != 1 || in[2] < 2 {
		return nil, ShapeError(fmt.Sprintf("nn: soft-argmax needs (N, C, L≥2) heat maps, got %v", in))
	}
	return Shape{in[0], in[1]}, nil
}

// Tensors implements Layer.
func (s *SoftArgmaxLayer) Tensors(func(NamedTensor)) {}

// Affine multiplies by A and adds B (constants), for example to map a sigmoid to 0…100.
type Affine struct {
	nn.Module
	A, B float64
}

// Forward implements Layer.
func (a *Affine) Forward(_ *Ctx, x Tensor) Tensor { return ScaleShift(x, a.A, a.B) }

// OutShape implements Layer.
func (a *Affine) OutShape(in Shape) (Shape, error) { return slices.Clone(in), nil }

// Tensors implements Layer.
func (a *Affine) Tensors(func(NamedTensor)) {}

// Residual is a residual block: Act(Body(x) + Shortcut(x)), with an identity shortcut when
// Shortcut is empty (torchvision BasicBlock: Body conv1, bn1, relu, conv2, bn2; Shortcut
// "downsample" conv, bn).
type Residual struct {
	nn.Module
	Name     string
	Body     []Layer
	Shortcut []Layer
	Act      ActKind
	Slope    float64
}

// Forward implements Layer.
func (r *Residual) Forward(ctx *Ctx, x Tensor) Tensor {
	y := x
	for _, l := range r.Body {
		y = l.Forward(ctx, y)
	}
	s := x
	for _, l := range r.Shortcut {
		s = l.Forward(ctx, s)
	}
	return activate(Add(y, s), r.Act, r.Slope)
}

// OutShape implements Layer.
func (r *Residual) OutShape(in Shape) (Shape, error) {
	y, err := chainShape(r.Body, in)
	if err != nil {
		return nil, err
	}
	s, err := chainShape(r.Shortcut, in)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(y, s) {
		return nil, ShapeError(fmt.Sprintf("nn: residual body gives %v, shortcut %v", y, s))
	}
	return y, nil
}

// Tensors implements Layer.
func (r *Residual) Tensors(visit func(NamedTensor)) {
	for _, l := range r.Body {
		l.Tensors(visit)
	}
	for _, l := range r.Shortcut {
		l.Tensors(visit)
	}
}

func chainShape(ls []Layer, in Shape) (Shape, error) {
	s := slices.Clone(in)
	for _, l := range ls {
		var err error
		if s, err = l.OutShape(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}
