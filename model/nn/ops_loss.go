package nn

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/spago/mat"
)

// LossKind selects an element-wise regression loss.
type LossKind uint8

const (
	// MSE is the mean squared error, mean((y−t)²).
	MSE LossKind = iota
	// SmoothL1 is PyTorch's smooth L1 (Huber with β): 0.5·d²/β if |d| < β, |d| − β/2 otherwise.
	SmoothL1
	// L1 is the mean absolute error.
	L1
)

// LossFn is the autograd function of a mean regression loss between a prediction and a
// constant target, optionally weighted per element (weights scale each term; the mean is
// over all elements).
type LossFn[T Float] struct {
	Y      mat.Tensor
	Target []T
	Weight []T // nil: all ones
	Kind   LossKind
	Beta   float64 // SmoothL1 threshold (PyTorch default 1)
}

// Loss returns the scalar mean loss between y and target (same length as y, NCDHW order).
// weight may be nil; beta is SmoothL1's threshold (ignored otherwise).
func Loss[T Float](kind LossKind, y Tensor, target, weight []T, beta float64) (Tensor, error) {
	n := y.Shape.Size()
	if len(target) != n || (weight != nil && len(weight) != n) {
		return Tensor{}, ShapeError(fmt.Sprintf("nn: loss on %v with %d targets and %d weights", y.Shape, len(target), len(weight)))
	}
	if kind == SmoothL1 && beta <= 0 {
		return Tensor{}, fmt.Errorf("nn: smooth L1 needs beta > 0, got %v", beta)
	}
	if _, ok := y.Node.Value().(*mat.Dense[T]); !ok {
		return Tensor{}, fmt.Errorf("nn: loss target type does not match the prediction's")
	}
	return run(&LossFn[T]{Y: y.Node, Target: target, Weight: weight, Kind: kind, Beta: beta}, Shape{1, 1}), nil
}

// Operands implements ag.AutoGradFunction.
func (f *LossFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.Y} }

func (f *LossFn[T]) term(d float64) (v, dv float64) {
	switch f.Kind {
	case SmoothL1:
		if math.Abs(d) < f.Beta {
			return 0.5 * d * d / f.Beta, d / f.Beta
		}
		if d > 0 {
			return d - 0.5*f.Beta, 1
		}
		return -d - 0.5*f.Beta, -1
	case L1:
		if d > 0 {
			return d, 1
		} else if d < 0 {
			return -d, -1
		}
		return 0, 0
	default:
		return d * d, 2 * d
	}
}

// Forward implements ag.AutoGradFunction.
func (f *LossFn[T]) Forward() (mat.Tensor, error) {
	y := dataOf[T](f.Y)
	var s float64
	for i, v := range y {
		t, _ := f.term(float64(v) - float64(f.Target[i]))
		if f.Weight != nil {
			t *= float64(f.Weight[i])
		}
		s += t
	}
	return mat.Scalar(T(s / float64(len(y)))), nil
}

// Backward implements ag.AutoGradFunction.
func (f *LossFn[T]) Backward(gy mat.Tensor) error {
	if !f.Y.RequiresGrad() {
		return nil
	}
	g := float64(mat.Data[T](gy)[0])
	y := dataOf[T](f.Y)
	dy := make([]T, len(y))
	k := g / float64(len(y))
	for i, v := range y {
		_, d := f.term(float64(v) - float64(f.Target[i]))
		if f.Weight != nil {
			d *= float64(f.Weight[i])
		}
		dy[i] = T(k * d)
	}
	f.Y.AccGrad(mat.NewDense[T](mat.WithShape(f.Y.Value().Shape()...), mat.WithBacking(dy)))
	return nil
}
