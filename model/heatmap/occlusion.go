package heatmap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"sscscore/model/cascade"
	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
	"sscscore/model/parallel"
)

// Options controls Occlusion. The zero value follows the paper.
type Options struct {
	// Window and Stride are the occlusion window's side and step, in
	// pixels of the original slice (DefaultWindow, DefaultStride).
	Window, Stride int
	// Soften is the side of the box (original pixels) that softens the
	// window's edges (DefaultSoften; negative for hard edges).
	Soften int
	// Batch is the number of windows evaluated together (default 8).
	Batch int
	// Progress, if not nil, is called after each batch with the windows
	// done and the total (windows that touch no lung are skipped and not
	// counted); calls are serialized, and made on the calling goroutine
	// when the work runs on it alone (under js/wasm). Cancelling ctx stops the work at
	// the next batch.
	Progress func(done, total int)
	// FullRerun runs the whole score network for every window instead of
	// recomputing only the region a window changes (same result within
	// float rounding, about ten times slower; for checks).
	FullRerun bool
}

func (o *Options) defaults() {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Stride <= 0 {
		o.Stride = DefaultStride
	}
	if o.Soften == 0 {
		o.Soften = DefaultSoften
	}
	if o.Soften < 0 {
		o.Soften = 0
	}
	if o.Batch <= 0 {
		o.Batch = 8
	}
}

// positions returns the window offsets along an axis of n pixels: every
// stride from 0, plus one flush with the far edge when the last does not
// reach it.
func positions(n, win, stride int) []int {
	if n <= win {
		return []int{0}
	}
	var p []int
	for o := 0; o+win <= n; o += stride {
		p = append(p, o)
	}
	if p[len(p)-1]+win < n {
		p = append(p, n-win)
	}
	return p
}

// window is one occlusion window: its rectangle on the original slice
// (x0…x1-1, y0…y1-1) and its soft mask on the input grid.
type window struct {
	x0, x1, y0, y1 int
	r              rect      // input-grid rectangle the mask covers
	px, py         []float32 // mask profiles over r's columns and rows
}

// profile returns the coverage of input pixels i0… by the softened window
// [a, b] (original pixel coordinates of its edges) along one axis: the
// window's indicator convolved with a box of soft pixels, averaged over
// each input pixel (16 samples).
func profile(a, b, soft, origin, step float64, n int) (i0 int, p []float32) {
	half := soft / 2
	lo := int(math.Floor((a-half-origin)/step - 0.5))
	hi := int(math.Ceil((b+half-origin)/step + 0.5))
	lo, hi = max(lo, 0), min(hi, n-1)
	cover := func(t float64) float64 {
		if soft <= 0 {
			if t >= a && t <= b {
				return 1
			}
			return 0
		}
		return math.Max(0, math.Min(t+half, b)-math.Max(t-half, a)) / soft
	}
	const samples = 16
	first := -1
	for i := lo; i <= hi; i++ {
		var s float64
		for k := 0; k < samples; k++ {
			t := origin + (float64(i)-0.5+(float64(k)+0.5)/samples)*step
			s += cover(t)
		}
		v := float32(s / samples)
		if v <= 0 && first < 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		p = append(p, v)
	}
	for len(p) > 0 && p[len(p)-1] <= 0 {
		p = p[:len(p)-1]
	}
	return first, p
}

