package spec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/nn"
)

func TestShippedSpecs(t *testing.T) {
	cases := []struct {
		name     string
		out      []int
		maxGFLOP float64
		// a layer whose input size pins the architecture
		layer string
		in    int
	}{
		{LevelsPaper, []int{5}, 100, "classifier.0", 27648},
		{ScoresPaper, []int{3}, 100, "classifier.0", 25088},
		{Levels, []int{5}, 5, "head.6", 64},
		{Scores, []int{3}, 1.5, "fc", 96},
	}
	for _, c := range cases {
		s, err := Get(c.name)
		if err != nil {
			t.Fatalf("Get: got error %v, want nil", err)
		}
		st, err := Count(s)
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", c.name, err)
		}
		t.Log(st)
		if !slices.Equal(st.Output, c.out) {
			t.Errorf("%s: output %v, want %v", c.name, st.Output, c.out)
		}
		if g := float64(st.FLOPs) / 1e9; g > c.maxGFLOP {
			t.Errorf("%s: got %.2f GFLOP, want <= %.1f (the budget)", c.name, g, c.maxGFLOP)
		}
		found := false
		b := &builder{visit: func(l Layer, m nn.Layer, in, _ nn.Shape) {
			if l.Name == c.layer {
				found = true
				if in.Features() != c.in && in[1] != c.in {
					t.Errorf("%s: %s gets %v, want %d inputs", c.name, c.layer, in, c.in)
				}
			}
		}}
		if _, err := b.net(s); err != nil || !found {
			t.Errorf("%s: got error %v, layer %s found %v; want nil, found", c.name, err, c.layer, found)
		}
		// JSON round trip.
		back, err := Parse(s.JSON())
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", c.name, err)
		}
		if st2, _ := Count(back); st2.FLOPs != st.FLOPs || st2.Params != st.Params {
			t.Errorf("%s: JSON round trip: got %d FLOPs, %d params; want %d, %d", c.name, st2.FLOPs, st2.Params, st.FLOPs, st.Params)
		}
	}
	// Browser weights budget: ≤ 8 MB together as float32 (aim ~1-2 MB as float16).
	total := 0
	for _, n := range []string{Levels, Scores} {
		s, _ := Get(n)
		st, _ := Count(s)
		total += st.WeightBytes(2)
	}
	if total > 2_000_000 {
		t.Errorf("browser networks store %d bytes as float16, want ≤ 2 MB", total)
	}
}

// TestCountPaperParams checks the parameter counts against the architectures' formulas.
func TestCountPaperParams(t *testing.T) {
	conv := func(in, out, k int) int { return in*out*k + out }
	bn := func(c int) int { return 2 * c }
	lin := func(in, out int) int { return in*out + out }
	want := map[string]int{
		ScoresPaper: conv(1, 64, 9) + bn(64) + conv(64, 128, 9) + bn(128) + conv(128, 256, 9) + conv(256, 256, 9) + 2*bn(256) +
			conv(256, 512, 9) + conv(512, 512, 9) + 2*bn(512) + 2*conv(512, 512, 9) + 2*bn(512) +
			lin(25088, 1024) + lin(1024, 1024) + lin(1024, 3),
		LevelsPaper: conv(1, 8, 27) + bn(8) + conv(8, 16, 27) + bn(16) + conv(16, 32, 27) + conv(32, 32, 27) + 2*bn(32) +
			conv(32, 64, 27) + conv(64, 64, 27) + 2*bn(64) + conv(64, 128, 27) + conv(128, 128, 27) + 2*bn(128) +
			lin(27648, 1024) + lin(1024, 1024) + lin(1024, 5),
	}
	for name, w := range want {
		s, _ := Get(name)
		st, err := Count(s)
		if err != nil {
			t.Fatalf("Count: got error %v, want nil", err)
		}
		if st.Params != w {
			t.Errorf("%s: %d params, want %d", name, st.Params, w)
		}
	}
}

func TestParseErrors(t *testing.T) {
	bad := []string{
		`{"name":"x","input":[1,8,8],"layers":[{"type":"linear","out":3}]}`,
		`{"name":"x","input":[1,8,8],"layers":[{"type":"conv","out":3,"kernel":[3,3,3]}]}`,
		`{"name":"x","input":[1,8,8],"layers":[{"type":"conv","out":3,"kernel":[9]}]}`,
		`{"name":"x","input":[1,8,8],"layers":[{"type":"frobnicate"}]}`,
		`{"name":"x","input":[1,8,8],"layers":[{"type":"conv","out":3,"kernel":[3],"colour":1}]}`,
		`{"name":"x","input":[8,8],"layers":[]}`,
		`{"name":"x","input":[2,8,8],"layers":[{"type":"residual","body":[{"type":"conv","out":3,"kernel":[3],"pad":[1]}]}]}`,
	}
	for _, b := range bad {
		if _, err := Parse([]byte(b)); err == nil {
			t.Errorf("accepted %s: got nil error, want an error", b)
		} else {
			t.Log(err)
		}
	}
}

