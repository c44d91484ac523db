package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/nn/gemm"
	"sscscore/model/nn/vec"
)

type unaryKind uint8

const (
	unaryLeaky unaryKind = iota // ReLU is slope 0
	unarySigmoid
	unaryAffine
)

// unaryFn is an element-wise autograd function: leaky ReLU (ReLU with slope 0), sigmoid, or
// the constant affine a·x + b.
type unaryFn[T Float] struct {
	X     mat.Tensor
	kind  unaryKind
	slope T
	a, b  T
	y     []T
}

// Operands implements ag.AutoGradFunction.
func (f *unaryFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.X} }

// Forward implements ag.AutoGradFunction.
func (f *unaryFn[T]) Forward() (mat.Tensor, error) {
	x := dataOf[T](f.X)
	y := alloc[T](len(x))
	gemm.ParallelRange(len(x), 1<<16, func(lo, hi int) {
		src, dst := x[lo:hi], y[lo:hi]
		if s32, ok := any(src).([]float32); ok && f.kind != unarySigmoid {
			d32 := any(dst).([]float32)
			switch {
			case f.kind == unaryAffine:
				vec.ScaleShift(d32, s32, float32(f.a), float32(f.b))
			case f.slope == 0:
				vec.AddBiasReLU(d32, s32, 0)
			default:
				vec.AddBiasLeaky(d32, s32, 0, float32(f.slope))
			}
			return
		}
		switch f.kind {
		case unaryLeaky:
			for i, v := range src {
				if v < 0 {
					v *= f.slope
				}
				dst[i] = v
			}
		case unarySigmoid:
			for i, v := range src {
				dst[i] = T(1 / (1 + math.Exp(-float64(v))))
			}
		case unaryAffine:
			for i, v := range src {
				dst[i] = f.a*v + f.b
			}
		}
	})
	f.y = y
	return mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *unaryFn[T]) Backward(gy mat.Tensor) error {
	if !f.X.RequiresGrad() {
		return nil
	}
	dy := mat.Data[T](gy)
	x := dataOf[T](f.X)
	dx := alloc[T](len(x))
	gemm.ParallelRange(len(x), 1<<16, func(lo, hi int) {
		g, d := dy[lo:hi], dx[lo:hi]
		switch f.kind {
		case unaryLeaky:
			xs := x[lo:hi]
			for i, v := range g {
				if xs[i] <= 0 {
					v *= f.slope
				}
				d[i] = v
			}
		case unarySigmoid:
			ys := f.y[lo:hi]
			for i, v := range g {
				d[i] = v * ys[i] * (1 - ys[i])
			}
		case unaryAffine:
			for i, v := range g {
				d[i] = v * f.a
			}
		}
	})
	f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	return nil
}

func unary[T Float](x Tensor, f *unaryFn[T]) Tensor {
	f.X = x.Node
	return run(f, x.Shape)
}

// ReLU returns max(x, 0).
func ReLU(x Tensor) Tensor { return LeakyReLU(x, 0) }

// LeakyReLU returns x for x > 0 and slope·x otherwise (0 ≤ slope ≤ 1).
func LeakyReLU(x Tensor, slope float64) Tensor {
	if isF64(x.Node) {
		return unary(x, &unaryFn[float64]{kind: unaryLeaky, slope: slope})
	}
	return unary(x, &unaryFn[float32]{kind: unaryLeaky, slope: float32(slope)})
}

// Sigmoid returns 1/(1+e^-x).
func Sigmoid(x Tensor) Tensor {
	if isF64(x.Node) {
		return unary(x, &unaryFn[float64]{kind: unarySigmoid})
	}
	return unary(x, &unaryFn[float32]{kind: unarySigmoid})
}

// ScaleShift returns a·x + b for constants a and b (for example 100·sigmoid for percentages).
func ScaleShift(x Tensor, a, b float64) Tensor {
	if isF64(x.Node) {
		return unary(x, &unaryFn[float64]{kind: unaryAffine, a: a, b: b})
	}
	return unary(x, &unaryFn[float32]{kind: unaryAffine, a: float32(a), b: float32(b)})
}

// AddFn is the autograd function of an element-wise sum of same-shaped tensors.
type AddFn[T Float] struct{ A, B mat.Tensor }

// Add returns a + b (same shape), the residual connection.
func Add(a, b Tensor) Tensor {
	if a.Shape.String() != b.Shape.String() {
		panic(ShapeError(fmt.Sprintf("nn: adding %v and %v", a.Shape, b.Shape)))
	}
	if isF64(a.Node) {
		return run(&AddFn[float64]{A: a.Node, B: b.Node}, a.Shape)
	}
	return run(&AddFn[float32]{A: a.Node, B: b.Node}, a.Shape)
}

// Operands implements ag.AutoGradFunction.
func (f *AddFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.A, f.B} }

