package nn

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/nn/gemm"
)

// BatchNormFn is the autograd function of batch normalisation over (N, D, H, W) per channel
// of an (N, C, …) input with per-channel weight γ and bias β. In training mode it normalises
// with the batch statistics (biased variance) and reports them in Mean and Var (so that the
// module can update its running averages); in evaluation mode it uses the given running
// statistics as constants.
type BatchNormFn[T Float] struct {
	X, Gamma, Beta mat.Tensor
	Train          bool
	Eps            float64
	Mean, Var      []float64 // batch statistics (training) or running statistics (evaluation)
	l              layout
	invStd         []float64
}

// BatchNormalize normalises x per channel. In training mode the batch mean and (biased) variance
// are computed and stored in mean and variance (which must have C elements); in evaluation
// mode mean and variance hold the running statistics.
func BatchNormalize(x Tensor, gamma, beta mat.Tensor, train bool, eps float64, mean, variance []float64) Tensor {
	l := x.Shape.layout()
	if len(mean) != l.C || len(variance) != l.C {
		panic(ShapeError(fmt.Sprintf("nn: batch norm statistics of %d/%d channels for input %v", len(mean), len(variance), x.Shape)))
	}
	if isF64(x.Node) {
		return run(&BatchNormFn[float64]{X: x.Node, Gamma: gamma, Beta: beta, Train: train, Eps: eps, Mean: mean, Var: variance, l: l}, x.Shape)
	}
	return run(&BatchNormFn[float32]{X: x.Node, Gamma: gamma, Beta: beta, Train: train, Eps: eps, Mean: mean, Var: variance, l: l}, x.Shape)
}

// Operands implements ag.AutoGradFunction.
func (f *BatchNormFn[T]) Operands() []mat.Tensor { return operands(f.X, f.Gamma, f.Beta) }

func (f *BatchNormFn[T]) spatial() int { return f.l.D * f.l.H * f.l.W }

// Forward implements ag.AutoGradFunction.
func (f *BatchNormFn[T]) Forward() (mat.Tensor, error) {
	x := dataOf[T](f.X)
	g, b := dataOf[T](f.Gamma), dataOf[T](f.Beta)
	C, S, N := f.l.C, f.spatial(), f.l.N
	y := alloc[T](len(x))
	f.invStd = make([]float64, C)
	gemm.ParallelRange(C, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			if f.Train {
				var s, ss float64
				for n := 0; n < N; n++ {
					for _, v := range x[(n*C+c)*S : (n*C+c+1)*S] {
						s += float64(v)
					}
				}
				m := s / float64(N*S)
				for n := 0; n < N; n++ {
					for _, v := range x[(n*C+c)*S : (n*C+c+1)*S] {
						d := float64(v) - m
						ss += d * d
					}
				}
				f.Mean[c], f.Var[c] = m, ss/float64(N*S)
			}
			inv := 1 / math.Sqrt(f.Var[c]+f.Eps)
			f.invStd[c] = inv
			m := T(f.Mean[c])
			sc := T(inv)
			gc, bc := g[c], b[c]
			for n := 0; n < N; n++ {
				src := x[(n*C+c)*S : (n*C+c+1)*S]
				dst := y[(n*C+c)*S : (n*C+c+1)*S]
				for i, v := range src {
					dst[i] = (v-m)*sc*gc + bc
				}
			}
		}
	})
	return mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(y)), nil
}

// Backward implements ag.AutoGradFunction.
func (f *BatchNormFn[T]) Backward(gy mat.Tensor) error {
	dy := mat.Data[T](gy)
	x := dataOf[T](f.X)
	g := dataOf[T](f.Gamma)
	C, S, N := f.l.C, f.spatial(), f.l.N
	M := float64(N * S)
	dg := make([]T, C)
	db := make([]T, C)
	var dx []T
	wantX := f.X.RequiresGrad()
	if wantX {
		dx = alloc[T](len(x))
	}
	gemm.ParallelRange(C, 1, func(c0, c1 int) {
		for c := c0; c < c1; c++ {
			var sdy, sdyh float64
			m, inv := f.Mean[c], f.invStd[c]
			for n := 0; n < N; n++ {
				d := dy[(n*C+c)*S : (n*C+c+1)*S]
				xs := x[(n*C+c)*S : (n*C+c+1)*S]
				for i, v := range d {
					h := (float64(xs[i]) - m) * inv
					sdy += float64(v)
					sdyh += float64(v) * h
				}
			}
			dg[c], db[c] = T(sdyh), T(sdy)
			if !wantX {
				continue
			}
			gc := float64(g[c])
			for n := 0; n < N; n++ {
				d := dy[(n*C+c)*S : (n*C+c+1)*S]
				xs := x[(n*C+c)*S : (n*C+c+1)*S]
				o := dx[(n*C+c)*S : (n*C+c+1)*S]
				if f.Train {
					// dx = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂))
					k := gc * inv / M
					for i, v := range d {
						h := (float64(xs[i]) - m) * inv
						o[i] = T(k * (M*float64(v) - sdy - h*sdyh))
					}
				} else {
					k := T(gc * inv)
					for i, v := range d {
						o[i] = v * k
					}
				}
			}
		}
	})
	if wantX {
		f.X.AccGrad(mat.NewDense[T](mat.WithShape(f.X.Value().Shape()...), mat.WithBacking(dx)))
	}
	if f.Gamma.RequiresGrad() {
		f.Gamma.AccGrad(mat.NewDense[T](mat.WithShape(f.Gamma.Value().Shape()...), mat.WithBacking(dg)))
	}
	if f.Beta.RequiresGrad() {
		f.Beta.AccGrad(mat.NewDense[T](mat.WithShape(f.Beta.Value().Shape()...), mat.WithBacking(db)))
	}
	return nil
}
