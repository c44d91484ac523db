package heatmap

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
)

func TestScoreGradMatchesFiniteDifferences(t *testing.T) {
	n := cascade.CellSide * cascade.CellSide
	r := rand.New(rand.NewPCG(1, 2))
	logits := make([]float32, cascade.NumScoreChans*n)
	for i := range logits {
		logits[i] = float32(r.NormFloat64() * 2)
	}
	score := func(z []float32, s Score) float64 {
		sc, _ := cascade.ScoreHead(z)
		return s.of(sc)
	}
	grads := scoreGrads(logits)
	for _, s := range Scores {
		g := grads[s]
		for k := 0; k < 40; k++ {
			i := r.IntN(len(logits))
			const eps = 1e-2
			z := slices.Clone(logits)
			z[i] = logits[i] + eps
			up := score(z, s)
			z[i] = logits[i] - eps
			fd := (up - score(z, s)) / (2 * eps)
			if math.Abs(fd-float64(g[i])) > 2e-3*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: ∂/∂z[%d] = %g, want %g (finite differences)", s, i, g[i], fd)
			}
		}
	}
}

func TestGradCAMGradientMatchesFiniteDifferences(t *testing.T) {
	net := tinyNet(t, 3)
	g, err := newGradNet(net)
	if err != nil {
		t.Fatalf("newGradNet: got error %v, want nil", err)
	}
	hu, lung, _ := drawnSlice(200, 180, 1.6)
	in := cascade.PrepareSliceWithLung(hu, lung, 200, 180, [2]float64{1.6, 1.6})
	x2 := append(slices.Clone(in.X), in.X...)
	blocks, err := runPlan(g.trunk, x2)
	if err != nil {
		t.Fatalf("runPlan: got error %v, want nil", err)
	}
	a := blocks[:g.block.Size()]
	score := func(a []float32, s Score) float64 {
		_, y, err := g.headForward(a, false)
		if err != nil {
			t.Fatalf("g.headForward: got error %v, want nil", err)
		}
		return s.of(sumsOf(y.Values()).scores())
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range Scores {
		x, y, err := g.headForward(a, true)
		if err != nil {
			t.Fatalf("g.headForward: got error %v, want nil", err)
		}
		if err := nn.Backward(y, scoreGrads(y.Values())[s]); err != nil {
			t.Fatalf("nn.Backward: got error %v, want nil", err)
		}
		gr := nn.Grad[float32](x)
		// check the largest gradients and some random ones
		idx := make([]int, len(gr))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return math.Abs(float64(gr[idx[i]])) > math.Abs(float64(gr[idx[j]])) })
		check := append(idx[:10:10], idx[r.IntN(len(idx))], idx[r.IntN(len(idx))])
		for _, i := range check {
			const eps = 0.05
			b := slices.Clone(a)
			b[i] = a[i] + eps
			up := score(b, s)
			b[i] = a[i] - eps
			fd := (up - score(b, s)) / (2 * eps)
			if math.Abs(fd-float64(gr[i])) > 0.02*math.Abs(float64(gr[idx[0]]))+0.02*math.Abs(fd) {
				t.Errorf("%s: ∂score/∂A[%d] = %g, want %g (finite differences; largest %g)", s, i, gr[i], fd, gr[idx[0]])
			}
		}
	}
}