// windows lists the occlusion windows of a slice that touch the lung.
func windows(in *cascade.SliceInput, nx, ny int, opt Options) []window {
	// integral image of the lung mask on the original grid
	w1 := nx + 1
	ii := make([]int32, (ny+1)*w1)
	for y := 0; y < ny; y++ {
		var r int32
		for x := 0; x < nx; x++ {
			if in.Lung[y*nx+x] {
				r++
			}
			ii[(y+1)*w1+x+1] = ii[y*w1+x+1] + r
		}
	}
	side := cascade.SliceSide
	n := side * side
	lung := in.X[n : 2*n]
	// bounding box of the lung on the input grid
	lb := rect{side, 0, side, 0}
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			if lung[y*side+x] > 0 {
				lb.y0, lb.y1 = min(lb.y0, y), max(lb.y1, y+1)
				lb.x0, lb.x1 = min(lb.x0, x), max(lb.x1, x+1)
			}
		}
	}
	var out []window
	for _, y0 := range positions(ny, opt.Window, opt.Stride) {
		for _, x0 := range positions(nx, opt.Window, opt.Stride) {
			x1, y1 := min(x0+opt.Window, nx), min(y0+opt.Window, ny)
			if ii[y1*w1+x1]-ii[y0*w1+x1]-ii[y1*w1+x0]+ii[y0*w1+x0] == 0 {
				continue // touches no lung
			}
			w := window{x0: x0, x1: x1, y0: y0, y1: y1}
			i0, px := profile(float64(x0)-0.5, float64(x1)-0.5, float64(opt.Soften), in.X0, in.Step[0], side)
			j0, py := profile(float64(y0)-0.5, float64(y1)-0.5, float64(opt.Soften), in.Y0, in.Step[1], side)
			w.r = rect{y0: max(j0, lb.y0), y1: min(j0+len(py), lb.y1), x0: max(i0, lb.x0), x1: min(i0+len(px), lb.x1)}
			if i0 < 0 || j0 < 0 || w.r.empty() {
				w.r = rect{}
			} else {
				w.px = px[w.r.x0-i0 : w.r.x1-i0]
				w.py = py[w.r.y0-j0 : w.r.y1-j0]
			}
			out = append(out, w)
		}
	}
	return out
}

// occludedPatch returns the input of window w on its rectangle (both
// channels): the image blended towards the healthy texture h by the
// window's mask times the lung coverage.
func occludedPatch(x, h []float32, w *window) []float32 {
	side := cascade.SliceSide
	n := side * side
	r := w.r
	rw := r.w()
	p := make([]float32, 2*r.area())
	for y := r.y0; y < r.y1; y++ {
		for xx := r.x0; xx < r.x1; xx++ {
			i := y*side + xx
			k := (y-r.y0)*rw + xx - r.x0
			m := w.py[y-r.y0] * w.px[xx-r.x0] * x[n+i]
			p[k] = x[i] + m*(h[i]-x[i])
			p[r.area()+k] = x[n+i]
		}
	}
	return p
}

// fullInput returns the whole input of window w.
func fullInput(x, h []float32, w *window) []float32 {
	out := append([]float32(nil), x...)
	if w.r.empty() {
		return out
	}
	p := occludedPatch(x, h, w)
	side := cascade.SliceSide
	r := w.r
	for y := r.y0; y < r.y1; y++ {
		copy(out[y*side+r.x0:y*side+r.x1], p[(y-r.y0)*r.w():(y-r.y0+1)*r.w()])
	}
	return out
}

var (
	chainMu    sync.Mutex
	chainCache = map[*nn.Net]*chainEntry{}
)

type chainEntry struct {
	ch  *chain
	err error
}

// chainFor returns the incremental engine for net (built once per net).
func chainFor(net *nn.Net) (*chain, error) {
	chainMu.Lock()
	defer chainMu.Unlock()
	e := chainCache[net]
	if e == nil {
		e = &chainEntry{}
		e.ch, e.err = newChain(net)
		if len(chainCache) > 4 {
			clear(chainCache)
		}
		chainCache[net] = e
	}
	return e.ch, e.err
}

