package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"sscscore/model/nn/gemm"
)

// refConv is the textbook convolution (cross-correlation) over dense NCDHW buffers.
func refConv(g convGeom, x []float64, xl layout, w, b []float64) ([]float64, layout) {
	od, oh, ow, err := g.out(xl.D, xl.H, xl.W)
	if err != nil {
		panic(err)
	}
	yl := denseLayout(xl.N, g.cout, od, oh, ow)
	y := make([]float64, yl.N*yl.sample())
	for n := 0; n < xl.N; n++ {
		for co := 0; co < g.cout; co++ {
			for d := 0; d < od; d++ {
				for h := 0; h < oh; h++ {
					for v := 0; v < ow; v++ {
						var s float64
						if b != nil {
							s = b[co]
						}
						for ci := 0; ci < g.cin; ci++ {
							for a := 0; a < g.k[0]; a++ {
								for bb := 0; bb < g.k[1]; bb++ {
									for c := 0; c < g.k[2]; c++ {
										id := d*g.s[0] + a - g.p[0][0]
										ih := h*g.s[1] + bb - g.p[1][0]
										iw := v*g.s[2] + c - g.p[2][0]
										if id < 0 || ih < 0 || iw < 0 || id >= xl.D || ih >= xl.H || iw >= xl.W {
											continue
										}
										s += w[((co*g.cin+ci)*g.k[0]*g.k[1]+a*g.k[1]+bb)*g.k[2]+c] * x[xl.idx(n, ci, id, ih, iw)]
									}
								}
							}
						}
						y[yl.idx(n, co, d, h, v)] = s
					}
				}
			}
		}
	}
	return y, yl
}

func randF64(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return s
}

func toF32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

var convCases = []struct {
	name string
	x    layout
	g    convGeom
}{
	{"2d-3x3-p1", denseLayout(2, 3, 1, 9, 13), convGeom{cin: 3, cout: 5, k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 1, 1, 1, 1)}},
	{"2d-3x3-s2-asym", denseLayout(1, 1, 1, 16, 15), convGeom{cin: 1, cout: 6, k: conv3(1, 3, 3), s: conv3(1, 2, 2), p: pads(0, 0, 0, 1, 0, 1)}},
	{"2d-7x7-s2-p3", denseLayout(2, 2, 1, 21, 18), convGeom{cin: 2, cout: 9, k: conv3(1, 7, 7), s: conv3(1, 2, 2), p: pads(0, 0, 3, 3, 3, 3)}},
	{"2d-1x1-s2", denseLayout(1, 4, 1, 9, 9), convGeom{cin: 4, cout: 3, k: conv3(1, 1, 1), s: conv3(1, 2, 2), p: pads(0, 0, 0, 0, 0, 0)}},
	{"2d-wide", denseLayout(3, 16, 1, 20, 70), convGeom{cin: 16, cout: 16, k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 1, 1, 1, 1)}},
	{"3d-3x3x3-p1", denseLayout(2, 3, 6, 7, 5), convGeom{cin: 3, cout: 4, k: conv3(3, 3, 3), s: conv3(1, 1, 1), p: pads(1, 1, 1, 1, 1, 1)}},
	{"3d-3x3x3-s2", denseLayout(1, 2, 9, 8, 7), convGeom{cin: 2, cout: 7, k: conv3(3, 3, 3), s: conv3(2, 2, 2), p: pads(1, 1, 1, 1, 1, 1)}},
	{"3d-1x1x1", denseLayout(1, 8, 4, 5, 6), convGeom{cin: 8, cout: 5, k: conv3(1, 1, 1), s: conv3(1, 1, 1), p: pads(0, 0, 0, 0, 0, 0)}},
	{"3d-valid", denseLayout(2, 2, 5, 6, 7), convGeom{cin: 2, cout: 3, k: conv3(3, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 0, 0, 0, 0)}},
	// Unpadded in-plane kernels over small slices: the implicit GEMM reads the input in place,
	// one column segment per output slice; the last tile must stay inside the buffer.
	{"3d-1x3x3-valid-seg", denseLayout(2, 3, 5, 6, 6), convGeom{cin: 3, cout: 4, k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 0, 0, 0, 0)}},
	{"3d-1x3x3-valid-seg-odd", denseLayout(1, 5, 7, 9, 11), convGeom{cin: 5, cout: 6, k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 0, 0, 0, 0)}},
	// 3x3 slices to 1x1: with (D-1)·9+1 a multiple of NR (D = 64 for every NR up to 64) the
	// unsegmented extent fits the buffer exactly but the segmented last tile does not.
	{"3d-1x3x3-to-1x1", denseLayout(1, 2, 64, 3, 3), convGeom{cin: 2, cout: 3, k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 0, 0, 0, 0)}},
}

