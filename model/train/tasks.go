package train

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"

	"sscscore/model/cascade"
	"sscscore/model/nn"
	"sscscore/model/nn/spec"
	"sscscore/model/parallel"
	"sscscore/model/phantom"
)

// levelsWindow is the number of input slices of a training sample
// (including the padding): 80 scan slices of 4 mm (320 mm) and 8 above
// and below.
const levelsWindow = 96

func levelsSpecFor() spec.Spec { return cascade.LevelsSpec() }
func scoresSpecFor() spec.Spec { return cascade.ScoresSpec() }

type levelsTask struct {
	cfg   *RunConfig
	cache *LevelsCache
	real  []*LevelsCase
	val   []*LevelsCase
}

func newLevelsTask(ctx context.Context, cfg *RunConfig) (*levelsTask, error) {
	t := &levelsTask{cfg: cfg, cache: &LevelsCache{Dir: filepath.Join(cfg.Cache, "levels")}}
	if cfg.RealDir != "" || cfg.Real != nil {
		cases, err := realCases(ctx, cfg)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			lc, err := c.LevelsCase(ctx)
			if err != nil {
				return nil, err
			}
			t.real = append(t.real, lc)
		}
		if len(t.real) == 0 {
			return nil, fmt.Errorf("train: no usable real scan in %s", cfg.RealDir)
		}
	}
	if cfg.NoSynthetic && len(t.real) == 0 {
		return nil, fmt.Errorf("train: --no-synthetic needs real labelled scans")
	}
	return t, nil
}

// realCases returns the run's real labelled scans: cfg.Real, or those of
// cfg.RealDir and cfg.RealCSV, checked.
func realCases(ctx context.Context, cfg *RunConfig) ([]*RealCase, error) {
	if cfg.Real != nil {
		return cfg.Real, nil
	}
	return LoadRealCases(ctx, cfg.RealDir, cfg.RealCSV, cfg.Log)
}

func (t *levelsTask) spec() spec.Spec { return levelsSpecFor() }

func (t *levelsTask) pick(ctx context.Context, rng *rand.Rand) (*LevelsCase, error) {
	if len(t.real) > 0 && (t.cfg.NoSynthetic || rng.Float64() < t.cfg.RealShare) {
		return t.real[rng.IntN(len(t.real))], nil
	}
	a, b := t.cfg.TrainSeeds[0], t.cfg.TrainSeeds[1]
	seed := a + rng.Int64N(max(1, b-a))
	return t.cache.Get(ctx, seed)
}

func (t *levelsTask) batch(ctx context.Context, step int, rng *rand.Rand) ([]float32, nn.Shape, any, error) {
	var xs []float32
	var samples []*LevelsSample
	for len(samples) < t.cfg.Batch {
		lc, err := t.pick(ctx, rng)
		if err != nil {
			return nil, nil, nil, err
		}
		s, err := MakeLevelsSample(lc, rng, LevelsAug{On: true}, levelsWindow)
		if err != nil {
			return nil, nil, nil, err
		}
		xs = append(xs, s.X...)
		samples = append(samples, s)
	}
	return xs, nn.Shape{len(samples), 1, levelsWindow, cascade.LevelsXY, cascade.LevelsXY}, samples, nil
}

func (t *levelsTask) loss(out []float32, shape nn.Shape, tg any) (float64, []float32) {
	l, g, _ := LevelsLoss(out, shape[2], tg.([]*LevelsSample))
	return l, g
}

// levelErrors returns the absolute errors (mm) of the cascade's level
// estimates on a sample, for the levels inside its scan.
func levelErrors(ctx context.Context, c *cascade.Cascade, s *LevelsSample) ([5]float64, [5]bool, error) {
	var e [5]float64
	var ok [5]bool
	est, err := c.Levels(ctx, s.Coarse, s.Geom)
	if err != nil {
		return e, ok, err
	}
	for i := 0; i < 5; i++ {
		if !s.Known[i] || !s.Inside[i] {
			continue
		}
		e[i] = math.Abs(est[i].Z - s.Case.Levels[i])
		ok[i] = true
	}
	return e, ok, nil
}

