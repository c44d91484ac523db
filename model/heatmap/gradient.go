package heatmap

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/nlpodyssey/spago/mat"
	spnn "github.com/nlpodyssey/spago/nn"

	"sscscore/model/cascade"
	"sscscore/model/nn"
)

// gradNet is the score network split for Grad-CAM: a compiled trunk up to
// the last convolutional block (batch 2: the slice and its healthy
// version) and the head after it as graph layers with frozen parameters
// (no parameter gradients, and no shared state touched).
type gradNet struct {
	mu    sync.Mutex // the plan is not safe for concurrent runs
	trunk *nn.Plan
	head  []nn.Layer
	block nn.Shape // the last block's per-sample shape (C, H, W)
}

var (
	gradMu    sync.Mutex
	gradCache = map[*nn.Net]*gradEntry{}
)

type gradEntry struct {
	g   *gradNet
	err error
}

// gradNetFor returns the Grad-CAM split of net (built once per net). The
// target is the input of the network's last convolution: the output of
// its last convolutional block (for the score network, 64 channels on the
// 32² grid of 12 mm cells), and the head is the rest (a 1×1 convolution).
func gradNetFor(net *nn.Net) (*gradNet, error) {
	gradMu.Lock()
	defer gradMu.Unlock()
	if e := gradCache[net]; e != nil {
		return e.g, e.err
	}
	e := &gradEntry{}
	e.g, e.err = newGradNet(net)
	if len(gradCache) > 4 {
		clear(gradCache)
	}
	gradCache[net] = e
	return e.g, e.err
}

