package nn

import (
	"fmt"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/nn/gemm"
)

// operands returns the non-nil tensors.
func operands(ts ...mat.Tensor) []mat.Tensor {
	out := make([]mat.Tensor, 0, len(ts))
	for _, t := range ts {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}

// run executes fn as a graph node with the given output shape.
func run(fn ag.AutoGradFunction, shape Shape) Tensor {
	return Tensor{Node: ag.NewOperator(fn).Run(), Shape: shape}
}

// volumeShape returns the output shape (N, C, D, H, W) or (N, C, H, W) of a spatial op.
func volumeShape(in Shape, c, d, h, w int) Shape {
	if len(in) == 5 {
		return Shape{in[0], c, d, h, w}
	}
	return Shape{in[0], c, h, w}
}

// ConvFn is the autograd function of a 2-D or 3-D convolution (cross-correlation, PyTorch
// semantics) with optional bias: operands x (N, Cin, [D,] H, W), w (Cout × Cin·kvol, PyTorch
// order) and b (Cout) or nil.
type ConvFn[T Float] struct {
	X, W, B mat.Tensor
	g       convGeom
	xl, yl  layout
	yshape  Shape
}

// Convolution applies a convolution with weight w (Cout × Cin·kd·kh·kw) and optional bias b.
// kernel, stride and pad are per spatial axis (d, h, w; for 2-D inputs d must be 1/1/0).
func Convolution(x Tensor, w, b mat.Tensor, cout int, kernel, stride [3]int, pad [3][2]int) Tensor {
	if isF64(x.Node) {
		return convOp[float64](x, w, b, cout, kernel, stride, pad)
	}
	return convOp[float32](x, w, b, cout, kernel, stride, pad)
}

func convOp[T Float](x Tensor, w, b mat.Tensor, cout int, kernel, stride [3]int, pad [3][2]int) Tensor {
	xl := x.Shape.layout()
	g := convGeom{cin: xl.C, cout: cout, k: kernel, s: stride, p: pad}
	od, oh, ow, err := g.out(xl.D, xl.H, xl.W)
	if err != nil {
		panic(err)
	}
	if len(x.Shape) == 4 && (kernel[0] != 1 || stride[0] != 1 || pad[0] != [2]int{}) {
		panic(ShapeError(fmt.Sprintf("nn: 2-D convolution with a depth kernel %v", kernel)))
	}
	if ws := w.Value().Shape(); ws[0]*ws[1] != cout*g.kdim() {
		panic(ShapeError(fmt.Sprintf("nn: conv weight %v does not match %d×%d", ws, cout, g.kdim())))
	}
	ys := volumeShape(x.Shape, cout, od, oh, ow)
	f := &ConvFn[T]{X: x.Node, W: w, B: b, g: g, xl: xl, yl: ys.layout(), yshape: ys}
	return run(f, ys)
}

// Operands implements ag.AutoGradFunction.
func (f *ConvFn[T]) Operands() []mat.Tensor { return operands(f.X, f.W, f.B) }

// Forward implements ag.AutoGradFunction.
func (f *ConvFn[T]) Forward() (mat.Tensor, error) {
	w := dataOf[T](f.W)
	kd := f.g.kdim()
	y := alloc[T](f.yl.N * f.yl.sample())
	var ep *epilogue[T]
	if f.B != nil {
		ep = &epilogue[T]{bias: dataOf[T](f.B)}
	}
	convForward(f.g, gemm.PackA(false, f.g.cout, kd, w, kd), dataOf[T](f.X), f.xl, y, f.yl, ep)
	return newDense(f.yshape, y), nil
}

// Backward implements ag.AutoGradFunction.
func (f *ConvFn[T]) Backward(gy mat.Tensor) error {
	dy := mat.Data[T](gy)
	if f.X.RequiresGrad() {
		dx := alloc[T](f.xl.N * f.xl.sample())
		convBackwardData(f.g, dataOf[T](f.W), dy, f.yl, dx, f.xl)
		f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	}
	wantW := f.W.RequiresGrad()
	wantB := f.B != nil && f.B.RequiresGrad()
	if wantW || wantB {
		dw := make([]T, f.g.cout*f.g.kdim())
		var db []T
		if f.B != nil {
			db = make([]T, f.g.cout)
		}
		convBackwardWeight(f.g, dataOf[T](f.X), f.xl, dy, f.yl, dw, db)
		if wantW {
			f.W.AccGrad(mat.NewDense[T](mat.WithShape(f.W.Value().Shape()...), mat.WithBacking(dw)))
		}
		if wantB {
			f.B.AccGrad(mat.NewDense[T](mat.WithShape(f.B.Value().Shape()...), mat.WithBacking(db)))
		}
	}
	return nil
}

// LinearFn is the autograd function of y = x·Wᵀ + b: x (N, in), W (out × in), b (out) or nil.
type LinearFn[T Float] struct {
	X, W, B     mat.Tensor
	n, in, outF int
}

// FullyConnected applies a fully connected layer with weight w (out × in, PyTorch layout) and optional
// bias b to x (N, in).
func FullyConnected(x Tensor, w, b mat.Tensor) Tensor {
	if len(x.Shape) != 2 {
		panic(ShapeError(fmt.Sprintf("nn: linear layer on a %v tensor (flatten it first)", x.Shape)))
	}
	ws := w.Value().Shape()
	if ws[1] != x.Shape[1] {
		panic(ShapeError(fmt.Sprintf("nn: linear weight %v does not match input %v", ws, x.Shape)))
	}
	if isF64(x.Node) {
		return run(&LinearFn[float64]{X: x.Node, W: w, B: b, n: x.Shape[0], in: ws[1], outF: ws[0]}, Shape{x.Shape[0], ws[0]})
	}
	return run(&LinearFn[float32]{X: x.Node, W: w, B: b, n: x.Shape[0], in: ws[1], outF: ws[0]}, Shape{x.Shape[0], ws[0]})
}

// Operands implements ag.AutoGradFunction.
func (f *LinearFn[T]) Operands() []mat.Tensor { return operands(f.X, f.W, f.B) }

// Forward implements ag.AutoGradFunction.
func (f *LinearFn[T]) Forward() (mat.Tensor, error) {
	y := make([]T, f.n*f.outF)
	linearForward(dataOf[T](f.X), dataOf[T](f.W), f.bias(), y, f.n, f.in, f.outF)
	return mat.NewDense[T](mat.WithShape(f.n, f.outF), mat.WithBacking(y)), nil
}

func (f *LinearFn[T]) bias() []T {
	if f.B == nil {
		return nil
	}
	return dataOf[T](f.B)
}

// linearForward computes y (n×out) = x (n×in) · wᵀ + b.
func linearForward[T Float](x, w, b, y []T, n, in, out int) {
	gemm.Gemm(false, true, n, out, in, x, in, w, in, 0, y, out)
	if b != nil {
		for i := 0; i < n; i++ {
			row := y[i*out : (i+1)*out]
			for j := range row {
				row[j] += b[j]
			}
		}
	}
}

// Backward implements ag.AutoGradFunction.
func (f *LinearFn[T]) Backward(gy mat.Tensor) error {
	dy := mat.Data[T](gy)
	if f.X.RequiresGrad() {
		dx := make([]T, f.n*f.in)
		gemm.Gemm(false, false, f.n, f.in, f.outF, dy, f.outF, dataOf[T](f.W), f.in, 0, dx, f.in)
		f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.n, f.in), mat.WithBacking(dx)))
	}
	if f.W.RequiresGrad() {
		dw := make([]T, f.outF*f.in)
		gemm.Gemm(true, false, f.outF, f.in, f.n, dy, f.outF, dataOf[T](f.X), f.in, 0, dw, f.in)
		f.W.AccGrad(mat.NewDense[T](mat.WithShape(f.W.Value().Shape()...), mat.WithBacking(dw)))
	}
	if f.B != nil && f.B.RequiresGrad() {
		db := make([]T, f.outF)
		for i := 0; i < f.n; i++ {
			for j, v := range dy[i*f.outF : (i+1)*f.outF] {
				db[j] += v
			}
		}
		f.B.AccGrad(mat.NewDense[T](mat.WithShape(f.B.Value().Shape()...), mat.WithBacking(db)))
	}
	return nil
}