func (t *levelsTask) validate(ctx context.Context, net *nn.Net) (float64, []float64, error) {
	if t.val == nil {
		for seed := t.cfg.ValSeeds[0]; seed < t.cfg.ValSeeds[1]; seed++ {
			lc, err := t.cache.Get(ctx, seed)
			if err != nil {
				return 0, nil, err
			}
			t.val = append(t.val, lc)
		}
	}
	// The network is validated (and its best checkpoint chosen) on its own
	// reading, each level's heat map alone: the anatomical prior is a
	// decoding added on top, not part of what is trained.
	c := cascade.FromNets(net, nil, cascade.ModelInfo{}).WithLevelPrior(nil)
	var sum [5]float64
	var cnt [5]int
	for _, lc := range t.val {
		s, err := MakeLevelsSample(lc, nil, LevelsAug{}, 0)
		if err != nil {
			return 0, nil, err
		}
		e, ok, err := levelErrors(ctx, c, s)
		if err != nil {
			return 0, nil, err
		}
		for i := range e {
			if ok[i] {
				sum[i] += e[i]
				cnt[i]++
			}
		}
	}
	parts := make([]float64, 5)
	var all float64
	var n int
	for i := range parts {
		if cnt[i] > 0 {
			parts[i] = sum[i] / float64(cnt[i])
		}
		all += sum[i]
		n += cnt[i]
	}
	if n == 0 {
		return 0, parts, fmt.Errorf("train: no validation level inside its scan")
	}
	return all / float64(n), parts, nil
}

func (t *levelsTask) describe(v float64, parts []float64) string {
	return fmt.Sprintf("level MAE %.2f mm (L1..L5 %.1f %.1f %.1f %.1f %.1f)", v, parts[0], parts[1], parts[2], parts[3], parts[4])
}

type scoresTask struct {
	cfg   *RunConfig
	cache *SliceCache
	real  []*RealSlice
	val   []*ScoreSample
}

func newScoresTask(ctx context.Context, cfg *RunConfig) (*scoresTask, error) {
	t := &scoresTask{cfg: cfg, cache: &SliceCache{Dir: filepath.Join(cfg.Cache, "slices"), PerSeed: SlicesPerSeed, PLevel: 0.4}}
	if cfg.RealDir != "" || cfg.Real != nil {
		cases, err := realCases(ctx, cfg)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			t.real = append(t.real, c.ScoreSlices()...)
		}
		if len(t.real) == 0 {
			return nil, fmt.Errorf("train: no scored level in the real scans of %s", cfg.RealDir)
		}
	}
	if cfg.NoSynthetic && len(t.real) == 0 {
		return nil, fmt.Errorf("train: --no-synthetic needs real labelled scans")
	}
	return t, nil
}

// SlicesPerSeed is the number of full-resolution slices cached per
// phantom seed (healthy and diseased phantoms each) for the score network.
const SlicesPerSeed = 6

func (t *scoresTask) spec() spec.Spec { return scoresSpecFor() }

func (t *scoresTask) sample(ctx context.Context, rng *rand.Rand, aug bool) (*ScoreSample, error) {
	if len(t.real) > 0 && (t.cfg.NoSynthetic || rng.Float64() < t.cfg.RealShare) {
		return t.real[rng.IntN(len(t.real))].Sample(ctx, rng, ScoresAug{On: aug})
	}
	a, b := t.cfg.TrainSeeds[0], t.cfg.TrainSeeds[1]
	seed := a + rng.Int64N(max(1, b-a))
	disease := rng.Float64() < t.cfg.PhantomShare
	s, err := t.cache.Get(ctx, seed, disease, rng.IntN(SlicesPerSeed))
	if err != nil {
		return nil, err
	}
	return SampleFromSlice(s, rng, ScoresAug{On: aug}), nil
}

func (t *scoresTask) batch(ctx context.Context, step int, rng *rand.Rand) ([]float32, nn.Shape, any, error) {
	// Each sample has its own random stream, so they can be made in
	// parallel and the batch does not depend on the schedule.
	seeds := make([]uint64, t.cfg.Batch)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	samples := make([]*ScoreSample, len(seeds))
	err := parallel.For(ctx, len(seeds), 2, func(_, i int) error {
		r := rand.New(rand.NewPCG(seeds[i], 0xba7c4))
		for try := 0; try < 8; try++ {
			s, err := t.sample(ctx, r, true)
			if err != nil {
				return err
			}
			if !s.NoLung {
				samples[i] = s
				return nil
			}
		}
		return fmt.Errorf("train: no slice with lung drawn in 8 tries")
	})
	if err != nil {
		return nil, nil, nil, err
	}
	var xs []float32
	var tgs []*ScoreTarget
	for _, s := range samples {
		xs = append(xs, s.X...)
		tgs = append(tgs, s.Target)
	}
	return xs, nn.Shape{len(tgs), 2, cascade.SliceSide, cascade.SliceSide}, tgs, nil
}

