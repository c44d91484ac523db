package nn

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"
	"github.com/nlpodyssey/spago/optimizers/adam"

	"sscscore/model/nn/gemm"
)

// Net is a network: a sequence of layers (which may be residual blocks) applied to inputs of
// per-sample shape Input. Build one from a spec with package spec.
type Net struct {
	nn.Module
	Name   string
	Input  Shape // per-sample input shape: (C, H, W) or (C, D, H, W)
	Layers []Layer
}

// Forward runs the network in the autograd graph (ctx.Mode selects training or evaluation
// behaviour). The result's Node can be fed to a loss and ag.Backward.
func (n *Net) Forward(ctx *Ctx, x Tensor) Tensor {
	for _, l := range n.Layers {
		x = l.Forward(ctx, x)
	}
	return x
}

// ForwardAll is Forward that also returns the output of every top-level layer (acts[i] is
// the output of Layers[i]; the last is the network output). After a backward pass,
// Grad(acts[i]) is the gradient with respect to that activation (Grad-CAM).
func (n *Net) ForwardAll(ctx *Ctx, x Tensor) []Tensor {
	acts := make([]Tensor, len(n.Layers))
	for i, l := range n.Layers {
		x = l.Forward(ctx, x)
		acts[i] = x
	}
	return acts
}

// Shapes returns the per-layer output shapes for a batch of one.
func (n *Net) Shapes() ([]Shape, error) {
	s := append(Shape{1}, n.Input...)
	out := make([]Shape, len(n.Layers))
	for i, l := range n.Layers {
		var err error
		if s, err = l.OutShape(s); err != nil {
			return nil, fmt.Errorf("nn: %s layer %d: %w", n.Name, i, err)
		}
		out[i] = s
	}
	return out, nil
}

// OutShape returns the output shape for a batch of batch inputs.
func (n *Net) OutShape(batch int) (Shape, error) {
	s := append(Shape{batch}, n.Input...)
	return chainShape(n.Layers, s)
}

// StateDict lists the parameters and buffers under their PyTorch names, in module order.
func (n *Net) StateDict() []NamedTensor {
	var out []NamedTensor
	for _, l := range n.Layers {
		l.Tensors(func(t NamedTensor) { out = append(out, t) })
	}
	return out
}

// Params returns the trainable parameters in state-dict order.
func (n *Net) Params() []*nn.Param {
	var ps []*nn.Param
	for _, t := range n.StateDict() {
		if t.Param != nil {
			ps = append(ps, t.Param)
		}
	}
	return ps
}

// NumParams counts the trainable parameters.
func (n *Net) NumParams() int {
	c := 0
	for _, p := range n.Params() {
		c += p.Value().Size()
	}
	return c
}

// ZeroGrad clears the gradients of every parameter.
func (n *Net) ZeroGrad() {
	for _, p := range n.Params() {
		p.ZeroGrad()
	}
}

// NewInput wraps data as a batch of inputs for n (per-sample shape n.Input, the batch size is
// inferred) in n's element type; see the package-level NewInput.
func NewNetInput[T Float](n *Net, data []T, requiresGrad bool) (Tensor, error) {
	per := n.Input.Size()
	if per == 0 || len(data)%per != 0 || len(data) == 0 {
		return Tensor{}, ShapeError(fmt.Sprintf("nn: %d values are not a batch of %v inputs", len(data), n.Input))
	}
	return NewInput(data, append(Shape{len(data) / per}, n.Input...), requiresGrad)
}

// Adam is spago's Adam (or AdamW) strategy applied synchronously: Step returns only when
// every parameter has been updated, unlike optimizers.Optimizer.Optimize.
type Adam struct {
	*adam.Adam
}

// NewAdam returns an optimiser for cfg (adam.NewDefaultConfig(), adam.NewConfig or
// adam.NewAdamWConfig for decoupled weight decay).
func NewAdam(cfg adam.Config) *Adam { return &Adam{Adam: adam.New(cfg)} }

// Step applies one update to every parameter that has a gradient, clears the gradients and
// advances the time step. Parameters are updated concurrently natively.
func (a *Adam) Step(params []*nn.Param) error {
	var todo []*nn.Param
	for _, p := range params {
		if p.HasGrad() {
			todo = append(todo, p)
		}
	}
	errs := make([]error, len(todo))
	gemm.ParallelRange(len(todo), 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			errs[i] = a.OptimizeParams(todo[i])
		}
	})
	a.IncExample()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("nn: adam step: %w", err)
		}
	}
	return nil
}

// paramData returns a parameter's values.
func paramData[T Float](p *nn.Param) []T { return mat.Data[T](p.Value()) }

// paramIsF64 reports whether a parameter holds float64 values.
func paramIsF64(p *nn.Param) bool {
	_, ok := p.Value().(*mat.Dense[float64])
	return ok
}