func TestRegionMatchesFullRerun(t *testing.T) {
	net := tinyNet(t, 5)
	ch, err := newChain(net)
	if err != nil {
		t.Fatalf("newChain: got error %v, want nil", err)
	}
	side := cascade.SliceSide
	n := side * side
	r := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, 2*n)
	for i := range x[:n] {
		x[i] = float32(r.NormFloat64())
		x[n+i] = float32(r.Float64())
	}
	ws := &workspace{}
	acts := ch.forward(x, ws)
	plan, err := nn.Compile(net, 1, nn.CompileOptions{})
	if err != nil {
		t.Fatalf("nn.Compile: got error %v, want nil", err)
	}
	want, _ := plan.Run(x)
	got := acts[len(acts)-1]
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("chain forward [%d] = %g, want %g (the plan's)", i, got[i], want[i])
		}
	}
	// windows of several sizes, at the borders too, evaluated in one batch
	rects := []rect{{0, 10, 0, 10}, {100, 131, 40, 77}, {250, 256, 200, 256}, {3, 4, 128, 129}, {0, 256, 0, 256}, {60, 90, 250, 256}}
	var jobs []*job
	var full [][]float32
	for _, rc := range rects {
		p := make([]float32, 2*rc.area())
		xf := slices.Clone(x)
		for c := 0; c < 2; c++ {
			for y := rc.y0; y < rc.y1; y++ {
				for xx := rc.x0; xx < rc.x1; xx++ {
					v := x[c*n+y*side+xx] + float32(r.NormFloat64())
					p[c*rc.area()+(y-rc.y0)*rc.w()+xx-rc.x0] = v
					xf[c*n+y*side+xx] = v
				}
			}
		}
		jobs = append(jobs, &job{p: patch{r: rc, data: p, ld: rc.area()}})
		full = append(full, xf)
	}
	ch.changed(jobs, acts, &workspace{})
	cs := cascade.CellSide
	for k, j := range jobs {
		want := ch.forward(full[k], &workspace{})
		wl := want[len(want)-1]
		for c := 0; c < cascade.NumScoreChans; c++ {
			for y := 0; y < cs; y++ {
				for xx := 0; xx < cs; xx++ {
					v := got[c*cs*cs+y*cs+xx]
					if y >= j.p.r.y0 && y < j.p.r.y1 && xx >= j.p.r.x0 && xx < j.p.r.x1 {
						v = j.p.data[c*j.p.ld+j.p.off+(y-j.p.r.y0)*j.p.r.w()+xx-j.p.r.x0]
					}
					w := wl[c*cs*cs+y*cs+xx]
					if math.Abs(float64(v-w)) > 1e-5*math.Max(1, math.Abs(float64(w))) {
						t.Fatalf("window %v: logit %d (%d,%d) = %g, want %g (a full re-run)", rects[k], c, y, xx, v, w)
					}
				}
			}
		}
	}
}

func TestOcclusionRegionEqualsFullRerun(t *testing.T) {
	cases := []struct {
		name string
		c    *cascade.Cascade
		opt  Options
	}{
		{"tiny network, paper windows", tinyCascade(t, 7), Options{Stride: 48}},
		{"tiny network, hard edges, batch 3", tinyCascade(t, 8), Options{Window: 40, Stride: 40, Soften: -1, Batch: 3}},
	}
	if c, err := cascade.Default(); err == nil {
		cases = append(cases, struct {
			name string
			c    *cascade.Cascade
			opt  Options
		}{"shipped network, sparse windows", c, Options{Window: 64, Stride: 200}})
	}
	hu, lung, _ := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a, err := Occlusion(ctx, tc.c, in, 300, 260, tc.opt)
			if err != nil {
				t.Fatalf("Occlusion: got error %v, want nil", err)
			}
			o := tc.opt
			o.FullRerun = true
			b, err := Occlusion(ctx, tc.c, in, 300, 260, o)
			if err != nil {
				t.Fatalf("Occlusion: got error %v, want nil", err)
			}
			if a.Windows == 0 || a.Windows != b.Windows {
				t.Fatalf("windows: got %d and %d, want the same, > 0", a.Windows, b.Windows)
			}
			var maxAbs float64
			for _, s := range Scores {
				for i := range a.Values[s] {
					maxAbs = math.Max(maxAbs, math.Abs(float64(b.Values[s][i])))
					if d := math.Abs(float64(a.Values[s][i] - b.Values[s][i])); d > 2e-3 {
						t.Fatalf("%s pixel %d: region %g, full re-run %g, got %v, want <= 2e-3", s, i, a.Values[s][i], b.Values[s][i], d)
					}
				}
				if math.Abs(s.of(a.Scores)-s.of(b.Scores)) > 1e-3 {
					t.Errorf("%s scores: got %g and %g, want equal ± 1e-3", s, s.of(a.Scores), s.of(b.Scores))
				}
			}
			if maxAbs == 0 {
				t.Errorf("the maps are all zero: the comparison says nothing: got %v, want != 0", maxAbs)
			}
		})
	}
}