func (t *scoresTask) loss(out []float32, shape nn.Shape, tg any) (float64, []float32) {
	l, g, _ := ScoresLoss(out, tg.([]*ScoreTarget))
	return l, g
}

// valSamples returns the validation samples: for every validation seed,
// its healthy slices with pasted disease and its diseased slices, without
// augmentation, from fixed random streams.
func (t *scoresTask) valSamples(ctx context.Context) ([]*ScoreSample, error) {
	var out []*ScoreSample
	for seed := t.cfg.ValSeeds[0]; seed < t.cfg.ValSeeds[1]; seed++ {
		for _, disease := range []bool{false, true} {
			for i := 0; i < SlicesPerSeed; i += 2 {
				s, err := t.cache.Get(ctx, seed, disease, i)
				if err != nil {
					return nil, err
				}
				r := rand.New(rand.NewPCG(uint64(seed), uint64(i)))
				sm := SampleFromSlice(s, r, ScoresAug{})
				if !sm.NoLung {
					out = append(out, sm)
				}
			}
		}
	}
	return out, nil
}

// PredictScores runs the score network on prepared inputs (inference
// plan, batches of 8).
func PredictScores(net *nn.Net, xs [][]float32) ([]cascade.Scores, error) {
	c := cascade.FromNets(nil, net, cascade.ModelInfo{})
	var out []cascade.Scores
	for i := 0; i < len(xs); i += 8 {
		s, _, err := c.ScoreBatch(xs[i:min(len(xs), i+8)])
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

func (t *scoresTask) validate(ctx context.Context, net *nn.Net) (float64, []float64, error) {
	if t.val == nil {
		v, err := t.valSamples(ctx)
		if err != nil {
			return 0, nil, err
		}
		t.val = v
	}
	xs := make([][]float32, len(t.val))
	for i, s := range t.val {
		xs[i] = s.X
	}
	pr, err := PredictScores(net, xs)
	if err != nil {
		return 0, nil, err
	}
	var e [3]float64
	for i, p := range pr {
		l := t.val[i].Target.Labels
		e[0] += math.Abs(p.TOT - l.TOT)
		e[1] += math.Abs(p.GG - l.GG)
		e[2] += math.Abs(p.RET - l.RET)
	}
	n := float64(len(pr))
	parts := []float64{e[0] / n, e[1] / n, e[2] / n}
	return (parts[0] + parts[1] + parts[2]) / 3, parts, nil
}

func (t *scoresTask) describe(v float64, parts []float64) string {
	return fmt.Sprintf("score MAE %.2f (TOT %.2f, GG %.2f, RET %.2f) on %d slices", v, parts[0], parts[1], parts[2], len(t.val))
}

// FillCache renders the cache entries of seeds [from, to) for kind
// ("levels" or "scores"), skipping those already present. progress, if
// not nil, is called after each seed.
func FillCache(ctx context.Context, kind, dir string, from, to int64, progress func(seed int64, done, total int)) error {
	total := int(to - from)
	for seed := from; seed < to; seed++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch kind {
		case "levels":
			c := &LevelsCache{Dir: filepath.Join(dir, "levels")}
			if !c.Has(seed) {
				if _, err := c.Get(ctx, seed); err != nil {
					return fmt.Errorf("train: phantom %d: %w", seed, err)
				}
			}
		case "scores":
			c := &SliceCache{Dir: filepath.Join(dir, "slices"), PerSeed: SlicesPerSeed, PLevel: 0.4}
			for _, d := range []bool{false, true} {
				if !c.Has(seed, d) {
					if _, err := c.Render(ctx, seed, d); err != nil {
						return fmt.Errorf("train: phantom %d: %w", seed, err)
					}
				}
			}
		default:
			return fmt.Errorf("train: unknown cache %q", kind)
		}
		if progress != nil {
			progress(seed, int(seed-from)+1, total)
		}
	}
	return nil
}

var _ = phantom.Options{}
