package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/mat"
)

// leaf is a float64 graph leaf that requires gradients.
func leaf(r *rand.Rand, shape ...int) *mat.Dense[float64] {
	n := 1
	for _, s := range shape {
		n *= s
	}
	d := make([]float64, n)
	for i := range d {
		d[i] = r.Float64()*2 - 1
	}
	rows, cols := shape[0], n/shape[0]
	return mat.NewDense[float64](mat.WithShape(rows, cols), mat.WithBacking(d), mat.WithGrad(true))
}

func tensorOf(d *mat.Dense[float64], shape ...int) Tensor {
	return Tensor{Node: d, Shape: Shape(shape)}
}

// gradCheck compares the analytic gradients of L = Σ f()·r (r fixed random weights) with
// respect to every leaf against central finite differences, on up to 40 elements per leaf.
func gradCheck(t *testing.T, name string, leaves []*mat.Dense[float64], f func() Tensor) {
	t.Helper()
	r := rand.New(rand.NewPCG(99, uint64(len(name))))
	y := f()
	proj := make([]float64, y.Shape.Size())
	for i := range proj {
		proj[i] = r.Float64()*2 - 1
	}
	for _, l := range leaves {
		l.ZeroGrad()
	}
	if err := Backward(y, proj); err != nil {
		t.Fatalf("%s: backward: got error %v, want nil", name, err)
	}
	loss := func() float64 {
		v := Data[float64](f())
		var s float64
		for i, x := range v {
			s += x * proj[i]
		}
		return s
	}
	const h = 1e-6
	for li, l := range leaves {
		data := mat.Data[float64](l)
		var grad []float64
		if g := l.Grad(); g != nil {
			grad = mat.Data[float64](g)
		} else {
			grad = make([]float64, len(data))
		}
		idx := r.Perm(len(data))
		if len(idx) > 40 {
			idx = idx[:40]
		}
		for _, i := range idx {
			v := data[i]
			data[i] = v + h
			lp := loss()
			data[i] = v - h
			lm := loss()
			data[i] = v
			num := (lp - lm) / (2 * h)
			if math.Abs(num-grad[i]) > 1e-6*(1+math.Abs(num)) {
				t.Errorf("%s: leaf %d element %d: got %.9g (analytic), want %.9g ± %.3g (numeric)", name, li, i, grad[i], num, 1e-6*(1+math.Abs(num)))
				return
			}
		}
	}
}

func conv3(k0, k1, k2 int) [3]int { return [3]int{k0, k1, k2} }

func pads(d0, d1, h0, h1, w0, w1 int) [3][2]int { return [3][2]int{{d0, d1}, {h0, h1}, {w0, w1}} }

func TestGradConv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	cases := []struct {
		name string
		in   []int
		cout int
		k, s [3]int
		p    [3][2]int
		bias bool
	}{
		{"2d-3x3-s1-p1", []int{2, 3, 6, 5}, 4, conv3(1, 3, 3), conv3(1, 1, 1), pads(0, 0, 1, 1, 1, 1), true},
		{"2d-3x3-s2-asym", []int{1, 2, 7, 8}, 3, conv3(1, 3, 3), conv3(1, 2, 2), pads(0, 0, 0, 1, 0, 1), true},
		{"2d-1x1", []int{2, 5, 3, 4}, 2, conv3(1, 1, 1), conv3(1, 1, 1), pads(0, 0, 0, 0, 0, 0), false},
		{"2d-5x3-p2-s1x2", []int{1, 2, 6, 7}, 3, conv3(1, 5, 3), conv3(1, 1, 2), pads(0, 0, 2, 2, 1, 1), true},
		{"3d-3x3x3-s1-p1", []int{1, 2, 4, 5, 4}, 3, conv3(3, 3, 3), conv3(1, 1, 1), pads(1, 1, 1, 1, 1, 1), true},
		{"3d-3x3x3-s2", []int{2, 2, 5, 5, 6}, 2, conv3(3, 3, 3), conv3(2, 2, 2), pads(1, 1, 1, 1, 1, 1), false},
		{"3d-1x3x3-valid", []int{1, 3, 3, 5, 5}, 2, conv3(1, 3, 3), conv3(1, 1, 1), pads(0, 0, 0, 0, 0, 0), true},
	}
	for _, c := range cases {
		x := leaf(r, c.in...)
		kv := c.k[0] * c.k[1] * c.k[2]
		w := leaf(r, c.cout, c.in[1]*kv)
		leaves := []*mat.Dense[float64]{x, w}
		var b mat.Tensor
		if c.bias {
			bd := leaf(r, c.cout, 1)
			leaves = append(leaves, bd)
			b = bd
		}
		gradCheck(t, c.name, leaves, func() Tensor {
			return Convolution(tensorOf(x, c.in...), w, b, c.cout, c.k, c.s, c.p)
		})
	}
}

func TestGradBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, in := range [][]int{{3, 2, 4, 3}, {2, 3, 2, 3, 2}} {
		for _, train := range []bool{true, false} {
			x := leaf(r, in...)
			g := leaf(r, in[1], 1)
			b := leaf(r, in[1], 1)
			mean := make([]float64, in[1])
			variance := make([]float64, in[1])
			for i := range mean {
				mean[i], variance[i] = r.Float64()-0.5, 0.5+r.Float64()
			}
			gradCheck(t, "batchnorm", []*mat.Dense[float64]{x, g, b}, func() Tensor {
				return BatchNormalize(tensorOf(x, in...), g, b, train, 1e-5, mean, variance)
			})
		}
	}
}

func TestGradElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	in := []int{2, 3, 4}
	x := leaf(r, in...)
	y := leaf(r, in...)
	xs := func() Tensor { return tensorOf(x, in...) }
	gradCheck(t, "relu", []*mat.Dense[float64]{x}, func() Tensor { return ReLU(xs()) })
	gradCheck(t, "leakyrelu", []*mat.Dense[float64]{x}, func() Tensor { return LeakyReLU(xs(), 0.1) })
	gradCheck(t, "sigmoid", []*mat.Dense[float64]{x}, func() Tensor { return Sigmoid(xs()) })
	gradCheck(t, "scaleshift", []*mat.Dense[float64]{x}, func() Tensor { return ScaleShift(xs(), 3, 1) })
	gradCheck(t, "add", []*mat.Dense[float64]{x, y}, func() Tensor { return Add(xs(), tensorOf(y, in...)) })
	gradCheck(t, "flatten", []*mat.Dense[float64]{x}, func() Tensor { return Sigmoid(xs().Flatten()) })
	gradCheck(t, "dropout", []*mat.Dense[float64]{x}, func() Tensor {
		return Dropout(xs(), 0.5, rand.New(rand.NewPCG(7, 7)))
	})
	gradCheck(t, "softargmax", []*mat.Dense[float64]{x}, func() Tensor { return SoftArgmax(xs()) })
}

func TestGradPooling(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	cases := []struct {
		name string
		in   []int
		f    func(Tensor) Tensor
	}{
		{"maxpool2d-2x2", []int{2, 2, 6, 5}, func(x Tensor) Tensor { return MaxPool(x, conv3(1, 2, 2), conv3(1, 2, 2), pads(0, 0, 0, 0, 0, 0)) }},
		{"maxpool2d-3x3-s2-p1", []int{1, 2, 7, 6}, func(x Tensor) Tensor { return MaxPool(x, conv3(1, 3, 3), conv3(1, 2, 2), pads(0, 0, 1, 1, 1, 1)) }},
		{"maxpool3d-3-s2", []int{1, 2, 5, 6, 5}, func(x Tensor) Tensor { return MaxPool(x, conv3(3, 3, 3), conv3(2, 2, 2), pads(0, 0, 0, 0, 0, 0)) }},
		{"avgpool2d-3x3-s2-p1", []int{2, 2, 5, 6}, func(x Tensor) Tensor { return AvgPool(x, conv3(1, 3, 3), conv3(1, 2, 2), pads(0, 0, 1, 1, 1, 1)) }},
		{"avgpool3d-2", []int{1, 2, 4, 4, 6}, func(x Tensor) Tensor { return AvgPool(x, conv3(2, 2, 2), conv3(2, 2, 2), pads(0, 0, 0, 0, 0, 0)) }},
		{"adaptive2d", []int{2, 2, 7, 5}, func(x Tensor) Tensor { return AdaptiveAvgPool(x, conv3(1, 3, 2)) }},
		{"adaptive3d", []int{1, 2, 5, 7, 6}, func(x Tensor) Tensor { return AdaptiveAvgPool(x, conv3(2, 3, 4)) }},
		{"gap3d", []int{2, 3, 3, 4, 2}, func(x Tensor) Tensor { return AdaptiveAvgPool(x, conv3(1, 1, 1)) }},
	}
	for _, c := range cases {
		x := leaf(r, c.in...)
		gradCheck(t, c.name, []*mat.Dense[float64]{x}, func() Tensor { return c.f(tensorOf(x, c.in...)) })
	}
}

func TestGradLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	x := leaf(r, 3, 7)
	w := leaf(r, 5, 7)
	b := leaf(r, 5, 1)
	gradCheck(t, "linear", []*mat.Dense[float64]{x, w, b}, func() Tensor { return FullyConnected(tensorOf(x, 3, 7), w, b) })
	gradCheck(t, "linear-nobias", []*mat.Dense[float64]{x, w}, func() Tensor { return FullyConnected(tensorOf(x, 3, 7), w, nil) })
}

func TestGradLosses(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	x := leaf(r, 4, 3)
	target := make([]float64, 12)
	weight := make([]float64, 12)
	for i := range target {
		target[i] = r.Float64()*3 - 1.5
		weight[i] = r.Float64()
	}
	for _, k := range []LossKind{MSE, SmoothL1, L1} {
		for _, w := range [][]float64{nil, weight} {
			gradCheck(t, "loss", []*mat.Dense[float64]{x}, func() Tensor {
				l, err := Loss(k, tensorOf(x, 4, 3), target, w, 0.7)
				if err != nil {
					t.Fatalf("Loss: got error %v, want nil", err)
				}
				return l
			})
		}
	}
}
