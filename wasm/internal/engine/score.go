package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"sscscore/model/volume"
	"sscscore/wasm/internal/protocol"
)

// Scorer is the trained scoring cascade as the worker uses it. The adapter
// over model/cascade lives in wasm/worker; a build without trained weights
// has no Scorer at all, and then no levels or scores are ever shown.
type Scorer interface {
	// Card summarises the model for the page and the exports.
	Card() protocol.ModelCard
	// Levels predicts the five Goh levels of src as continuous slice
	// positions (0 is the first, most cranial slice), calling progress as
	// it goes (often enough for a cancel to be noticed within a second).
	Levels(ctx context.Context, src volume.Source, progress func(done, total int)) ([5]float64, error)
	// Score scores slice k of src.
	Score(ctx context.Context, src volume.Source, k int) (Scored, error)
}

// Scored is the outcome of scoring one slice.
type Scored struct {
	Scores protocol.Scores
}

// Level is one level of a result.
type Level struct {
	Level     int     // 1-5
	Predicted float64 // the cascade's position, in slices
	Slice     int     // the slice scored
	Z         float64 // its patient z, mm
	Moved     bool    // moved by the user
	Scores    protocol.Scores
}

// Result is a scored scan.
type Result struct {
	Levels   [5]Level
	Mean     protocol.Scores
	Warnings []string
	Computed time.Time
}

// Info returns the result as the page receives it.
func (r *Result) Info() *protocol.ResultInfo {
	info := &protocol.ResultInfo{Mean: r.Mean, Warnings: r.Warnings}
	for _, l := range r.Levels {
		info.Levels = append(info.Levels, protocol.LevelResult{
			Level: l.Level, Slice: l.Slice, Z: l.Z, Predicted: l.Predicted, Scores: l.Scores,
		})
		if l.Moved {
			info.Moved = append(info.Moved, l.Level)
		}
	}
	return info
}

// mean recomputes the whole-lung scores.
func (r *Result) mean() {
	var m protocol.Scores
	for _, l := range r.Levels {
		m.TOT += l.Scores.TOT / 5
		m.GG += l.Scores.GG / 5
		m.RET += l.Scores.RET / 5
	}
	r.Mean = m
}

// score finds the levels and scores them.
func (e *Engine) score(ctx context.Context, job int, send Send) (*Result, error) {
	sc := e.opt.Scorer
	g := e.src.Geometry()
	lp := e.stage(send, job, protocol.StageLevels, "steps")
	var yieldErr error
	pos, err := sc.Levels(ctx, e.src, func(done, total int) {
		lp.report(done, total)
		if err := e.checkpoint(ctx); err != nil {
			yieldErr = err
		}
	})
	if err == nil {
		err = yieldErr
	}
	if err != nil {
		return nil, fmt.Errorf("finding the levels: %w", err)
	}
	lp.report(1, 1)
	res := &Result{Computed: time.Now().UTC()}
	sp := e.stage(send, job, protocol.StageScore, "levels")
	sp.report(0, 5)
	for i, p := range pos {
		k := int(math.Round(p))
		if k < 0 || k >= g.Nz || math.IsNaN(p) {
			res.Warnings = append(res.Warnings, fmt.Sprintf("L%d was predicted outside the scan (slice %.1f of %d): the nearest slice is used.", i+1, p+1, g.Nz))
			k = min(max(k, 0), g.Nz-1)
		}
		if err := e.checkpoint(ctx); err != nil {
			return nil, err
		}
		s, err := sc.Score(ctx, e.src, k)
		if err != nil {
			return nil, fmt.Errorf("scoring L%d: %w", i+1, err)
		}
		res.Levels[i] = Level{Level: i + 1, Predicted: p, Slice: k, Z: g.ZOf(k), Scores: s.Scores}
		sp.report(i+1, 5)
	}
	res.mean()
	return res, nil
}

// Move moves a level of the current result to slice k and rescores it.
func (e *Engine) Move(ctx context.Context, job, level, k int, send Send) {
	err := e.move(ctx, job, level, k, send)
	if err != nil && !errors.Is(err, context.Canceled) {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
	}
}

func (e *Engine) move(ctx context.Context, job, level, k int, send Send) error {
	if e.result == nil || e.src == nil || job != e.job {
		return errors.New("There is no scored scan to adjust.")
	}
	g := e.src.Geometry()
	if level < 1 || level > 5 || k < 0 || k >= g.Nz {
		return fmt.Errorf("cannot move L%d to slice %d of %d", level, k+1, g.Nz)
	}
	s, err := e.opt.Scorer.Score(ctx, e.src, k)
	if err != nil {
		return fmt.Errorf("rescoring L%d: %w", level, err)
	}
	l := &e.result.Levels[level-1]
	l.Slice, l.Z, l.Scores = k, g.ZOf(k), s.Scores
	l.Moved = k != int(math.Round(l.Predicted))
	e.result.mean()
	send(&protocol.Msg{Kind: protocol.Result, Job: job, Result: e.result.Info()}, nil)
	return e.sendAxial(ctx, job, level, k, send)
}