func TestOcclusionOnLesion(t *testing.T) {
	c, err := cascade.Default()
	if err != nil {
		t.Skip("no shipped weights:", err)
	}
	f := getFixture(t)
	var calls, last int
	opt := f.paperOptions()
	opt.Stride = opt.Window / 2 // a quarter of the windows: seconds under js/wasm
	opt.Progress = func(done, total int) { calls++; last = done; _ = total }
	m, err := Occlusion(context.Background(), c, f.in, f.nx, f.ny, opt)
	if err != nil {
		t.Fatalf("Occlusion: got error %v, want nil", err)
	}
	if calls < 2 || last != m.Windows {
		t.Errorf("progress: got %d calls, the last at %d of %d windows; want >= 2, the last at %d", calls, last, m.Windows, m.Windows)
	}
	checkOnLesion(t, m, f.gg, 0.9)
	g, err := Gradient(context.Background(), c, f.in, f.nx, f.ny)
	if err != nil {
		t.Fatalf("Gradient: got error %v, want nil", err)
	}
	// Grad-CAM maps have the 12 mm cells of the last block
	checkOnLesion(t, g, f.gg, 0.75)
	if math.Abs(g.Scores.TOT-m.Scores.TOT) > 0.05 {
		t.Errorf("network's TOT through the gradient: got %g, want %g ± 0.05 (through occlusion)", g.Scores.TOT, m.Scores.TOT)
	}
}

// checkOnLesion checks that the strongest negative values of the TOT and
// GG maps (the lowest 5 % of the lung) lie on the lesion (at least a
// share minOn of them), and that the lesion's mean value is well below the
// rest of the lung's.
func checkOnLesion(t *testing.T, m *Maps, lesion []bool, minOn float64) {
	t.Helper()
	for _, s := range []Score{TOT, GG} {
		var vals []float64
		var in, out, nin, nout float64
		for i, l := range m.Lung {
			if !l {
				continue
			}
			v := float64(m.Values[s][i])
			vals = append(vals, v)
			if lesion[i] {
				in += v
				nin++
			} else {
				out += v
				nout++
			}
		}
		slices.Sort(vals)
		cut := vals[len(vals)/20]
		var hit, tot int
		for i, l := range m.Lung {
			if l && float64(m.Values[s][i]) <= cut {
				tot++
				if lesion[i] {
					hit++
				}
			}
		}
		if frac := float64(hit) / float64(tot); frac < minOn {
			t.Errorf("%s %s: %.0f %% of the most negative pixels on the lesion, got %v, want >= %v", m.Method, s, 100*frac, frac, minOn)
		}
		if in/nin > 0.5*out/nout-0.1 || in/nin >= 0 {
			t.Errorf("%s %s: got mean %.2f on the lesion, %.2f elsewhere; want < 0 and < half elsewhere - 0.1", m.Method, s, in/nin, out/nout)
		}
	}
}