// Forward implements ag.AutoGradFunction.
func (f *AddFn[T]) Forward() (mat.Tensor, error) {
	a, b := dataOf[T](f.A), dataOf[T](f.B)
	y := alloc[T](len(a))
	for i, v := range a {
		y[i] = v + b[i]
	}
	return mat.NewDense[T](mat.WithShape(f.A.Value().Shape()...), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *AddFn[T]) Backward(gy mat.Tensor) error {
	for _, op := range []mat.Tensor{f.A, f.B} {
		if op.RequiresGrad() {
			op.AccGrad(gy)
		}
	}
	return nil
}

// DropoutFn zeroes elements with probability P and scales the others by 1/(1-P).
type DropoutFn[T Float] struct {
	X    mat.Tensor
	P    float64
	Rand *rand.Rand
	mask []T
}

// Dropout applies inverted dropout with probability p, drawing from r (training mode only;
// in evaluation mode do not call it).
func Dropout(x Tensor, p float64, r *rand.Rand) Tensor {
	if p <= 0 {
		return x
	}
	if isF64(x.Node) {
		return run(&DropoutFn[float64]{X: x.Node, P: p, Rand: r}, x.Shape)
	}
	return run(&DropoutFn[float32]{X: x.Node, P: p, Rand: r}, x.Shape)
}

// Operands implements ag.AutoGradFunction.
func (f *DropoutFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.X} }

// Forward implements ag.AutoGradFunction.
func (f *DropoutFn[T]) Forward() (mat.Tensor, error) {
	x := dataOf[T](f.X)
	f.mask = make([]T, len(x))
	y := alloc[T](len(x))
	keep := T(1 / (1 - f.P))
	for i, v := range x {
		if f.Rand.Float64() >= f.P {
			f.mask[i] = keep
			y[i] = v * keep
		}
	}
	return mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *DropoutFn[T]) Backward(gy mat.Tensor) error {
	if !f.X.RequiresGrad() {
		return nil
	}
	dy := mat.Data[T](gy)
	dx := alloc[T](len(dy))
	for i, v := range dy {
		dx[i] = v * f.mask[i]
	}
	f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	return nil
}

// SoftArgmaxFn turns (N, C, L) heat maps into (N, C) positions: the expectation of the
// index along L under softmax(heat map), scaled to [0, 1] (index/(L-1)).
type SoftArgmaxFn[T Float] struct {
	X    mat.Tensor
	n, c int
	l    int
	prob []T
	pos  []T
}

// SoftArgmax returns the soft-argmax positions (N, C) in [0, 1] of (N, C, L) heat maps (a
// (N, C, L, 1, 1) tensor is accepted too). SoftmaxProbabilities gives the distributions, from
// which a confidence (for example the peak probability) can be read.
func SoftArgmax(x Tensor) Tensor {
	s := x.Shape
	if len(s) < 3 || Shape(s[3:]).Size() != 1 {
		panic(ShapeError(fmt.Sprintf("nn: soft-argmax needs (N, C, L) heat maps, got %v", s)))
	}
	if isF64(x.Node) {
		return run(&SoftArgmaxFn[float64]{X: x.Node, n: s[0], c: s[1], l: s[2]}, Shape{s[0], s[1]})
	}
	return run(&SoftArgmaxFn[float32]{X: x.Node, n: s[0], c: s[1], l: s[2]}, Shape{s[0], s[1]})
}

// SoftmaxProbabilities returns softmax along the last axis of (N, C, L) values (no graph).
func SoftmaxProbabilities(x []float32, l int) []float32 {
	p := make([]float32, len(x))
	softmaxRows(x, p, l)
	return p
}

func softmaxRows[T Float](x, p []T, l int) {
	for r := 0; r+l <= len(x); r += l {
		row := x[r : r+l]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float64
		for i, v := range row {
			e := math.Exp(float64(v - m))
			p[r+i] = T(e)
			s += e
		}
		for i := range row {
			p[r+i] = T(float64(p[r+i]) / s)
		}
	}
}

// Operands implements ag.AutoGradFunction.
func (f *SoftArgmaxFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.X} }

// Forward implements ag.AutoGradFunction.
func (f *SoftArgmaxFn[T]) Forward() (mat.Tensor, error) {
	x := dataOf[T](f.X)
	f.prob = make([]T, len(x))
	softmaxRows(x, f.prob, f.l)
	f.pos = make([]T, f.n*f.c)
	scale := 1 / T(max(f.l-1, 1))
	for r := range f.pos {
		var s T
		for i, p := range f.prob[r*f.l : (r+1)*f.l] {
			s += p * T(i)
		}
		f.pos[r] = s * scale
	}
	return mat.NewDense[T](mat.WithShape(f.n, f.c), mat.WithBacking(f.pos)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *SoftArgmaxFn[T]) Backward(gy mat.Tensor) error {
	if !f.X.RequiresGrad() {
		return nil
	}
	dy := mat.Data[T](gy)
	dx := alloc[T](len(f.prob))
	scale := 1 / T(max(f.l-1, 1))
	for r, y := range f.pos {
		g := dy[r]
		for i, p := range f.prob[r*f.l : (r+1)*f.l] {
			dx[r*f.l+i] = g * p * (T(i)*scale - y)
		}
	}
	f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	return nil
}
