package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"sscscore/model/cascade"
	"sscscore/model/heatmap"
	"sscscore/wasm/internal/protocol"
)

// Heat maps come from model/heatmap: the fast methods are computed for
// every level slice right after the scores, the slow one (the paper's
// occlusion map) on request, one level at a time. They are in score points
// on the slice's pixel grid; the page gets them at a coarser step
// (heatStep), which their smoothness allows, and draws them inside the
// lungs on the scale model/heatmap's AutoScale gives over the levels'
// maps, as `sscscore score --heatmaps` does.

// fastMethods are the heat maps sent with the scores, the first shown by
// default.
var fastMethods = []heatmap.Method{heatmap.MethodGradient, heatmap.MethodDense}

// heatmapMethods lists the heat maps of this build.
func heatmapMethods() []protocol.HeatmapMethod {
	return []protocol.HeatmapMethod{
		{Name: string(heatmap.MethodGradient), Label: "Gradient (Grad-CAM)",
			Doc: "How much the score would change, in points, if the lung within a 64-pixel window around each point became healthy, from the gradients of the score network's last layer; negative (warm colours) where disease raises the score."},
		{Name: string(heatmap.MethodDense), Label: "Network's disease map",
			Doc: "The score network's own per-cell estimate of disease, as each 12 mm cell's share of the score (points per 64-pixel window); negative (warm colours) where disease raises the score."},
		{Name: string(heatmap.MethodOcclusion), Label: "Occlusion map", Slow: true,
			Doc: "The paper's occlusion sensitivity: 64-pixel windows (stride 16) replaced by healthy lung texture, and the change of the score, in points; negative (warm colours) where disease raises the score. Takes a while: computed on request."},
	}
}

// heatStep is the step (original pixels) of the heat maps sent to the
// page for a slice of side n: about 256 values across.
func heatStep(n int) int { return max(1, int(math.Round(float64(n)/256))) }

// levelMaps holds the heat maps of one level slice by method, and the
// prepared slice they explain.
type levelMaps struct {
	slice int
	in    *cascade.SliceInput
	maps  map[heatmap.Method]*heatmap.Maps
}

// setLevelInput records the prepared slice of a level (its maps, of
// another slice, are forgotten).
func (e *Engine) setLevelInput(level, k int, in *cascade.SliceInput) {
	if e.maps == nil {
		e.maps = map[int]*levelMaps{}
	}
	e.maps[level] = &levelMaps{slice: k, in: in, maps: map[heatmap.Method]*heatmap.Maps{}}
}

// computeMaps computes one method's maps of a level slice (progress, if not
// nil, reports a slow method's progress) and sends them.
func (e *Engine) computeMaps(ctx context.Context, job, level int, method heatmap.Method, progress func(done, total int), send Send) error {
	lm := e.maps[level]
	if lm == nil || lm.in == nil || lm.in.NoLung {
		return fmt.Errorf("L%d shows no lung to explain", level)
	}
	g := e.src.Geometry()
	m, err := heatmap.Compute(ctx, method, e.opt.Cascade, lm.in, g.Nx, g.Ny, heatmap.Options{Progress: progress})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("L%d %s heat map: %w", level, method, err)
	}
	lm.maps[method] = m
	e.sendMaps(job, level, method, send)
	return nil
}

// sendMaps sends a level's maps of one method, with the colour scale
// shared by the levels' maps of that method so far.
func (e *Engine) sendMaps(job, level int, method heatmap.Method, send Send) {
	lm := e.maps[level]
	m := lm.maps[method]
	var all []*heatmap.Maps
	for _, o := range e.maps {
		if om := o.maps[method]; om != nil {
			all = append(all, om)
		}
	}
	step := heatStep(max(m.Nx, m.Ny))
	c := float64(step-1) / 2
	for _, s := range heatmap.Scores {
		vals, w, h := downsample(m.Values[s], m.Lung, m.Nx, m.Ny, step)
		send(&protocol.Msg{Kind: protocol.Heatmap, Job: job, Heatmap: &protocol.HeatmapInfo{
			Level: level, Slice: lm.slice, Method: string(method), Score: scoreName(s),
			Width: w, Height: h, X0: c, Y0: c, StepX: float64(step), StepY: float64(step),
			Unit: "score points", Signed: true, Max: heatmap.AutoScale(s, all...).Range,
		}}, Float32Bytes(vals))
	}
}

