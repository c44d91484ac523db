package spec

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/nlpodyssey/spago/optimizers/adam"

	"sscscore/model/nn"
)

// BenchmarkForward times one inference forward pass (nn.Plan, batch 1) of every shipped spec
// and reports GFLOP/s (2 × conv/linear MACs per second), the plan's activation and weight
// memory and the largest activation.
func BenchmarkForward(b *testing.B) {
	for _, name := range []string{Levels, Scores, LevelsPaper, ScoresPaper} {
		b.Run(name, func(b *testing.B) {
			s, _ := Get(name)
			st, err := Count(s)
			if err != nil {
				b.Fatalf("Count: got error %v, want nil", err)
			}
			n, err := Build(s, Options{Seed: 1})
			if err != nil {
				b.Fatalf("Build: got error %v, want nil", err)
			}
			p, err := nn.Compile(n, 1, nn.CompileOptions{})
			if err != nil {
				b.Fatalf("nn.Compile: got error %v, want nil", err)
			}
			r := rand.New(rand.NewPCG(1, 1))
			x := randInput(r, n.Input.Size())
			warmUp(func() {
				if _, err := p.Run(x); err != nil {
					b.Fatalf("p.Run: got error %v, want nil", err)
				}
			})
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := p.Run(x); err != nil {
					b.Fatalf("p.Run: got error %v, want nil", err)
				}
			}
			b.ReportMetric(float64(st.FLOPs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(float64(p.ActivationBytes())/1e6, "act-MB")
			b.ReportMetric(float64(p.WeightBytes())/1e6, "weights-MB")
			b.ReportMetric(4*float64(p.LargestActivation())/1e6, "largest-act-MB")
		})
	}
}

// BenchmarkTrainStep times one training step (train-mode forward, smooth-L1 loss, backward,
// synchronous Adam) of the browser specs natively, on all cores.
func BenchmarkTrainStep(b *testing.B) {
	if runtime.GOOS == "js" {
		b.Skip("training runs natively")
	}
	for _, c := range []struct {
		name  string
		batch int
	}{{Levels, 2}, {Scores, 8}} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := Get(c.name)
			st, _ := Count(s)
			n, err := Build(s, Options{Seed: 1})
			if err != nil {
				b.Fatalf("Build: got error %v, want nil", err)
			}
			r := rand.New(rand.NewPCG(2, 2))
			x := randInput(r, c.batch*n.Input.Size())
			out, _ := n.OutShape(c.batch)
			target := randInput(r, out.Size())
			opt := nn.NewAdam(adam.NewDefaultConfig())
			ctx := nn.NewCtx(nn.Train, 1)
			step := func() {
				in, _ := nn.NewNetInput(n, x, false)
				loss, err := nn.Loss(nn.SmoothL1, n.Forward(ctx, in), target, nil, 1)
				if err != nil {
					b.Fatalf("nn.Loss: got error %v, want nil", err)
				}
				if err := nn.Backward[float32](loss, nil); err != nil {
					b.Fatalf("nn.Backward[float32]: got error %v, want nil", err)
				}
				if err := opt.Step(n.Params()); err != nil {
					b.Fatalf("opt.Step: got error %v, want nil", err)
				}
			}
			step()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
			// forward + two backward products ≈ 3 × forward FLOPs.
			b.ReportMetric(3*float64(st.FLOPs)*float64(c.batch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			b.ReportMetric(float64(c.batch)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
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