func newGradNet(net *nn.Net) (*gradNet, error) {
	h := -1
	for i, l := range net.Layers {
		if _, ok := l.(*nn.Conv); ok {
			h = i
		}
	}
	if h < 1 {
		return nil, fmt.Errorf("heatmap: %s has no convolutional block before its last convolution", net.Name)
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	block := shapes[h-1]
	if len(block) != 4 {
		return nil, fmt.Errorf("heatmap: %s: the last block's output %v is not a 2-D map", net.Name, block)
	}
	trunk, err := nn.Compile(net, 2, nn.CompileOptions{UpTo: h})
	if err != nil {
		return nil, fmt.Errorf("heatmap: compiling %s: %w", net.Name, err)
	}
	g := &gradNet{trunk: trunk, block: slices.Clone(block[1:])}
	for _, l := range net.Layers[h:] {
		fl, err := frozen(l)
		if err != nil {
			return nil, err
		}
		g.head = append(g.head, fl)
	}
	return g, nil
}

// frozen returns a copy of layer l whose parameters require no gradient.
func frozen(l nn.Layer) (nn.Layer, error) {
	fr := func(p *spnn.Param) *spnn.Param {
		if p == nil {
			return nil
		}
		return spnn.NewParam(p.Value().(mat.Matrix)).WithGrad(false)
	}
	switch v := l.(type) {
	case *nn.Conv:
		c := *v
		c.W, c.B = fr(v.W), fr(v.B)
		return &c, nil
	case *nn.BatchNorm:
		b := *v
		b.Weight, b.Bias = fr(v.Weight), fr(v.Bias)
		return &b, nil
	case *nn.Activation, *nn.DropoutLayer:
		return l, nil
	}
	return nil, fmt.Errorf("heatmap: Grad-CAM head layer %T not supported", l)
}

// Gradient computes Grad-CAM maps of a prepared slice (nx × ny original
// pixels): gradients of each score with respect to the score network's
// last convolutional block (64 channels on the 32² grid of 12 mm cells),
// taken element-wise (HiResCAM: Draelos & Carin 2020, faithful for a
// network whose head after the block is a 1×1 convolution) and multiplied
// by the block's change towards healthy lung, with the gradient averaged
// along the way (integrated gradients: Sundararajan et al. 2017):
//
//	cell_i = Σ_k (A_healthy - A)[k,i] · mean over α of ∂score/∂A[k,i] at A + α(A_healthy - A)
//
// where A is the block's activation for the slice and A_healthy for the
// slice with its lung replaced by the healthy texture (HealthyTexture).
// cell_i is the change of the score if cell i became healthy; the cells
// sum to Healthy - Scores (exactly, up to the 8-point sum), negative where
// disease drives the score, and the averaging keeps confidently diseased
// cells (whose gradient has saturated) in the map. Each cell's value is
// spread over its lung as a density, interpolated between cell centres
// and scaled to a DefaultWindow² window of original pixels, the unit of
// the occlusion map, so both maps share DefaultThreshold.
//
// Cost: two forward passes of the network's trunk (the slice and its
// healthy version, one batch, compiled inference), and one forward and
// one backward pass of the head through spago's autograd on a batch of
// eight path points per score, each seeded with its score's gradient.
func Gradient(ctx context.Context, c *cascade.Cascade, in *cascade.SliceInput, nx, ny int) (*Maps, error) {
	if err := checkInput(in, nx, ny); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, net := c.Nets()
	g, err := gradNetFor(net)
	if err != nil {
		return nil, err
	}
	h := HealthyTexture(in)
	x2 := append(slices.Clone(in.X), healthyInput(in, h)...)
	g.mu.Lock()
	blocks, err := runPlan(g.trunk, x2)
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	per := g.block.Size()
	a, ah := blocks[:per], blocks[per:]
	cellsN := g.block[1] * g.block[2]
	if cellsN != cascade.CellSide*cascade.CellSide {
		return nil, fmt.Errorf("heatmap: last block of %v cells, want %d²", g.block, cascade.CellSide)
	}
	m := &Maps{Method: MethodGradient, Nx: nx, Ny: ny, Lung: in.Lung, Window: DefaultWindow}
	cells, sc, hs, err := g.integrated(a, ah, gradientSteps)
	if err != nil {
		return nil, err
	}
	m.Scores, m.Healthy = sc, hs
	m.Values = cellsToPixels(cells, in, nx, ny, DefaultWindow)
	return m, ctx.Err()
}

// gradientSteps is the number of points on the path from the healthy
// block activation to the slice's at which the gradient is averaged.
const gradientSteps = 8

// integrated returns, for each score s, the per-cell contributions to s
// of the change of the last block's activation from b (healthy) to a (the
// slice):
//
//	cell_i = Σ_k (b - a)[k,i] · mean_j ∂s/∂A[k,i] at A = b + α_j (a - b)
//
// with α_j = j/steps, j = 1 … steps (integrated gradients, right Riemann
// sum; the cells sum to s(b) - s(a) up to the sum's error). The path
// points of the three scores form one batch (each sample's output seeded
// with its score's gradient), so the head runs one forward and one
// backward pass through spago's autograd. It also returns the scores at a
// and at b.
func (g *gradNet) integrated(a, b []float32, steps int) ([NumScores][]float64, cascade.Scores, cascade.Scores, error) {
	var cells [NumScores][]float64
	per := len(a)
	n := g.block[1] * g.block[2]
	batch := int(NumScores)*steps + 1
	xs := make([]float32, 0, batch*per)
	for range Scores {
		for j := 1; j <= steps; j++ {
			al := float32(j) / float32(steps)
			for i := range a {
				xs = append(xs, b[i]+al*(a[i]-b[i]))
			}
		}
	}
	xs = append(xs, b...) // the healthy end, for its score only
	x, err := nn.NewInput(xs, append(nn.Shape{batch}, g.block...), true)
	if err != nil {
		return cells, cascade.Scores{}, cascade.Scores{}, err
	}
	ctx := nn.NewCtx(nn.Eval, 0)
	y := x
	for _, l := range g.head {
		y = l.Forward(ctx, y)
	}
	z := y.Values()
	no := len(z) / batch
	if no != cascade.NumScoreChans*n {
		return cells, cascade.Scores{}, cascade.Scores{}, fmt.Errorf("heatmap: score network head gave %d values per input", no)
	}
	seed := make([]float32, len(z)) // the healthy end gets no gradient
	for j := 0; j < steps; j++ {
		// the scores' copies of path point j have the same logits
		gs := scoreGrads(z[j*no : (j+1)*no])
		for _, s := range Scores {
			q := int(s)*steps + j
			copy(seed[q*no:], gs[s])
		}
	}
	if err := nn.Backward(y, seed); err != nil {
		return cells, cascade.Scores{}, cascade.Scores{}, fmt.Errorf("heatmap: backward pass: %w", err)
	}
	gr := nn.Grad[float32](x)
	sum := make([]float32, per)
	for _, s := range Scores {
		cells[s] = make([]float64, n)
		if gr == nil {
			continue // no score depends on the block (no lung)
		}
		clear(sum)
		for j := 0; j < steps; j++ {
			q := (int(s)*steps + j) * per
			for i, v := range gr[q : q+per] {
				sum[i] += v
			}
		}
		for k := 0; k < g.block[0]; k++ {
			for i := 0; i < n; i++ {
				q := k*n + i
				cells[s][i] += float64(sum[q]) / float64(steps) * float64(b[q]-a[q])
			}
		}
	}
	sa := sumsOf(z[(steps-1)*no : steps*no]).scores()
	sb := sumsOf(z[(batch-1)*no:]).scores()
	return cells, sa, sb, nil
}

// runPlan runs a plan and copies its output, turning a panic into an
// error.
func runPlan(p *nn.Plan, x []float32) (out []float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("heatmap: network: %w", nn.PanicError(r))
		}
	}()
	y, err := p.Run(x)
	if err != nil {
		return nil, err
	}
	return slices.Clone(y), nil
}

