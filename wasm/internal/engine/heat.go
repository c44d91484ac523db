package engine

import (
	"context"
	"errors"
	"fmt"
	"unsafe"

	"sscscore/model/cascade"
	"sscscore/wasm/internal/protocol"
)

// Heat map methods.
const (
	// MethodExtent is the score network's own map: the diseased share of
	// the lung in each 12 mm cell, whose lung-weighted mean is the slice's
	// score.
	MethodExtent = "extent"
)

// heatmapMethods lists the heat maps of this build.
func heatmapMethods() []protocol.HeatmapMethod {
	return []protocol.HeatmapMethod{
		{Name: MethodExtent, Label: "Disease extent per cell",
			Doc: "The score network's estimate of the share of the lung that is diseased in each 12 mm cell; the slice's score is the lung-weighted mean of this map."},
	}
}

// fastHeatmaps sends the heat maps that come with the scores of a level
// slice (prepared as the cascade prepares it): the extent map of each
// score.
func (e *Engine) fastHeatmaps(job, level, k int, in *cascade.SliceInput, send Send) error {
	sc, err := e.opt.Cascade.ScoreInput(in)
	if err != nil {
		return fmt.Errorf("L%d heat map: %w", level, err)
	}
	if sc.NoLung {
		return nil
	}
	half := float64(cascade.CellStride-1) / 2
	for _, m := range []struct {
		score string
		v     []float32
	}{{protocol.ScoreTOT, sc.Maps.TOT}, {protocol.ScoreGG, sc.Maps.GG}, {protocol.ScoreRET, sc.Maps.RET}} {
		vals := make([]float32, len(m.v))
		for i, v := range m.v {
			vals[i] = 100 * v
		}
		send(&protocol.Msg{Kind: protocol.Heatmap, Job: job, Heatmap: &protocol.HeatmapInfo{
			Level: level, Slice: k, Method: MethodExtent, Score: m.score,
			Width: cascade.CellSide, Height: cascade.CellSide,
			X0: in.X0 + half*in.Step[0], Y0: in.Y0 + half*in.Step[1],
			StepX: cascade.CellStride * in.Step[0], StepY: cascade.CellStride * in.Step[1],
			Unit: "% of the lung in the cell", Max: 100,
		}}, Float32Bytes(vals))
	}
	return nil
}

// Heatmap computes a slow heat map (one made on request) of a level of
// the current result, reporting its progress; it ends with done{task:
// "heatmap"}, cancelled when ctx is.
func (e *Engine) Heatmap(ctx context.Context, job, level int, method string, send Send) {
	err := e.heatmap(ctx, job, level, method, send)
	cancelled := errors.Is(err, context.Canceled)
	if err != nil && !cancelled {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
	}
	send(&protocol.Msg{Kind: protocol.Done, Job: job, Task: protocol.Heatmap, Cancelled: cancelled}, nil)
}

func (e *Engine) heatmap(ctx context.Context, job, level int, method string, send Send) error {
	if e.result == nil || job != e.job {
		return errors.New("There is no scored scan to explain.")
	}
	if level < 1 || level > cascade.NumLevels || e.result.res.Levels[level-1].Slice == nil {
		return fmt.Errorf("L%d has no slice to explain", level)
	}
	return fmt.Errorf("this build cannot make %q heat maps", method)
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