func TestOcclusionCancel(t *testing.T) {
	c := tinyCascade(t, 4)
	hu, lung, _ := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := Occlusion(ctx, c, in, 300, 260, Options{Batch: 2, Progress: func(done, total int) {
		calls++
		if done > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if calls > 3+2*gemm.Threads() {
		t.Errorf("progress calls after the cancel: got %d, want <= %d", calls, 3+2*gemm.Threads())
	}
}

func TestCellsToPixelsUniformDensity(t *testing.T) {
	hu, lung, _ := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	side, st, cs := cascade.SliceSide, cascade.CellStride, cascade.CellSide
	n := side * side
	var cells [NumScores][]float64
	for s := range cells {
		cells[s] = make([]float64, cs*cs)
	}
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			k := (y/st)*cs + x/st
			cells[TOT][k] -= 0.01 * float64(in.X[n+y*side+x])
			cells[GG][k] -= 0.02 * float64(in.X[n+y*side+x])
		}
	}
	out := cellsToPixels(cells, in, 300, 260, 64)
	want := -0.01 * windowAreaNet(in, 64)
	for i, l := range lung {
		if !l {
			if out[TOT][i] != 0 {
				t.Fatalf("value %g outside the lung, want 0", out[TOT][i])
			}
			continue
		}
		if math.Abs(float64(out[TOT][i])-want) > 1e-4*math.Abs(want) || math.Abs(float64(out[GG][i])-2*want) > 2e-4*math.Abs(want) {
			t.Fatalf("pixel %d: %g, %g; want %g, %g", i, out[TOT][i], out[GG][i], want, 2*want)
		}
	}
}

func TestHealthyTexture(t *testing.T) {
	hu, lung, lesion := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	h := HealthyTexture(in)
	if !slices.Equal(h, HealthyTexture(in)) {
		t.Fatal("HealthyTexture twice: got different textures, want the same")
	}
	// its level is the healthy lung's (-850 HU), not the lesion's
	// (-500 HU), with the lung's noise and vessels
	var vals []float32
	side := cascade.SliceSide
	n := side * side
	for i := 0; i < n; i++ {
		if in.X[n+i] > 0.99 {
			vals = append(vals, h[i])
		}
	}
	if med := huOf(median(vals)); math.Abs(med+850) > 25 {
		t.Errorf("texture median %.0f HU, want about -850", med)
	}
	var mean, sd float64
	for _, v := range vals {
		mean += huOf(v)
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		sd += (huOf(v) - mean) * (huOf(v) - mean)
	}
	sd = math.Sqrt(sd / float64(len(vals)))
	if sd < 5 || sd > 150 {
		t.Errorf("texture standard deviation: got %.1f HU, want 5..150", sd)
	}
	_ = lesion
	// a slice diseased throughout gets a texture shifted to normal lung
	dense := slices.Clone(hu)
	for i, l := range lung {
		if l {
			dense[i] += 400
		}
	}
	in2 := cascade.PrepareSliceWithLung(dense, lung, 300, 260, [2]float64{1.3, 1.3})
	h2 := HealthyTexture(in2)
	vals = vals[:0]
	for i := 0; i < n; i++ {
		if in2.X[n+i] > 0.99 {
			vals = append(vals, h2[i])
		}
	}
	if med := huOf(median(vals)); math.Abs(med-healthyLevelHU) > 5 {
		t.Errorf("diseased slice: texture median %.0f HU, want %v", med, healthyLevelHU)
	}
}

func TestWindowsCoverTheLung(t *testing.T) {
	for _, tc := range []struct{ n, win, stride int }{{512, 64, 16}, {300, 64, 16}, {50, 64, 16}, {130, 64, 64}} {
		p := positions(tc.n, tc.win, tc.stride)
		covered := make([]bool, tc.n)
		for _, o := range p {
			for x := o; x < min(o+tc.win, tc.n); x++ {
				covered[x] = true
			}
		}
		if slices.Contains(covered, false) || p[0] != 0 {
			t.Errorf("n=%d window %d stride %d: got positions %v, want them to start at 0 and cover every pixel", tc.n, tc.win, tc.stride, p)
		}
	}
	hu, lung, _ := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	ws := windows(in, 300, 260, Options{Window: 64, Stride: 16, Soften: 5})
	all := len(positions(300, 64, 16)) * len(positions(260, 64, 16))
	if len(ws) == 0 || len(ws) >= all {
		t.Errorf("windows touching the lung: got %d of %d, want some, not all", len(ws), all)
	}
	for _, w := range ws {
		if w.r.empty() {
			t.Errorf("window %+v touches the lung: got an empty input region, want one", w)
		}
		for _, v := range append(slices.Clone(w.px), w.py...) {
			if v < 0 || v > 1 {
				t.Fatalf("mask profile value: got %g, want 0..1", v)
			}
		}
	}
}

func TestHeatMapScore(t *testing.T) {
	m := &Maps{Nx: 4, Ny: 2, Lung: []bool{true, true, true, true, true, false, false, true}}
	m.Values[TOT] = []float32{-1, -0.7, -0.6, 0, 2, -5, -5, -0.59}
	m.Values[GG] = make([]float32, 8)
	m.Values[RET] = []float32{-9, -9, -9, -9, -9, -9, -9, -9}
	for _, tc := range []struct {
		s    Score
		th   float64
		want float64
	}{
		{TOT, -0.6, 100 * 2.0 / 6}, {TOT, 0, 100 * 4.0 / 6}, {TOT, -2, 0}, {GG, -0.6, 0}, {RET, -0.6, 100},
	} {
		if got := m.Score(tc.s, tc.th); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s below %g: %g %%, want %g %%", tc.s, tc.th, got, tc.want)
		}
	}
	if h := m.Highlight(TOT, -0.6); !slices.Equal(h, []bool{true, true, false, false, false, false, false, false}) {
		t.Errorf("Highlight(TOT, -0.6): got %v, want the first two", h)
	}
}

