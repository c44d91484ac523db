package nn_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/nlpodyssey/spago/optimizers/adam"

	"sscscore/model/nn"
	"sscscore/model/nn/spec"
)

func tinySpec() spec.Spec {
	return spec.Spec{Name: "tiny", Input: spec.I(1, 12, 10), Layers: []spec.Layer{
		spec.Named("features.0", spec.Conv(4, spec.I(3), nil, spec.I(1))), spec.Named("features.1", spec.BN()), spec.ReLU(),
		spec.MaxPool(spec.I(2), nil, nil),
		{Type: "residual", Name: "block", Act: "relu", Body: []spec.Layer{
			spec.Named("block.conv", spec.ConvNoBias(4, spec.I(3), nil, spec.I(1))), spec.Named("block.bn", spec.BN())}},
		{Type: "gap"}, {Type: "flatten"}, spec.Named("fc", spec.Linear(2)),
	}}
}

func buildTiny(t *testing.T, seed uint64) *nn.Net {
	t.Helper()
	n, err := spec.Build(tinySpec(), spec.Options{Seed: seed})
	if err != nil {
		t.Fatalf("spec.Build: got error %v, want nil", err)
	}
	return n
}

func stateEntry(n *nn.Net, name string) nn.NamedTensor {
	for _, t := range n.StateDict() {
		if t.Name == name {
			return t
		}
	}
	return nn.NamedTensor{}
}

func randData(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func forwardEval(t *testing.T, n *nn.Net, x []float32) []float32 {
	t.Helper()
	in, err := nn.NewNetInput(n, x, false)
	if err != nil {
		t.Fatalf("nn.NewNetInput: got error %v, want nil", err)
	}
	return slices.Clone(nn.Data[float32](n.Forward(nn.NewCtx(nn.Eval, 0), in)))
}

// TestSafetensorsRoundTrip trains a little (so BatchNorm statistics move), saves, loads into a
// differently initialised network and checks identical outputs, in F32 and (approximately)
// F16.
func TestSafetensorsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a := buildTiny(t, 1)
	ctx := nn.NewCtx(nn.Train, 1)
	for i := 0; i < 3; i++ {
		in, _ := nn.NewNetInput(a, randData(r, 4*120), false)
		a.Forward(ctx, in)
	}
	x := randData(r, 2*120)
	want := forwardEval(t, a, x)
	for _, dt := range []string{"F32", "F16", "BF16"} {
		var buf bytes.Buffer
		if err := a.WriteSafetensors(&buf, nn.SaveOptions{DType: dt, Metadata: map[string]string{"spec": "tiny"}}); err != nil {
			t.Fatalf("a.WriteSafetensors: got error %v, want nil", err)
		}
		b := buildTiny(t, 2)
		if slices.Equal(forwardEval(t, b, x), want) {
			t.Fatal("differently seeded networks before loading: got the same outputs, want different ones")
		}
		if err := b.LoadSafetensors(buf.Bytes()); err != nil {
			t.Fatalf("b.LoadSafetensors: got error %v, want nil", err)
		}
		got := forwardEval(t, b, x)
		tol := map[string]float64{"F32": 0, "F16": 5e-3, "BF16": 4e-2}[dt]
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > tol*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%s: output %d = %v after reload, want %v", dt, i, got[i], want[i])
			}
		}
		if dt == "F32" {
			if bn := stateEntry(b, "features.1.num_batches_tracked"); bn.Count == nil || *bn.Count != 3 {
				t.Errorf("num_batches_tracked = %v, want 3", bn)
			}
		}
	}
}