// testSpec exercises every layer type the plan compiles, 2-D with a residual stage.
func testSpec2D() Spec {
	return Spec{Name: "test2d", Input: I(2, 19, 23), Layers: []Layer{
		Named("c0", Conv(6, I(3), I(2), I(0, 0, 1, 1))), Named("b0", BN()), ReLU(),
		Named("c1", Conv(6, I(3), nil, I(1))), ReLU(), Named("b1", BN()),
		MaxPool(I(3), I(2), I(1)),
		{Type: "residual", Name: "r0", Act: "relu", Body: []Layer{
			Named("r0.c", ConvNoBias(8, I(3), I(2), I(1))), Named("r0.b", BN()), ReLU(),
			Named("r0.c2", ConvNoBias(8, I(3), nil, I(1))), Named("r0.b2", BN())},
			Shortcut: []Layer{Named("r0.d", ConvNoBias(8, I(1), I(2), nil)), Named("r0.db", BN())}},
		{Type: "residual", Name: "r1", Act: "leakyrelu", Body: []Layer{
			Named("r1.c", Conv(8, I(3), nil, I(1))), {Type: "leakyrelu", P: 0.2}, Named("r1.c2", Conv(8, I(1), nil, nil))}},
		{Type: "residual", Name: "r2", Body: []Layer{Named("r2.b", BN()), ReLU()}},
		{Type: "avgpool", Kernel: I(2), Stride: I(1), Pad: I(1)},
		{Type: "adaptiveavgpool", Size: I(3, 2)},
		{Type: "flatten"}, Dropout(0.3), Named("fc", Linear(7)), ReLU(), Named("fc2", Linear(4)),
		{Type: "sigmoid"}, {Type: "affine", A: 100, B: -1},
	}}
}

func testSpec3D() Spec {
	return Spec{Name: "test3d", Input: I(1, 9, 10, 11), Layers: []Layer{
		Named("c0", ConvNoBias(4, I(3), I(1, 2, 2), I(1))), Named("b0", BN()), ReLU(),
		MaxPool(I(2), I(2), nil),
		Named("c1", Conv(5, I(3), nil, I(1))), ReLU(), Named("b1", BN()),
		MaxPool(I(3), I(2), I(1)),
		{Type: "adaptiveavgpool", Size: I(6, 1, 1)},
		Named("h", Conv(3, I(3, 1, 1), nil, I(1, 0, 0))),
		{Type: "reshape", Size: I(3, 6)}, {Type: "softargmax"},
	}}
}

// randomizeBN gives every BatchNorm non-trivial parameters and running statistics.
func randomizeBN(n *nn.Net, r *rand.Rand) {
	for _, t := range n.StateDict() {
		switch {
		case t.Stat != nil:
			for i := range t.Stat {
				if len(t.Name) > 8 && t.Name[len(t.Name)-3:] == "var" {
					t.Stat[i] = 0.5 + r.Float64()
				} else {
					t.Stat[i] = r.Float64() - 0.5
				}
			}
		case t.Param != nil && (len(t.Shape) == 1):
			d := mat.Data[float32](t.Param.Value())
			for i := range d {
				d[i] = float32(0.5 + r.Float64())
			}
		}
	}
}

func randInput(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// evalForward runs the autograd forward in evaluation mode.
func evalForward(t *testing.T, n *nn.Net, x []float32) []float32 {
	t.Helper()
	in, err := nn.NewNetInput(n, x, false)
	if err != nil {
		t.Fatalf("nn.NewNetInput: got error %v, want nil", err)
	}
	return slices.Clone(nn.Data[float32](n.Forward(nn.NewCtx(nn.Eval, 0), in)))
}

func closeF32(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
			t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

// TestPlanMatchesGraph checks that the compiled inference plan (folded BatchNorm, fused
// epilogues, haloed buffers) gives the autograd evaluation forward's results, at batch 1 and
// 3, and that it is deterministic and within the memory bound.
func TestPlanMatchesGraph(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specs := []Spec{testSpec2D(), testSpec3D()}
	// The shipped browser architectures, on smaller inputs to keep the test fast.
	lv, _ := Get(Levels)
	lv.Input = I(1, 24, 20, 20)
	sc, _ := Get(Scores)
	sc.Input = I(1, 72, 64)
	specs = append(specs, lv, sc)
	for _, s := range specs {
		n, err := Build(s, Options{Seed: 3})
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", s.Name, err)
		}
		randomizeBN(n, r)
		for _, batch := range []int{1, 3} {
			x := randInput(r, batch*n.Input.Size())
			want := evalForward(t, n, x)
			p, err := Compile(n, batch)
			if err != nil {
				t.Fatalf("%s: got error %v, want nil", s.Name, err)
			}
			got, err := p.Run(x)
			if err != nil {
				t.Fatalf("p.Run: got error %v, want nil", err)
			}
			closeF32(t, s.Name, got, want, 2e-4)
			again, _ := p.Run(x)
			for i := range got {
				if again[i] != got[i] {
					t.Fatalf("%s: second run differs, got %v, want %v", s.Name, again[i], got[i])
				}
			}
			largest := 4 * p.LargestActivation()
			if p.ActivationBytes() > 3*largest+3*16384 {
				t.Errorf("%s batch %d: activations take %d bytes, largest is %d (bound 3×), want <= %v", s.Name, batch, p.ActivationBytes(), largest, 3*largest+3*16384)
			}
			if batch == 1 {
				t.Logf("%s: %d buffers, %d activation bytes (largest %d), %d weight bytes", s.Name, p.Buffers(), p.ActivationBytes(), largest, p.WeightBytes())
			}
		}
	}
}

// Compile is shorthand for nn.Compile without options.
func Compile(n *nn.Net, batch int) (*nn.Plan, error) {
	return nn.Compile(n, batch, nn.CompileOptions{})
}