// Occlusion computes the paper's occlusion-sensitivity maps of a prepared
// slice (nx × ny original pixels): a window of opt.Window original pixels
// slides with opt.Stride over the slice; inside the lung (the input's
// lung-coverage channel) and with edges softened by an opt.Soften box, the
// window is replaced by healthy-lung texture (HealthyTexture); each window
// adds its change of each score (occluded - original, score points) to
// the lung pixels it covers, and each pixel takes the average. Windows
// that touch no lung are skipped.
//
// Windows are evaluated in batches of opt.Batch; each is recomputed only
// on the region of each layer it changes (see region.go), which equals a
// full re-run. Natively the batches are shared among gemm.Threads()
// goroutines; under js/wasm everything runs on the calling goroutine,
// and opt.Progress is called after each batch (a worker can yield there
// to notice a cancel).
func Occlusion(ctx context.Context, c *cascade.Cascade, in *cascade.SliceInput, nx, ny int, opt Options) (*Maps, error) {
	if err := checkInput(in, nx, ny); err != nil {
		return nil, err
	}
	opt.defaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, net := c.Nets()
	h := HealthyTexture(in)
	ws := windows(in, nx, ny, opt)
	m := &Maps{Method: MethodOcclusion, Nx: nx, Ny: ny, Lung: in.Lung, Window: opt.Window, Windows: len(ws)}
	deltas := make([][NumScores]float64, len(ws))

	var ch *chain
	if !opt.FullRerun {
		var err error
		if ch, err = chainFor(net); err != nil && !errors.Is(err, errNotChain) {
			return nil, err
		}
	}
	var eval func(batch []int, ws0 *workspace) error
	if ch != nil {
		wsp := &workspace{}
		acts := ch.forward(in.X, wsp)
		logits := acts[len(acts)-1]
		if len(logits) != cascade.NumScoreChans*cascade.CellSide*cascade.CellSide {
			return nil, fmt.Errorf("heatmap: score network gave %d values", len(logits))
		}
		base := sumsOf(logits)
		m.Scores = base.scores()
		hl, err := fullScores(c, healthyInput(in, h))
		if err != nil {
			return nil, err
		}
		m.Healthy = hl
		last := ch.stages[len(ch.stages)-1]
		eval = func(batch []int, wsp *workspace) error {
			jobs := make([]*job, len(batch))
			for k, wi := range batch {
				w := &ws[wi]
				jobs[k] = &job{p: patch{r: w.r, data: occludedPatch(in.X, h, w), ld: w.r.area()}}
			}
			ch.changed(jobs, acts, wsp)
			for k, wi := range batch {
				p := jobs[k].p
				s := base
				for y := p.r.y0; y < p.r.y1; y++ {
					for x := p.r.x0; x < p.r.x1; x++ {
						i := y*last.outW + x
						l, t, g, r := cellTerms(logits, i)
						s.l, s.t, s.g, s.r = s.l-l, s.t-t, s.g-g, s.r-r
						l, t, g, r = patchTerms(p, y, x)
						s.l, s.t, s.g, s.r = s.l+l, s.t+t, s.g+g, s.r+r
					}
				}
				sc := s.scores()
				deltas[wi] = [NumScores]float64{sc.TOT - m.Scores.TOT, sc.GG - m.Scores.GG, sc.RET - m.Scores.RET}
			}
			return nil
		}
	} else {
		s0, err := fullScores(c, in.X)
		if err != nil {
			return nil, err
		}
		m.Scores = s0
		if m.Healthy, err = fullScores(c, healthyInput(in, h)); err != nil {
			return nil, err
		}
		eval = func(batch []int, _ *workspace) error {
			xs := make([][]float32, len(batch))
			for k, wi := range batch {
				xs[k] = fullInput(in.X, h, &ws[wi])
			}
			sc, _, err := c.ScoreBatch(xs)
			if err != nil {
				return err
			}
			for k, wi := range batch {
				deltas[wi] = [NumScores]float64{sc[k].TOT - s0.TOT, sc[k].GG - s0.GG, sc[k].RET - s0.RET}
			}
			return nil
		}
	}
	if err := runBatches(ctx, len(ws), opt, ch != nil, eval); err != nil {
		return nil, err
	}
	m.Values = accumulate(ws, deltas, in.Lung, nx, ny)
	return m, nil
}