// rawSafetensors writes a safetensors file by hand: header JSON, then the little-endian data.
func rawSafetensors(t *testing.T, tensors []rawTensor) []byte {
	t.Helper()
	header := map[string]any{}
	var data []byte
	for _, rt := range tensors {
		start := len(data)
		switch v := rt.vals.(type) {
		case []float32:
			for _, f := range v {
				data = binary.LittleEndian.AppendUint32(data, math.Float32bits(f))
			}
		case []int64:
			for _, i := range v {
				data = binary.LittleEndian.AppendUint64(data, uint64(i))
			}
		}
		header[rt.name] = map[string]any{"dtype": rt.dtype, "shape": rt.shape, "data_offsets": []int{start, len(data)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	return append(append(out, h...), data...)
}

type rawTensor struct {
	name  string
	dtype string
	shape []int
	vals  any
}

// TestSafetensorsPyTorchLayout loads a hand-written file laid out as PyTorch saves
// nn.Sequential(Conv2d(1,2,2), BatchNorm2d(2), ReLU(), Flatten(), Linear(8,1)) and checks the
// hand-computed output.
func TestSafetensorsPyTorchLayout(t *testing.T) {
	s := spec.Spec{Name: "torch", Input: spec.I(1, 3, 3), Layers: []spec.Layer{
		spec.Named("0", spec.Conv(2, spec.I(2), nil, nil)), spec.Named("1", spec.BN()), spec.ReLU(),
		{Type: "flatten"}, spec.Named("4", spec.Linear(1)),
	}}
	n, err := spec.Build(s, spec.Options{Seed: 9})
	if err != nil {
		t.Fatalf("spec.Build: got error %v, want nil", err)
	}
	file := rawSafetensors(t, []rawTensor{
		// Conv weight O, I, kH, kW: channel 0 = [[1, 0], [0, -1]], channel 1 = all 0.5.
		{"0.weight", "F32", []int{2, 1, 2, 2}, []float32{1, 0, 0, -1, 0.5, 0.5, 0.5, 0.5}},
		{"0.bias", "F32", []int{2}, []float32{0, -10}},
		{"1.weight", "F32", []int{2}, []float32{2, 1}},
		{"1.bias", "F32", []int{2}, []float32{1, 0}},
		{"1.running_mean", "F32", []int{2}, []float32{-4, 0}},
		{"1.running_var", "F32", []int{2}, []float32{4, 1}},
		{"1.num_batches_tracked", "I64", []int{}, []int64{7}},
		{"4.weight", "F32", []int{1, 8}, []float32{1, 0, 0, 0, 0, 0, 1, 1}},
		{"4.bias", "F32", []int{1}, []float32{0.5}},
	})
	if err := n.LoadSafetensors(file); err != nil {
		t.Fatalf("n.LoadSafetensors: got error %v, want nil", err)
	}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	// conv: channel 0 = x[i,j] - x[i+1,j+1] = -4 everywhere; channel 1 = 0.5·(2×2 sum) - 10
	// = -4, -2, 2, 4. BN: channel 0 → (−4+4)/2·2+1 = 1; channel 1 → v/√(1+1e-5).
	// ReLU, flatten → [1 1 1 1 0 0 2/s 4/s]; linear → 1 + 6/s + 0.5.
	want := 1 + 6/math.Sqrt(1+1e-5) + 0.5
	got := forwardEval(t, n, x)
	if len(got) != 1 || math.Abs(float64(got[0])-want) > 1e-5 {
		t.Fatalf("output %v, want %v", got, want)
	}
	p, err := nn.Compile(n, 1, nn.CompileOptions{})
	if err != nil {
		t.Fatalf("nn.Compile: got error %v, want nil", err)
	}
	if got, _ := p.Run(x); math.Abs(float64(got[0])-want) > 1e-5 {
		t.Fatalf("plan output %v, want %v", got, want)
	}
	// Strict loading: a missing, extra or misshapen tensor is an error that names it.
	for _, c := range []struct {
		drop, add string
		shape     []int
		want      string
	}{
		{drop: "4.bias", want: `no tensor "4.bias"`},
		{add: "5.weight", want: "5.weight"},
		{add: "4.weight", shape: []int{8, 1}, want: "shape [8 1]"},
	} {
		var ts []rawTensor
		for _, rt := range []rawTensor{
			{"0.weight", "F32", []int{2, 1, 2, 2}, make([]float32, 8)}, {"0.bias", "F32", []int{2}, make([]float32, 2)},
			{"1.weight", "F32", []int{2}, make([]float32, 2)}, {"1.bias", "F32", []int{2}, make([]float32, 2)},
			{"1.running_mean", "F32", []int{2}, make([]float32, 2)}, {"1.running_var", "F32", []int{2}, make([]float32, 2)},
			{"4.weight", "F32", []int{1, 8}, make([]float32, 8)}, {"4.bias", "F32", []int{1}, make([]float32, 1)},
		} {
			if rt.name == c.drop || (rt.name == c.add && c.shape != nil) {
				continue
			}
			ts = append(ts, rt)
		}
		if c.add != "" {
			sh := c.shape
			if sh == nil {
				sh = []int{1}
			}
			size := 1
			for _, v := range sh {
				size *= v
			}
			ts = append(ts, rawTensor{c.add, "F32", sh, make([]float32, size)})
		}
		err := n.LoadSafetensors(rawSafetensors(t, ts))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("loading with %+v: error %v, want one mentioning %q", c, err, c.want)
		}
	}
}

// TestTrainStep runs a few synchronous Adam steps on a regression problem and checks that the
// loss falls, BatchNorm statistics move and gradients are cleared.
func TestTrainStep(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n := buildTiny(t, 3)
	opt := nn.NewAdam(adam.NewConfig(0.01, 0.9, 0.999, 1e-8))
	ctx := nn.NewCtx(nn.Train, 5)
	const batch = 8
	x := randData(r, batch*n.Input.Size())
	target := make([]float32, batch*2)
	for i := 0; i < batch; i++ { // targets: mean and max of each image
		img := x[i*120 : (i+1)*120]
		var s float32
		m := img[0]
		for _, v := range img {
			s += v
			m = max(m, v)
		}
		target[2*i], target[2*i+1] = s/120, m
	}
	var first, last float64
	for step := 0; step < 60; step++ {
		in, _ := nn.NewNetInput(n, x, false)
		y := n.Forward(ctx, in)
		loss, err := nn.Loss(nn.SmoothL1, y, target, nil, 1)
		if err != nil {
			t.Fatalf("nn.Loss: got error %v, want nil", err)
		}
		if err := nn.Backward[float32](loss, nil); err != nil {
			t.Fatalf("nn.Backward[float32]: got error %v, want nil", err)
		}
		l := float64(nn.Data[float32](loss)[0])
		if step == 0 {
			first = l
		}
		last = l
		if err := opt.Step(n.Params()); err != nil {
			t.Fatalf("opt.Step: got error %v, want nil", err)
		}
		for _, p := range n.Params() {
			if p.HasGrad() {
				t.Fatal("after the Adam step: got a gradient, want none")
			}
		}
	}
	t.Logf("smooth L1 loss %.4f -> %.4f", first, last)
	if !(last < 0.3*first) {
		t.Errorf("loss after training: got %v, want < %v (0.3 x the first, %v)", last, 0.3*first, first)
	}
	if bn := stateEntry(n, "features.1.running_mean"); bn.Stat[0] == 0 {
		t.Errorf("running mean did not move: %v, got %v, want != 0", bn.Stat, bn.Stat[0])
	}
}

// TestInputAndActivationGradients checks ∂output/∂input and ∂output/∂activation (Grad-CAM)
// of a whole float64 network against central differences, with BatchNorm in evaluation mode.
func TestInputAndActivationGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	n, err := spec.Build(tinySpec(), spec.Options{Seed: 4, Float64: true})
	if err != nil {
		t.Fatalf("spec.Build: got error %v, want nil", err)
	}
	x := make([]float64, n.Input.Size())
	for i := range x {
		x[i] = r.NormFloat64()
	}
	in, _ := nn.NewNetInput(n, x, true)
	acts := n.ForwardAll(nn.NewCtx(nn.Eval, 0), in)
	out := acts[len(acts)-1]
	seed := []float64{1, 0} // saliency of output 0
	if err := nn.Backward(out, seed); err != nil {
		t.Fatalf("nn.Backward: got error %v, want nil", err)
	}
	gx := nn.Grad[float64](in)
	gact := nn.Grad[float64](acts[3]) // after the max pooling
	if gx == nil || gact == nil {
		t.Fatalf("gradients: got input %v, activation %v; want both", gx != nil, gact != nil)
	}
	f := func(x []float64) float64 {
		in, _ := nn.NewNetInput(n, x, false)
		return nn.Data[float64](n.Forward(nn.NewCtx(nn.Eval, 0), in))[0]
	}
	for _, i := range r.Perm(len(x))[:25] {
		v := x[i]
		x[i] = v + 1e-6
		fp := f(x)
		x[i] = v - 1e-6
		fm := f(x)
		x[i] = v
		num := (fp - fm) / 2e-6
		if math.Abs(num-gx[i]) > 1e-6*(1+math.Abs(num)) {
			t.Fatalf("∂y/∂x[%d] = %v, want %v ± %.3g (numeric)", i, gx[i], num, 1e-6*(1+math.Abs(num)))
		}
	}
	// The activation gradient: perturb the activation by running the rest of the network.
	rest := &nn.Net{Name: "rest", Input: acts[3].Shape[1:], Layers: n.Layers[4:]}
	a := slices.Clone(nn.Data[float64](acts[3]))
	g := func(a []float64) float64 {
		in, _ := nn.NewNetInput(rest, a, false)
		return nn.Data[float64](rest.Forward(nn.NewCtx(nn.Eval, 0), in))[0]
	}
	for _, i := range r.Perm(len(a))[:25] {
		v := a[i]
		a[i] = v + 1e-6
		fp := g(a)
		a[i] = v - 1e-6
		fm := g(a)
		a[i] = v
		num := (fp - fm) / 2e-6
		if math.Abs(num-gact[i]) > 1e-6*(1+math.Abs(num)) {
			t.Fatalf("∂y/∂act[%d] = %v, want %v ± %.3g (numeric)", i, gact[i], num, 1e-6*(1+math.Abs(num)))
		}
	}
}

// TestTrainModeGradients checks a whole float64 network in training mode (batch statistics)
// against central differences with respect to its parameters.
func TestTrainModeGradients(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	n, err := spec.Build(tinySpec(), spec.Options{Seed: 6, Float64: true})
	if err != nil {
		t.Fatalf("spec.Build: got error %v, want nil", err)
	}
	x := make([]float64, 3*n.Input.Size())
	for i := range x {
		x[i] = r.NormFloat64()
	}
	target := []float64{0.1, -0.2, 0.3, 0.5, -0.5, 1}
	loss := func() nn.Tensor {
		in, _ := nn.NewNetInput(n, x, false)
		ctx := nn.NewCtx(nn.Train, 1)
		l, err := nn.Loss(nn.MSE, n.Forward(ctx, in), target, nil, 0)
		if err != nil {
			t.Fatalf("nn.Loss: got error %v, want nil", err)
		}
		return l
	}
	n.ZeroGrad()
	if err := nn.Backward[float64](loss(), nil); err != nil {
		t.Fatalf("nn.Backward[float64]: got error %v, want nil", err)
	}
	for _, nt := range n.StateDict() {
		if nt.Param == nil {
			continue
		}
		data := nn.Data[float64](nn.Tensor{Node: nt.Param})
		grad := nn.Grad[float64](nn.Tensor{Node: nt.Param})
		for _, i := range r.Perm(len(data))[:min(4, len(data))] {
			v := data[i]
			data[i] = v + 1e-6
			lp := nn.Data[float64](loss())[0]
			data[i] = v - 1e-6
			lm := nn.Data[float64](loss())[0]
			data[i] = v
			num := (lp - lm) / 2e-6
			if math.Abs(num-grad[i]) > 1e-6*(1+math.Abs(num)) {
				t.Fatalf("%s[%d]: got %v (analytic), want %v ± %.3g (numeric)", nt.Name, i, grad[i], num, 1e-6*(1+math.Abs(num)))
			}
		}
	}
}