// TestConvForward compares the GEMM convolution (implicit and packed paths, dense and haloed
// layouts, 1 and all threads) with the textbook loop, in float32 and float64.
func TestConvForward(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, c := range convCases {
		x := randF64(r, c.x.N*c.x.sample())
		w := randF64(r, c.g.cout*c.g.kdim())
		b := randF64(r, c.g.cout)
		want, yl := refConv(c.g, x, c.x, w, b)
		for _, threads := range []int{1, 0} {
			prev := gemm.SetThreads(threads)
			// float64, dense input and output.
			y := make([]float64, yl.size())
			convForward(c.g, gemm.PackA(false, c.g.cout, c.g.kdim(), w, c.g.kdim()), x, c.x, y, yl, &epilogue[float64]{bias: b})
			checkClose(t, c.name+"/f64", y[:len(want)], want, 1e-12)
			// float32, input with a halo equal to the padding, output with a halo of 1.
			xh := c.x.withHalo(c.g.p[0], c.g.p[1], c.g.p[2])
			x32 := make([]float32, xh.size())
			copyInto(x32, xh, toF32(x), c.x)
			yh := yl.withHalo([2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1})
			if yl.D == 1 {
				yh.pd = [2]int{}
			}
			y32 := make([]float32, yh.size())
			for i := range y32 {
				y32[i] = 7 // the halo must come back zero after zeroHalo
			}
			convForward(c.g, gemm.PackA(false, c.g.cout, c.g.kdim(), toF32(w), c.g.kdim()), x32, xh, y32, yh, &epilogue[float32]{bias: toF32(b)})
			zeroHalo(y32, yh)
			got := make([]float32, yl.N*yl.sample())
			copyInto(got, yl, y32, yh)
			checkClose(t, c.name+"/f32-halo", f64s(got), want, 2e-5*math.Sqrt(float64(c.g.kdim())))
			gemm.SetThreads(prev)
		}
	}
}

func f64s(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

func checkClose(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > tol*(1+math.Abs(want[i])) {
			t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// TestEpilogue checks the fused bias, residual, activation and per-channel affine.
func TestEpilogue(t *testing.T) {
	src := []float64{-2, -0.5, 0, 1.5}
	res := []float64{1, 1, -1, 0}
	cases := []struct {
		ep   epilogue[float64]
		res  []float64
		want []float64
	}{
		{epilogue[float64]{bias: []float64{0, 0.5}}, nil, []float64{-1.5, 0, 0.5, 2}},
		{epilogue[float64]{bias: []float64{0, 0.5}, act: actReLU}, nil, []float64{0, 0, 0.5, 2}},
		{epilogue[float64]{bias: []float64{0, 0.5}, act: actLeaky, slope: 0.1}, nil, []float64{-0.15, 0, 0.5, 2}},
		{epilogue[float64]{bias: []float64{0, 0.5}, act: actReLU}, res, []float64{0, 1, 0, 2}},
		{epilogue[float64]{act: actReLU, scale: []float64{1, 2}, shift: []float64{0, 1}}, nil, []float64{1, 1, 1, 4}},
	}
	for i, c := range cases {
		dst := make([]float64, 4)
		c.ep.res = c.res
		var rs []float64
		if c.res != nil {
			rs = c.res
		}
		c.ep.apply(dst, src, rs, 1)
		checkClose(t, "epilogue", dst, c.want, 1e-12)
		_ = i
	}
}

// TestMaxPoolPaths checks the inference max-pooling paths (row-wise, 2×2, separable) against
// the generic path that records argmaxes, on haloed and dense layouts.
func TestMaxPoolPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	cases := []struct {
		x layout
		g poolGeom
	}{
		{denseLayout(2, 3, 1, 9, 12), poolGeom{k: conv3(1, 2, 2), s: conv3(1, 2, 2)}},
		{denseLayout(1, 2, 1, 11, 13), poolGeom{k: conv3(1, 3, 3), s: conv3(1, 2, 2), p: pads(0, 0, 1, 1, 1, 1)}},
		{denseLayout(1, 2, 1, 10, 10), poolGeom{k: conv3(1, 3, 3), s: conv3(1, 1, 1), p: pads(0, 0, 1, 1, 1, 1)}},
		{denseLayout(1, 2, 6, 8, 10), poolGeom{k: conv3(2, 2, 2), s: conv3(2, 2, 2)}},
		{denseLayout(2, 2, 7, 9, 9), poolGeom{k: conv3(3, 3, 3), s: conv3(2, 2, 2), p: pads(1, 1, 1, 1, 1, 1)}},
		{denseLayout(1, 3, 5, 6, 7), poolGeom{k: conv3(1, 2, 2), s: conv3(1, 2, 2)}},
		{denseLayout(1, 1, 5, 6, 7), poolGeom{k: conv3(2, 3, 2), s: conv3(1, 2, 1)}},
	}
	for i, c := range cases {
		x := toF32(randF64(r, c.x.N*c.x.sample()))
		od, oh, ow, err := c.g.out(c.x.D, c.x.H, c.x.W)
		if err != nil {
			t.Fatalf("c.g.out: got error %v, want nil", err)
		}
		yl := denseLayout(c.x.N, c.x.C, od, oh, ow)
		want := make([]float32, yl.N*yl.sample())
		maxPoolForward(c.g, x, c.x, want, yl, make([]int32, len(want)))
		xh := c.x.withHalo([2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1})
		xb := make([]float32, xh.size())
		copyInto(xb, xh, x, c.x)
		yh := yl.withHalo([2]int{0, 1}, [2]int{1, 0}, [2]int{2, 1})
		yb := make([]float32, yh.size())
		maxPoolForward(c.g, xb, xh, yb, yh, nil)
		got := make([]float32, len(want))
		copyInto(got, yl, yb, yh)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("case %d: [%d] = %v, want %v", i, j, got[j], want[j])
			}
		}
	}
}
