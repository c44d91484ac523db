package train

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nlpodyssey/spago/optimizers/adam"

	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
	"sscscore/model/nn/spec"
)

// RunConfig configures a training run. The zero values of the numeric
// fields take the defaults of the kind (see Defaults).
type RunConfig struct {
	Kind  string `json:"kind"` // "levels" or "scores"
	Out   string `json:"out"`  // checkpoints, state, curves
	Cache string `json:"cache"`
	Seed  uint64 `json:"seed"`
	Steps int    `json:"steps"`
	Batch int    `json:"batch"`
	// LR is Adam's peak step size (linear warm-up over Warmup steps, then
	// cosine decay to 5 % at Steps).
	LR     float64 `json:"lr"`
	Warmup int     `json:"warmup"`
	// TrainSeeds and ValSeeds are the phantom seed ranges [from, to).
	TrainSeeds [2]int64 `json:"train_seeds"`
	ValSeeds   [2]int64 `json:"val_seeds"`
	ValEvery   int      `json:"val_every"`
	// Threads limits the goroutines of the matrix products (0: all cores).
	Threads int  `json:"threads"`
	Resume  bool `json:"-"`
	// Init starts from these weights (safetensors) instead of random ones.
	Init string `json:"init,omitempty"`
	// RealDir and RealCSV add real labelled scans (a folder of DICOM
	// series and a CSV in the paper's layout); RealShare is the share of
	// each batch drawn from them (1 trains on real data only).
	RealDir   string  `json:"real_dir,omitempty"`
	RealCSV   string  `json:"real_csv,omitempty"`
	RealShare float64 `json:"real_share,omitempty"`
	// Real, when not nil, are the real labelled scans to train on, already
	// checked and loaded (cross-validation passes each fold's); RealDir and
	// RealCSV are then only recorded.
	Real []*RealCase `json:"-"`
	// NoValidation skips the validation on phantoms (cross-validation
	// measures each run on its held-out scans); the last weights are
	// then the run's outcome.
	NoValidation bool `json:"no_validation,omitempty"`
	// NoSynthetic trains on real data only.
	NoSynthetic bool `json:"no_synthetic,omitempty"`
	// PhantomShare (scores): share of samples from phantoms with 3D
	// disease (the rest: healthy phantom slices with pasted disease).
	PhantomShare float64 `json:"phantom_share,omitempty"`
	// Log receives progress lines.
	Log io.Writer `json:"-"`
}

// defaultInt sets *v to d when it is not positive.
func defaultInt(v *int, d int) {
	if *v <= 0 {
		*v = d
	}
}