func TestPNGAndColours(t *testing.T) {
	hu, lung, lesion := drawnSlice(200, 150, 2)
	m := &Maps{Method: MethodOcclusion, Nx: 200, Ny: 150, Lung: lung}
	for s := range m.Values {
		m.Values[s] = make([]float32, 200*150)
	}
	for i := range lesion {
		if lesion[i] {
			m.Values[TOT][i] = -3
		} else if lung[i] {
			m.Values[TOT][i] = 1
		}
	}
	sc := DefaultScale()
	var buf bytes.Buffer
	if err := WritePNG(&buf, hu, m, TOT, sc, "L3 TOT occlusion"); err != nil {
		t.Fatalf("WritePNG: got error %v, want nil", err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("png.Decode: got error %v, want nil", err)
	}
	if b := img.Bounds(); b.Dx() != 200 || b.Dy() <= 150 {
		t.Fatalf("image bounds: got %v, want 200 wide, over 150 high", b)
	}
	const top = 18
	for i := range lung {
		r, g, b, _ := img.At(i%200, top+i/200).RGBA()
		switch {
		case !lung[i]:
			if r != g || g != b {
				t.Fatalf("pixel %d outside the lung: got colour %d %d %d, want grey", i, r>>8, g>>8, b>>8)
			}
		case lesion[i]:
			if !(r > g && r > b) {
				t.Fatalf("lesion pixel %d: got %d %d %d, want red", i, r>>8, g>>8, b>>8)
			}
		default:
			if !(b > r) {
				t.Fatalf("positive pixel %d: got %d %d %d, want blue", i, r>>8, g>>8, b>>8)
			}
		}
	}
	if c := sc.Color(0); c.A != 0 {
		t.Errorf("0 has alpha %d, want 0", c.A)
	}
	if got := AutoScale(TOT, m).Range; got != 5 {
		t.Errorf("auto range %g, want 5 (values up to 3 points)", got)
	}
	for _, tc := range [][2]float64{{0.3, 0.5}, {1, 1}, {1.01, 2}, {2.5, 5}, {7, 10}, {12, 20}} {
		if got := niceCeil(tc[0]); got != tc[1] {
			t.Errorf("niceCeil(%g) = %g, want %g", tc[0], got, tc[1])
		}
	}
}

func TestIntegratedGradientsComplete(t *testing.T) {
	net := tinyNet(t, 13)
	g, err := newGradNet(net)
	if err != nil {
		t.Fatalf("newGradNet: got error %v, want nil", err)
	}
	hu, lung, _ := drawnSlice(200, 180, 1.6)
	in := cascade.PrepareSliceWithLung(hu, lung, 200, 180, [2]float64{1.6, 1.6})
	// the path runs from the slice's block to that of a very different
	// input (completeness holds for any path)
	other := slices.Clone(in.X)
	r := rand.New(rand.NewPCG(2, 3))
	for i := range other[:len(other)/2] {
		other[i] = float32(r.NormFloat64() * 2)
	}
	blocks, err := runPlan(g.trunk, append(slices.Clone(in.X), other...))
	if err != nil {
		t.Fatalf("runPlan: got error %v, want nil", err)
	}
	per := g.block.Size()
	a, b := blocks[:per], blocks[per:]
	cells, sa, sb, err := g.integrated(a, b, 64)
	if err != nil {
		t.Fatalf("g.integrated: got error %v, want nil", err)
	}
	for _, s := range Scores {
		var sum float64
		for _, v := range cells[s] {
			sum += v
		}
		want := s.of(sb) - s.of(sa)
		if math.Abs(want) < 0.5 {
			t.Fatalf("%s: the healthy version changes the score by only %g: the test says little, got %v, want >= 0.5", s, want, math.Abs(want))
		}
		if math.Abs(sum-want) > 0.03*math.Abs(want)+0.05 {
			t.Errorf("%s: cells sum to %.3f, want %.3f ± %.3f (the score's change)", s, sum, want, 0.03*math.Abs(want)+0.05)
		}
	}
}

func TestDeterministic(t *testing.T) {
	c := tinyCascade(t, 21)
	hu, lung, _ := drawnSlice(300, 260, 1.3)
	in := cascade.PrepareSliceWithLung(hu, lung, 300, 260, [2]float64{1.3, 1.3})
	ctx := context.Background()
	for _, m := range []Method{MethodGradient, MethodOcclusion, MethodDense} {
		opt := Options{Stride: 48, Batch: 3}
		a, err := Compute(ctx, m, c, in, 300, 260, opt)
		if err != nil {
			t.Fatalf("Compute: got error %v, want nil", err)
		}
		opt.Batch = 5 // other batches (and, natively, other workers)
		b, err := Compute(ctx, m, c, in, 300, 260, opt)
		if err != nil {
			t.Fatalf("Compute: got error %v, want nil", err)
		}
		for _, s := range Scores {
			if !slices.Equal(a.Values[s], b.Values[s]) {
				t.Errorf("%s %s: got two runs that differ, want the same values", m, s)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	c := tinyCascade(t, 22)
	hu, lung, _ := drawnSlice(120, 100, 3)
	in := cascade.PrepareSliceWithLung(hu, lung, 120, 100, [2]float64{3, 3})
	noLung := cascade.PrepareSliceWithLung(hu, make([]bool, len(lung)), 120, 100, [2]float64{3, 3})
	ctx := context.Background()
	for _, m := range []Method{MethodGradient, MethodOcclusion, MethodDense} {
		if _, err := Compute(ctx, m, c, in, 100, 100, Options{}); err == nil {
			t.Errorf("%s: wrong slice size accepted: got nil error, want an error", m)
		}
		if _, err := Compute(ctx, m, c, noLung, 120, 100, Options{}); err == nil {
			t.Errorf("%s: slice without lung accepted: got nil error, want an error", m)
		}
	}
	if _, err := Compute(ctx, "saliency", c, in, 120, 100, Options{}); err == nil {
		t.Errorf("unknown method accepted: got nil error, want an error")
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Gradient(done, c, in, 120, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled gradient: got error %v, want context.Canceled", err)
	}
}

// headForward runs the head on a block activation (one sample) in the
// graph; with grad the activation is a graph input that requires
// gradients (for the finite-difference checks).
func (g *gradNet) headForward(a []float32, grad bool) (nn.Tensor, nn.Tensor, error) {
	x, err := nn.NewInput(slices.Clone(a), append(nn.Shape{1}, g.block...), grad)
	if err != nil {
		return nn.Tensor{}, nn.Tensor{}, err
	}
	ctx := nn.NewCtx(nn.Eval, 0)
	y := x
	for _, l := range g.head {
		y = l.Forward(ctx, y)
	}
	return x, y, nil
}