// patchTerms is cellTerms for a cell of a logits patch.
func patchTerms(p patch, y, x int) (l, t, g, r float64) {
	k := p.off + (y-p.r.y0)*p.r.w() + (x - p.r.x0)
	v := func(c int) float64 { return sigmoid(p.data[c*p.ld+k]) }
	l = v(cascade.ChanLung)
	a := v(cascade.ChanAny)
	return l, l * a, l * a * v(cascade.ChanGG), l * a * v(cascade.ChanRET)
}

// fullScores runs the score network on one whole input.
func fullScores(c *cascade.Cascade, x []float32) (cascade.Scores, error) {
	s, _, err := c.ScoreBatch([][]float32{x})
	if err != nil {
		return cascade.Scores{}, err
	}
	return s[0], nil
}

// runBatches evaluates n windows in batches of opt.Batch, in parallel
// natively when concurrent is set (each goroutine with its own workspace),
// calling opt.Progress (serialized) after each batch.
func runBatches(ctx context.Context, n int, opt Options, concurrent bool, eval func([]int, *workspace) error) error {
	var batches [][]int
	for i := 0; i < n; i += opt.Batch {
		b := make([]int, 0, opt.Batch)
		for k := i; k < min(n, i+opt.Batch); k++ {
			b = append(b, k)
		}
		batches = append(batches, b)
	}
	progress := func(done int) {
		if opt.Progress != nil {
			opt.Progress(done, n)
		}
	}
	progress(0)
	workers := 1
	if concurrent {
		workers = gemm.Threads()
	}
	wsps := make([]*workspace, parallel.Workers(len(batches), workers)) // one per goroutine
	var mu sync.Mutex
	done := 0
	return parallel.For(ctx, len(batches), workers, func(w, i int) error {
		if wsps[w] == nil {
			wsps[w] = &workspace{}
		}
		if err := eval(batches[i], wsps[w]); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		done += len(batches[i])
		progress(done)
		return nil
	})
}

// accumulate averages the windows' score changes over the lung pixels
// each covers (windows in order, so the sums are deterministic).
func accumulate(ws []window, deltas [][NumScores]float64, lung []bool, nx, ny int) [NumScores][]float32 {
	w1 := nx + 1
	var diff [NumScores][]float64
	for s := range diff {
		diff[s] = make([]float64, (ny+1)*w1)
	}
	cnt := make([]int32, (ny+1)*w1)
	for i, w := range ws {
		for s := range diff {
			d := deltas[i][s]
			diff[s][w.y0*w1+w.x0] += d
			diff[s][w.y0*w1+w.x1] -= d
			diff[s][w.y1*w1+w.x0] -= d
			diff[s][w.y1*w1+w.x1] += d
		}
		cnt[w.y0*w1+w.x0]++
		cnt[w.y0*w1+w.x1]--
		cnt[w.y1*w1+w.x0]--
		cnt[w.y1*w1+w.x1]++
	}
	// 2-D prefix sums turn the corner marks into per-pixel sums
	for y := 0; y <= ny; y++ {
		for x := 0; x <= nx; x++ {
			i := y*w1 + x
			if x > 0 {
				cnt[i] += cnt[i-1]
				for s := range diff {
					diff[s][i] += diff[s][i-1]
				}
			}
		}
	}
	for y := 1; y <= ny; y++ {
		for x := 0; x <= nx; x++ {
			i := y*w1 + x
			cnt[i] += cnt[i-w1]
			for s := range diff {
				diff[s][i] += diff[s][i-w1]
			}
		}
	}
	var out [NumScores][]float32
	for s := range out {
		out[s] = make([]float32, nx*ny)
	}
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			p := y*nx + x
			k := cnt[y*w1+x]
			if !lung[p] || k == 0 {
				continue
			}
			for s := range out {
				out[s][p] = float32(diff[s][y*w1+x] / float64(k))
			}
		}
	}
	return out
}