// Defaults fills the zero fields of c.
func (c *RunConfig) Defaults() {
	def := defaultInt
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Cache == "" {
		c.Cache = filepath.Join(os.TempDir(), "sscscore-cache")
	}
	if c.Out == "" {
		c.Out = filepath.Join(os.TempDir(), "sscscore-train-"+c.Kind)
	}
	switch c.Kind {
	case "levels":
		def(&c.Steps, 4000)
		def(&c.Batch, 4)
		deff(&c.LR, 2e-3)
		if c.TrainSeeds == [2]int64{} {
			c.TrainSeeds = [2]int64{1, 1201}
		}
		if c.ValSeeds == [2]int64{} {
			c.ValSeeds = [2]int64{1000001, 1000041}
		}
	default:
		def(&c.Steps, 3000)
		def(&c.Batch, 16)
		deff(&c.LR, 2e-3)
		deff(&c.PhantomShare, 0.3)
		if c.TrainSeeds == [2]int64{} {
			c.TrainSeeds = [2]int64{1, 1201}
		}
		if c.ValSeeds == [2]int64{} {
			c.ValSeeds = [2]int64{1000001, 1000025}
		}
	}
	def(&c.Warmup, 150)
	def(&c.ValEvery, 200)
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// task is what differs between the two networks.
type task interface {
	spec() spec.Spec
	// batch returns the input, its shape, and the targets.
	batch(ctx context.Context, step int, rng *rand.Rand) ([]float32, nn.Shape, any, error)
	// loss returns the loss and its gradient with respect to the output.
	loss(out []float32, shape nn.Shape, targets any) (float64, []float32)
	// validate returns the validation metric (lower is better) and its
	// parts.
	validate(ctx context.Context, net *nn.Net) (float64, []float64, error)
	describe(metric float64, parts []float64) string
}

// Run trains a network as configured: Adam with warm-up and cosine decay,
// batches generated on the fly (phantoms and synthesis, cached on disk),
// validation on held-out seeds every ValEvery steps, the last state and
// the best weights (by validation MAE) kept in Out, curves drawn as PNG.
// With Resume it continues from Out's last checkpoint.
func Run(ctx context.Context, cfg RunConfig) (*State, error) {
	cfg.Defaults()
	var t task
	var err error
	switch cfg.Kind {
	case "levels":
		t, err = newLevelsTask(ctx, &cfg)
	case "scores":
		t, err = newScoresTask(ctx, &cfg)
	default:
		return nil, fmt.Errorf("train: unknown network %q (levels or scores)", cfg.Kind)
	}
	if err != nil {
		return nil, err
	}
	if cfg.Threads > 0 {
		defer gemm.SetThreads(gemm.SetThreads(cfg.Threads))
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	s := t.spec()
	net, err := spec.Build(s, spec.Options{Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	opt := nn.NewAdam(adam.NewConfig(cfg.LR, 0.9, 0.999, 1e-8))
	st := &State{Kind: cfg.Kind, Seed: cfg.Seed, BestVal: math.Inf(1), Config: cfg}
	if cfg.NoValidation {
		st.BestVal = 0 // no validation: the state's JSON has no +Inf
	}
	paths := func(name string) string { return filepath.Join(cfg.Out, cfg.Kind+"-"+name) }
	if cfg.Resume {
		b, err := os.ReadFile(paths("state.json"))
		if err != nil {
			return nil, fmt.Errorf("train: resume: %w", err)
		}
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("train: resume: %w", err)
		}
		if err := loadNet(net, paths("last.safetensors")); err != nil {
			return nil, fmt.Errorf("train: resume: %w", err)
		}
		if err := loadAdam(net, opt, paths("last.adam")); err != nil {
			return nil, fmt.Errorf("train: resume: %w", err)
		}
		st.Config.Resume = false
		fmt.Fprintf(cfg.Log, "resumed %s at step %d (best %.4g at step %d)\n", cfg.Kind, st.Step, st.BestVal, st.BestStep)
	} else if cfg.Init != "" {
		if err := loadNet(net, cfg.Init); err != nil {
			return nil, fmt.Errorf("train: initial weights: %w", err)
		}
	}
	stats, _ := spec.Count(s)
	fmt.Fprintf(cfg.Log, "%s\n", stats)
	fmt.Fprintf(cfg.Log, "training %s: %d steps of %d, lr %g, seeds %v, validation %v every %d steps, %d threads\n",
		cfg.Kind, cfg.Steps, cfg.Batch, cfg.LR, cfg.TrainSeeds, cfg.ValSeeds, cfg.ValEvery, gemm.Threads())

	// Batches are made ahead by one goroutine, each from its own random
	// stream (seed, step), so a run does not depend on timing.
	type prepared struct {
		step  int
		x     []float32
		shape nn.Shape
		tg    any
		err   error
	}
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue := make(chan prepared, 2)
	go func() {
		defer close(queue)
		for step := st.Step; step < cfg.Steps; step++ {
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(step)*0x9e3779b97f4a7c15+1))
			x, shape, tg, err := t.batch(bctx, step, rng)
			select {
			case queue <- prepared{step, x, shape, tg, err}:
			case <-bctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	save := func() error {
		meta := map[string]string{"step": fmt.Sprint(st.Step), "kind": cfg.Kind}
		if err := saveNet(net, paths("last.safetensors"), meta); err != nil {
			return err
		}
		if err := saveAdam(net, opt, paths("last.adam")); err != nil {
			return err
		}
		b, err := json.MarshalIndent(st, "", " ")
		if err != nil {
			return fmt.Errorf("train: state: %w", err)
		}
		if err := writeFileAtomic(paths("state.json"), b); err != nil {
			return err
		}
		return SaveCurves(st, paths("curves.png"))
	}
	validate := func() error {
		v, parts, err := t.validate(ctx, net)
		if err != nil {
			return err
		}
		st.Val = append(st.Val, Point{st.Step, v})
		if len(parts) == 3 {
			st.ValParts = append(st.ValParts, Point3{st.Step, [3]float64{parts[0], parts[1], parts[2]}})
		}
		best := ""
		if v < st.BestVal {
			st.BestVal, st.BestStep = v, st.Step
			meta := map[string]string{"step": fmt.Sprint(st.Step), "kind": cfg.Kind, "val": fmt.Sprint(v)}
			if err := saveNet(net, paths("best.safetensors"), meta); err != nil {
				return err
			}
			best = " (best)"
		}
		fmt.Fprintf(cfg.Log, "\nvalidation at step %d: %s%s\n", st.Step, t.describe(v, parts), best)
		return save()
	}

	start := time.Now()
	elapsed0 := st.Elapsed
	stepsDone := 0
	var avg float64
	if n := len(st.Train); n > 0 {
		avg = st.Train[n-1].Value
	}
	for p := range queue {
		if p.err != nil {
			return st, p.err
		}
		if err := ctx.Err(); err != nil {
			st.Elapsed = elapsed0 + time.Since(start).Seconds()
			save()
			return st, err
		}
		// learning rate: warm-up then cosine decay
		lr := cfg.LR
		if st.Step < cfg.Warmup {
			lr *= float64(st.Step+1) / float64(cfg.Warmup)
		} else {
			f := float64(st.Step-cfg.Warmup) / float64(max(1, cfg.Steps-cfg.Warmup))
			lr *= 0.05 + 0.95*0.5*(1+math.Cos(math.Pi*f))
		}
		ts := float64(opt.TimeStep)
		opt.Alpha = lr * math.Sqrt(1-math.Pow(0.999, ts)) / (1 - math.Pow(0.9, ts))

		in, err := nn.NewInput(p.x, p.shape, false)
		if err != nil {
			return st, err
		}
		y := net.Forward(nn.NewCtx(nn.Train, cfg.Seed^uint64(st.Step)), in)
		loss, grad := t.loss(y.Values(), y.Shape, p.tg)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return st, fmt.Errorf("train: loss is %v at step %d", loss, st.Step)
		}
		if err := nn.Backward(y, grad); err != nil {
			return st, err
		}
		if err := opt.Step(net.Params()); err != nil {
			return st, err
		}
		st.Step++
		stepsDone++
		if len(st.Train) == 0 && avg == 0 {
			avg = loss
		}
		avg = 0.98*avg + 0.02*loss
		if st.Step%10 == 0 {
			st.Train = append(st.Train, Point{st.Step, avg})
		}
		el := time.Since(start)
		per := el / time.Duration(stepsDone)
		eta := per * time.Duration(cfg.Steps-st.Step)
		if st.Step%5 == 0 || st.Step == cfg.Steps {
			frac := float64(st.Step) / float64(cfg.Steps)
			bar := strings.Repeat("#", int(frac*30)) + strings.Repeat(".", 30-int(frac*30))
			fmt.Fprintf(cfg.Log, "\r%s [%s] %d/%d loss %.4f (avg %.4f) lr %.2g %.2fs/step ETA %s   ",
				cfg.Kind, bar, st.Step, cfg.Steps, loss, avg, lr, per.Seconds(), eta.Round(time.Second))
		}
		if !cfg.NoValidation && (st.Step%cfg.ValEvery == 0 || st.Step == cfg.Steps) {
			st.Elapsed = elapsed0 + time.Since(start).Seconds()
			if err := validate(); err != nil {
				return st, err
			}
		}
	}
	st.Elapsed = elapsed0 + time.Since(start).Seconds()
	if err := save(); err != nil {
		return st, err
	}
	fmt.Fprintf(cfg.Log, "\ndone: %d steps in %s; best validation %.4g at step %d\n", st.Step,
		time.Duration(st.Elapsed*float64(time.Second)).Round(time.Second), st.BestVal, st.BestStep)
	return st, nil
}

// LoadTrained builds the network of a run and loads its best (or last)
// weights from dir.
func LoadTrained(kind, dir string, last bool) (*nn.Net, spec.Spec, error) {
	var s spec.Spec
	switch kind {
	case "levels":
		s = levelsSpecFor()
	case "scores":
		s = scoresSpecFor()
	default:
		return nil, s, fmt.Errorf("train: unknown network %q", kind)
	}
	net, err := spec.Build(s, spec.Options{})
	if err != nil {
		return nil, s, err
	}
	name := "best"
	if last {
		name = "last"
	}
	if err := loadNet(net, filepath.Join(dir, kind+"-"+name+".safetensors")); err != nil {
		return nil, s, err
	}
	return net, s, nil
}
