package nn

import (
	"fmt"
	"slices"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// Float is the element type of tensors: float32 for training and inference, float64 for
// gradient checks.
type Float interface{ float32 | float64 }

// Shape is the logical shape of an activation, batch first: (N, F) for features, (N, C, L)
// for 1-D maps, (N, C, H, W) for images and (N, C, D, H, W) for volumes (z, y, x).
type Shape []int

// Size is the number of elements.
func (s Shape) Size() int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// Batch is s[0].
func (s Shape) Batch() int { return s[0] }

// Features is the number of elements per sample.
func (s Shape) Features() int { return Shape(s[1:]).Size() }

func (s Shape) String() string { return fmt.Sprint([]int(s)) }

// spatial returns the volume layout (N, C, D, H, W) of a 3-, 4- or 5-D shape.
func (s Shape) layout() layout {
	switch len(s) {
	case 5:
		return denseLayout(s[0], s[1], s[2], s[3], s[4])
	case 4:
		return denseLayout(s[0], s[1], 1, s[2], s[3])
	case 3:
		return denseLayout(s[0], s[1], 1, 1, s[2])
	case 2:
		return denseLayout(s[0], s[1], 1, 1, 1)
	}
	panic(ShapeError(fmt.Sprintf("nn: shape %v has no volume layout", s)))
}

// Tensor is an activation in spago's autograd graph: Node is a spago node (a *mat.Dense[T],
// an *nn.Param or an *ag.Operator) whose value is a *mat.Dense[T] of shape
// [N, C·D·H·W] holding the flat NCDHW (or NCHW, NCL, NF) buffer in row-major order, and
// Shape is its logical shape. After ag.Backward, Node.Grad() holds ∂L/∂Tensor in the same
// layout (for inputs created with NewInput(…, true) and for every intermediate activation).
type Tensor struct {
	Node  mat.Tensor
	Shape Shape
}

// NewInput wraps data (len = shape.Size(), NCDHW order, not copied) as a graph input. With
// requiresGrad the backward pass computes ∂L/∂input (input-gradient heat maps).
func NewInput[T Float](data []T, shape Shape, requiresGrad bool) (Tensor, error) {
	if len(shape) < 2 || shape.Size() != len(data) || shape.Size() == 0 {
		return Tensor{}, fmt.Errorf("nn: input of %d values does not match shape %v", len(data), shape)
	}
	d := mat.NewDense[T](mat.WithShape(shape[0], shape.Features()), mat.WithBacking(data), mat.WithGrad(requiresGrad))
	return Tensor{Node: d, Shape: slices.Clone(shape)}, nil
}

// Data returns the values of t (shared, not copied) as a []T.
func Data[T Float](t Tensor) []T {
	return dataOf[T](t.Node)
}

// Grad returns ∂L/∂t after a backward pass (nil when no gradient reached t).
func Grad[T Float](t Tensor) []T {
	g := t.Node.Grad()
	if g == nil {
		return nil
	}
	return dataOf[T](g)
}

// Values returns t's values as float32 whatever its element type (a copy for float64).
func (t Tensor) Values() []float32 {
	return t.Node.Value().Data().F32()
}

// Reshape returns t viewed with another shape of the same size (the node is shared, so the
// gradient flows through unchanged); Flatten is Reshape to (N, features).
func (t Tensor) Reshape(shape Shape) Tensor {
	if shape.Size() != t.Shape.Size() || shape[0] != t.Shape[0] {
		panic(ShapeError(fmt.Sprintf("nn: cannot reshape %v to %v", t.Shape, shape)))
	}
	return Tensor{Node: t.Node, Shape: slices.Clone(shape)}
}

// Flatten views t as (N, features).
func (t Tensor) Flatten() Tensor { return t.Reshape(Shape{t.Shape[0], t.Shape.Features()}) }

// Backward runs the backward pass from t: a scalar loss, or any tensor whose output gradient
// is given as seed (same layout as t, for example a one-hot on one output for saliency).
func Backward[T Float](t Tensor, seed []T) error {
	if seed != nil {
		if len(seed) != t.Shape.Size() {
			return fmt.Errorf("nn: gradient seed has %d values, tensor %v", len(seed), t.Shape)
		}
		t.Node.AccGrad(newDense(t.Shape, slices.Clone(seed)))
	}
	return ag.Backward(t.Node)
}

// dataOf returns the backing slice of a node's value (not a copy).
func dataOf[T Float](n mat.Tensor) []T {
	return mat.Data[T](n.Value())
}

// newDense wraps data as an [N, features] matrix of shape s.
func newDense[T Float](s Shape, data []T) *mat.Dense[T] {
	return mat.NewDense[T](mat.WithShape(s[0], s.Features()), mat.WithBacking(data))
}

// alloc returns a zeroed buffer for n values with spare capacity for implicit-GEMM reads.
func alloc[T Float](n int) []T {
	return make([]T, n, n+tailSlack)
}

// isF64 reports whether the node holds float64 values.
func isF64(n mat.Tensor) bool {
	_, ok := n.Value().(*mat.Dense[float64])
	return ok
}