func scoreName(s heatmap.Score) string {
	switch s {
	case heatmap.GG:
		return protocol.ScoreGG
	case heatmap.RET:
		return protocol.ScoreRET
	}
	return protocol.ScoreTOT
}

// downsample averages a map (nx x ny) over blocks of step x step pixels,
// counting only lung pixels; a block without lung takes the mean of its
// neighbours with lung (so that the page's interpolation is right up to
// the lung's edge), or 0.
func downsample(v []float32, lung []bool, nx, ny, step int) ([]float32, int, int) {
	w, h := (nx+step-1)/step, (ny+step-1)/step
	sum := make([]float64, w*h)
	cnt := make([]int, w*h)
	for y := range ny {
		for x := range nx {
			if i := y*nx + x; lung[i] {
				b := (y/step)*w + x/step
				sum[b] += float64(v[i])
				cnt[b]++
			}
		}
	}
	out := make([]float32, w*h)
	for j := range h {
		for i := range w {
			b := j*w + i
			if cnt[b] > 0 {
				out[b] = float32(sum[b] / float64(cnt[b]))
				continue
			}
			var s float64
			n := 0
			for dj := -1; dj <= 1; dj++ {
				for di := -1; di <= 1; di++ {
					ii, jj := i+di, j+dj
					if ii >= 0 && jj >= 0 && ii < w && jj < h && cnt[jj*w+ii] > 0 {
						s += sum[jj*w+ii] / float64(cnt[jj*w+ii])
						n++
					}
				}
			}
			if n > 0 {
				out[b] = float32(s / float64(n))
			}
		}
	}
	return out, w, h
}

// Heatmap computes a slow heat map (one made on request) of a level of
// the current result, reporting its progress; it ends with done{task:
// "heatmap"}, cancelled when ctx is.
func (e *Engine) Heatmap(ctx context.Context, job, level int, method string, send Send) {
	start := time.Now()
	err := e.heatmap(ctx, job, level, method, send)
	cancelled := errors.Is(err, context.Canceled)
	if err != nil && !cancelled {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
	}
	send(&protocol.Msg{Kind: protocol.Done, Job: job, Task: protocol.Heatmap, Cancelled: cancelled,
		Timings: map[protocol.Stage]float64{protocol.StageTotal: float64(time.Since(start).Microseconds()) / 1000}}, nil)
}

func (e *Engine) heatmap(ctx context.Context, job, level int, method string, send Send) error {
	if e.result == nil || job != e.job {
		return errors.New("There is no scored scan to explain.")
	}
	if level < 1 || level > cascade.NumLevels || e.maps[level] == nil {
		return fmt.Errorf("L%d has no slice to explain", level)
	}
	known := false
	for _, m := range heatmapMethods() {
		known = known || m.Name == method
	}
	if !known {
		return fmt.Errorf("this build cannot make %q heat maps", method)
	}
	prog := e.stage(send, job, protocol.StageHeatmap, "windows")
	var yieldErr error
	err := e.computeMaps(ctx, job, level, heatmap.Method(method), func(done, total int) {
		prog.report(done, total)
		if err := e.checkpoint(ctx); err != nil {
			yieldErr = err
		}
	}, send)
	if err == nil {
		err = yieldErr
	}
	return err
}

// Int16Bytes returns the bytes of v (little-endian, as WebAssembly and the
// browser's typed arrays use), without copying.
func Int16Bytes(v []int16) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 2*len(v))
}

// Float32Bytes returns the bytes of v without copying.
func Float32Bytes(v []float32) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}
