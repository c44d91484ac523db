package nn

import (
	"fmt"

	"github.com/nlpodyssey/spago/mat"
)

// PoolFn is the autograd function of max or average pooling over 2-D or 3-D windows.
type PoolFn[T Float] struct {
	X      mat.Tensor
	Max    bool
	g      poolGeom
	xl, yl layout
	idx    []int32
}

func poolShape(x Tensor, g poolGeom) Shape {
	l := x.Shape.layout()
	if len(x.Shape) == 4 && (g.k[0] != 1 || g.s[0] != 1 || g.p[0] != [2]int{}) {
		panic(ShapeError(fmt.Sprintf("nn: 2-D pooling with a depth window %v", g.k)))
	}
	od, oh, ow, err := g.out(l.D, l.H, l.W)
	if err != nil {
		panic(err)
	}
	return volumeShape(x.Shape, l.C, od, oh, ow)
}

// MaxPool applies max pooling with window kernel, stride and padding per spatial axis
// (d, h, w; 2-D inputs use 1/1/0 along d).
func MaxPool(x Tensor, kernel, stride [3]int, pad [3][2]int) Tensor {
	return pool(x, true, poolGeom{k: kernel, s: stride, p: pad})
}

// AvgPool applies average pooling (padding counted, as PyTorch's default).
func AvgPool(x Tensor, kernel, stride [3]int, pad [3][2]int) Tensor {
	return pool(x, false, poolGeom{k: kernel, s: stride, p: pad})
}

func pool(x Tensor, isMax bool, g poolGeom) Tensor {
	ys := poolShape(x, g)
	if isF64(x.Node) {
		return run(&PoolFn[float64]{X: x.Node, Max: isMax, g: g, xl: x.Shape.layout(), yl: ys.layout()}, ys)
	}
	return run(&PoolFn[float32]{X: x.Node, Max: isMax, g: g, xl: x.Shape.layout(), yl: ys.layout()}, ys)
}

// Operands implements ag.AutoGradFunction.
func (f *PoolFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.X} }

// Forward implements ag.AutoGradFunction.
func (f *PoolFn[T]) Forward() (mat.Tensor, error) {
	y := alloc[T](f.yl.N * f.yl.sample())
	x := dataOf[T](f.X)
	if f.Max {
		f.idx = make([]int32, len(y))
		maxPoolForward(f.g, x, f.xl, y, f.yl, f.idx)
	} else {
		avgPoolForward(f.g, x, f.xl, y, f.yl)
	}
	return mat.NewDense[T](mat.WithShape(f.yl.N, f.yl.sample()), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *PoolFn[T]) Backward(gy mat.Tensor) error {
	if !f.X.RequiresGrad() {
		return nil
	}
	dy := mat.Data[T](gy)
	dx := alloc[T](f.xl.N * f.xl.sample())
	if f.Max {
		for i, j := range f.idx {
			dx[j] += dy[i]
		}
	} else {
		avgPoolBackward(f.g, dy, f.yl, dx, f.xl)
	}
	f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	return nil
}

// AdaptiveAvgPoolFn is the autograd function of PyTorch's AdaptiveAvgPool2d/3d.
type AdaptiveAvgPoolFn[T Float] struct {
	X      mat.Tensor
	xl, yl layout
}

// AdaptiveAvgPool averages x into out (d, h, w) bins as PyTorch's AdaptiveAvgPool3d (2-D
// inputs use d = 1). Global average pooling is out = (1, 1, 1).
func AdaptiveAvgPool(x Tensor, out [3]int) Tensor {
	if len(x.Shape) == 4 && out[0] != 1 {
		panic(ShapeError("nn: 2-D adaptive pooling with a depth size"))
	}
	xl := x.Shape.layout()
	if out[0] < 1 || out[1] < 1 || out[2] < 1 {
		panic(ShapeError(fmt.Sprintf("nn: adaptive pooling %v of input %v", out, x.Shape)))
	}
	ys := volumeShape(x.Shape, xl.C, out[0], out[1], out[2])
	if isF64(x.Node) {
		return run(&AdaptiveAvgPoolFn[float64]{X: x.Node, xl: xl, yl: ys.layout()}, ys)
	}
	return run(&AdaptiveAvgPoolFn[float32]{X: x.Node, xl: xl, yl: ys.layout()}, ys)
}

// Operands implements ag.AutoGradFunction.
func (f *AdaptiveAvgPoolFn[T]) Operands() []mat.Tensor { return []mat.Tensor{f.X} }

// Forward implements ag.AutoGradFunction.
func (f *AdaptiveAvgPoolFn[T]) Forward() (mat.Tensor, error) {
	y := alloc[T](f.yl.N * f.yl.sample())
	adaptiveAvgForward(dataOf[T](f.X), f.xl, y, f.yl)
	return mat.NewDense[T](mat.WithShape(f.yl.N, f.yl.sample()), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *AdaptiveAvgPoolFn[T]) Backward(gy mat.Tensor) error {
	if !f.X.RequiresGrad() {
		return nil
	}
	dx := alloc[T](f.xl.N * f.xl.sample())
	adaptiveAvgBackward(mat.Data[T](gy), f.yl, dx, f.xl)
	f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	return nil
}
