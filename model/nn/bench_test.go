package nn

import (
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn/activation"
	"github.com/nlpodyssey/spago/nn/convolution/convolution2d"

	"sscscore/model/nn/gemm"
)

// benchConv times one inference convolution as the plan runs it: input with the halo of its
// padding, output written through the fused epilogue (bias + ReLU). GFLOP/s counts 2 × MACs.
func benchConv(b *testing.B, x layout, g convGeom) {
	r := rand.New(rand.NewPCG(1, 1))
	xh := x.withHalo(g.p[0], g.p[1], g.p[2])
	in := make([]float32, xh.size())
	src := make([]float32, x.N*x.sample())
	for i := range src {
		src[i] = float32(r.Float64()*2 - 1)
	}
	copyInto(in, xh, src, x)
	w := make([]float32, g.cout*g.kdim())
	for i := range w {
		w[i] = float32(r.Float64()*0.2 - 0.1)
	}
	od, oh, ow, _ := g.out(x.D, x.H, x.W)
	yl := denseLayout(x.N, g.cout, od, oh, ow)
	out := make([]float32, yl.size())
	pw := gemm.PackA(false, g.cout, g.kdim(), w, g.kdim())
	ep := &epilogue[float32]{bias: make([]float32, g.cout), act: actReLU}
	warmUp(func() { convForward(g, pw, in, xh, out, yl, ep) })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		convForward(g, pw, in, xh, out, yl, ep)
	}
	flops := 2 * float64(yl.N*yl.sample()) * float64(g.kdim())
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConv2D is the anchor workload: 3×3, 16→16 channels, 128×128, stride 1, same.
func BenchmarkConv2D(b *testing.B) {
	b.Run("16x16x128", func(b *testing.B) {
		benchConv(b, denseLayout(1, 16, 1, 128, 128),
			convGeom{cin: 16, cout: 16, k: [3]int{1, 3, 3}, s: [3]int{1, 1, 1}, p: [3][2]int{{0, 0}, {1, 1}, {1, 1}}})
	})
}

// BenchmarkConv3D is the anchor workload: 3×3×3, 8→16 channels, 64³, stride 1, same.
func BenchmarkConv3D(b *testing.B) {
	b.Run("8x16x64", func(b *testing.B) {
		benchConv(b, denseLayout(1, 8, 64, 64, 64),
			convGeom{cin: 8, cout: 16, k: [3]int{3, 3, 3}, s: [3]int{1, 1, 1}, p: [3][2]int{{1, 1}, {1, 1}, {1, 1}}})
	})
}

// BenchmarkConvTrain times a training step of one layer (forward, backward to input and
// weights) through the autograd graph, natively.
func BenchmarkConvTrain(b *testing.B) {
	if runtime.GOOS == "js" {
		b.Skip("training runs natively")
	}
	for _, c := range []struct {
		name  string
		shape Shape
		cout  int
		k     [3]int
		p     [3][2]int
	}{
		{"2d-16x16x128-batch8", Shape{8, 16, 128, 128}, 16, [3]int{1, 3, 3}, [3][2]int{{0, 0}, {1, 1}, {1, 1}}},
		{"3d-8x16x64", Shape{1, 8, 64, 64, 64}, 16, [3]int{3, 3, 3}, [3][2]int{{1, 1}, {1, 1}, {1, 1}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(2, 2))
			x := make([]float32, c.shape.Size())
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			kv := c.k[0] * c.k[1] * c.k[2]
			wd := make([]float32, c.cout*c.shape[1]*kv)
			for i := range wd {
				wd[i] = float32(r.NormFloat64() * 0.1)
			}
			w := mat.NewDense[float32](mat.WithShape(c.cout, c.shape[1]*kv), mat.WithBacking(wd), mat.WithGrad(true))
			in := mat.NewDense[float32](mat.WithShape(c.shape[0], c.shape.Features()), mat.WithBacking(x), mat.WithGrad(true))
			step := func() {
				w.ZeroGrad()
				in.ZeroGrad()
				y := Convolution(Tensor{Node: in, Shape: c.shape}, w, nil, c.cout, c.k, [3]int{1, 1, 1}, c.p)
				seed := make([]float32, y.Shape.Size())
				for i := range seed {
					seed[i] = 1e-3
				}
				if err := Backward(y, seed); err != nil {
					b.Fatalf("Backward: got error %v, want nil", err)
				}
			}
			warmUp(step)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			kd := c.shape[1] * kv
			outN := float64(c.shape.Size() / c.shape[1] * c.cout)
			// forward + grad input + grad weights = 3 products of the same size.
			b.ReportMetric(3*2*outN*float64(kd)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkSpagoConv2D measures spago's own convolution2d (one graph node per output pixel)
// on the Conv2D anchor layer, for the record. It takes tens of seconds, so it only runs with
// SSCSCORE_BENCH_SPAGO=1.
func BenchmarkSpagoConv2D(b *testing.B) {
	if os.Getenv("SSCSCORE_BENCH_SPAGO") == "" {
		b.Skip("set SSCSCORE_BENCH_SPAGO=1 (takes tens of seconds)")
	}
	b.Run("16x16x128", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 3))
		xs := make([]mat.Tensor, 16)
		for c := range xs {
			d := make([]float32, 130*130) // zero-padded input, spago convolves "valid"
			for y := 1; y < 129; y++ {
				for x := 1; x < 129; x++ {
					d[y*130+x] = float32(r.Float64()*2 - 1)
				}
			}
			xs[c] = mat.NewDense[float32](mat.WithShape(130, 130), mat.WithBacking(d))
		}
		m := convolution2d.New[float32](convolution2d.Config{KernelSizeX: 3, KernelSizeY: 3, XStride: 1, YStride: 1,
			InputChannels: 16, OutputChannels: 16, Activation: activation.Identity})
		for _, k := range m.K {
			d := mat.Data[float32](k.Value())
			for j := range d {
				d[j] = float32(r.Float64()*0.2 - 0.1)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, y := range m.Forward(xs...) {
				_ = y.Value()
			}
		}
		b.ReportMetric(2*16*16*9*128*128*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// warmUp runs f until it has run twice and for two seconds under js/wasm (V8 compiles hot
// wasm functions with its optimising tier in the background during the first seconds), once
// natively.
func warmUp(f func()) {
	f()
	if runtime.GOOS != "js" {
		return
	}
	t0 := time.Now()
	for n := 1; n < 2 || time.Since(t0) < 2*time.Second; n++ {
		f()
	}
}