// Dense returns the score network's own explanation of a prepared slice:
// its per-cell disease maps (cascade.ScoreMaps), each cell's share of the
// score (score points, negative: the score falls by that much without the
// cell's disease) spread over the cell's lung and scaled to a
// DefaultWindow² window like the Gradient map. It costs one forward pass.
func Dense(ctx context.Context, c *cascade.Cascade, in *cascade.SliceInput, nx, ny int) (*Maps, error) {
	if err := checkInput(in, nx, ny); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := c.ScoreInput(in)
	if err != nil {
		return nil, err
	}
	m := &Maps{Method: MethodDense, Nx: nx, Ny: ny, Lung: in.Lung, Scores: s.Scores, Window: DefaultWindow}
	var sl float64
	for _, l := range s.Maps.Lung {
		sl += float64(l)
	}
	var cells [NumScores][]float64
	for k, v := range [NumScores][]float32{s.Maps.TOT, s.Maps.GG, s.Maps.RET} {
		cells[k] = make([]float64, len(v))
		if sl < 1e-6 {
			continue
		}
		for i, p := range v {
			cells[k][i] = -100 * float64(s.Maps.Lung[i]) * float64(p) / sl
		}
	}
	m.Values = cellsToPixels(cells, in, nx, ny, DefaultWindow)
	return m, nil
}

// Compute returns the maps of method for a prepared slice (Gradient,
// Occlusion with opt, or Dense).
func Compute(ctx context.Context, method Method, c *cascade.Cascade, in *cascade.SliceInput, nx, ny int, opt Options) (*Maps, error) {
	switch method {
	case MethodGradient, "":
		return Gradient(ctx, c, in, nx, ny)
	case MethodOcclusion:
		return Occlusion(ctx, c, in, nx, ny, opt)
	case MethodDense:
		return Dense(ctx, c, in, nx, ny)
	}
	return nil, fmt.Errorf("heatmap: unknown method %q (gradient, occlusion or dense)", method)
}
