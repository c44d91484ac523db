package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
	"sscscore/model/volume"
	"sscscore/wasm/internal/protocol"
)

// scored is the cascade's result for the series in use, as moved levels
// change it.
type scored struct {
	res *cascade.Result
	g   *volume.Geometry
	// orig holds the cascade's own levels (a level moved back to its
	// slice gets them again) and base the result's warnings other than
	// the "not scored" one of each level, which follow the levels.
	orig     []cascade.LevelResult
	base     []string
	computed time.Time
}

// levelWarning is the warning model/cascade gives for a level it could not
// score.
func levelWarning(l cascade.LevelResult) string {
	return fmt.Sprintf("%s not scored: %s", l.Name, l.Message)
}

func newScored(res *cascade.Result, g *volume.Geometry) *scored {
	s := &scored{res: res, g: g, orig: append([]cascade.LevelResult(nil), res.Levels...), computed: time.Now().UTC()}
	own := map[string]bool{}
	for _, l := range res.Levels {
		if l.Status != cascade.StatusScored {
			own[levelWarning(l)] = true
		}
	}
	for _, w := range res.Warnings {
		if !own[w] {
			s.base = append(s.base, w)
		}
	}
	return s
}

// update recomputes the mean and the warnings after a level changed.
func (s *scored) update() {
	s.res.Mean = cascade.MeanOf(s.res.Levels)
	s.res.Warnings = append([]string{}, s.base...)
	for _, l := range s.res.Levels {
		if l.Status != cascade.StatusScored {
			s.res.Warnings = append(s.res.Warnings, levelWarning(l))
		}
	}
}

// moved lists the levels (1-5) placed by the user.
func (s *scored) moved() []int {
	var out []int
	for i, l := range s.res.Levels {
		if l.ReaderPlaced {
			out = append(out, i+1)
		}
	}
	return out
}

func scoresOf(tot, gg, ret *float64) *protocol.Scores {
	if tot == nil || gg == nil || ret == nil {
		return nil
	}
	return &protocol.Scores{TOT: *tot, GG: *gg, RET: *ret}
}

func roundedOf(r *cascade.Rounded) *protocol.Scores {
	if r == nil {
		return nil
	}
	return &protocol.Scores{TOT: float64(r.TOT), GG: float64(r.GG), RET: float64(r.RET)}
}

// info returns the result as the page receives it.
func (s *scored) info() *protocol.ResultInfo {
	r := s.res
	info := &protocol.ResultInfo{Warnings: append([]string(nil), r.Warnings...), Note: r.Note}
	for i, l := range r.Levels {
		info.Levels = append(info.Levels, protocol.LevelResult{
			Level: i + 1, Status: l.Status, Outside: l.Outside, Message: l.Message,
			Slice: l.Slice, Z: l.ZMM, EstimateZ: l.EstimateZMM, EstimatePos: s.g.SlicePos(l.EstimateZMM),
			Confidence: l.Confidence, Scores: scoresOf(l.TOT, l.GG, l.RET), Rounded: roundedOf(l.Rounded),
			Slices: l.Slices, Moved: l.ReaderPlaced,
		})
	}
	info.Mean = protocol.MeanScores{Scores: scoresOf(r.Mean.TOT, r.Mean.GG, r.Mean.RET), Rounded: roundedOf(r.Mean.Rounded), Levels: r.Mean.Levels}
	return info
}

// runCascade runs the cascade on the series: its sequential pass over the
// slices (read ahead, and feeding the coronal reformat, which is sent as
// soon as the pass ends), the levels network and the score network.
// Progress is reported per stage, and the host gets to deliver a cancel
// between slices.
func (e *Engine) runCascade(ctx context.Context, job int, lv *ingest.LazyVolume, cor *coronal, decode *progress, sendCoronal func() error, send Send) (*scored, error) {
	g := lv.Geometry()
	order := make([]int, g.Nz)
	for k := range order {
		order[k] = k
	}
	ra := newReadAhead(ctx, lv, e.src, order, e.opt.ReadAhead, cor.add)
	defer ra.Close()
	levels := e.stage(send, job, protocol.StageLevels, "network pass")
	scores := e.stage(send, job, protocol.StageScore, "slices")
	var cbErr error
	passDone := false
	progress := func(stage cascade.Stage, done, total int) {
		switch stage {
		case cascade.StageRead:
			decode.report(done, total)
		case cascade.StageLevels:
			if !passDone {
				passDone = true
				ra.Close()
				if err := sendCoronal(); err != nil && cbErr == nil {
					cbErr = err
				}
			}
			levels.report(done, total)
			if done == total {
				scores.begin() // its first report comes after the first slice
			}
		case cascade.StageScores:
			scores.report(done, total)
		}
		if err := e.checkpoint(ctx); err != nil && cbErr == nil {
			cbErr = err
		}
	}
	decode.report(0, g.Nz)
	res, err := e.opt.Cascade.Score(ctx, ra, cascade.Options{Progress: progress, SeriesUID: e.series.UID})
	if cbErr != nil {
		return nil, cbErr
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("The scan could not be scored: %w", err)
	}
	return newScored(res, g), nil
}

// sendLevelSlices sends the image and lung mask of every level slice,
// then their fast heat maps (the default method for every level first).
func (e *Engine) sendLevelSlices(ctx context.Context, job int, s *scored, send Send) error {
	var lk [][2]int
	for i, l := range s.res.Levels {
		if l.Slice != nil {
			lk = append(lk, [2]int{i + 1, *l.Slice})
		}
	}
	prog := e.stage(send, job, protocol.StageMaps, "steps")
	total := len(lk) * (1 + len(fastMethods))
	done := 0
	prog.report(0, total)
	for _, x := range lk {
		if err := e.checkpoint(ctx); err != nil {
			return err
		}
		if err := e.levelImage(ctx, job, x[0], x[1], send); err != nil {
			return err
		}
		done++
		prog.report(done, total)
	}
	for _, m := range fastMethods {
		for _, x := range lk {
			if err := e.checkpoint(ctx); err != nil {
				return err
			}
			if lm := e.maps[x[0]]; lm != nil && !lm.in.NoLung {
				if err := e.computeMaps(ctx, job, x[0], m, nil, send); err != nil {
					return err
				}
			}
			done++
			prog.report(done, total)
		}
	}
	return nil
}

// levelImage decodes slice k and sends it as the image of a level, with
// its lung mask, and keeps it prepared for the heat maps.
func (e *Engine) levelImage(ctx context.Context, job, level, k int, send Send) error {
	g := e.src.Geometry()
	buf := make([]int16, g.SliceLen())
	if err := e.src.Slice(ctx, k, buf); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("slice %d could not be read: %w", k+1, err)
	}
	in := cascade.PrepareSlice(buf, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]})
	e.setLevelInput(level, k, in)
	send(&protocol.Msg{Kind: protocol.Image, Job: job, Image: &protocol.ImageInfo{
		Role: protocol.RoleAxial, Width: g.Nx, Height: g.Ny, PixelW: g.Spacing[0], PixelH: g.Spacing[1],
		Slice: k, Z: g.ZOf(k), Level: level, LungRuns: maskRuns(in.Lung),
	}}, Int16Bytes(buf))
	return nil
}

// levelSlice sends a level's image and its fast heat maps (after a move).
func (e *Engine) levelSlice(ctx context.Context, job, level, k int, send Send) error {
	if err := e.levelImage(ctx, job, level, k, send); err != nil {
		return err
	}
	if e.maps[level].in.NoLung {
		return nil
	}
	for _, m := range fastMethods {
		if err := e.computeMaps(ctx, job, level, m, nil, send); err != nil {
			return err
		}
	}
	return nil
}

// maskRuns returns a mask's runs of set pixels: start, length, start,
// length...
func maskRuns(mask []bool) []int32 {
	var out []int32
	for i := 0; i < len(mask); {
		if !mask[i] {
			i++
			continue
		}
		j := i
		for j < len(mask) && mask[j] {
			j++
		}
		out = append(out, int32(i), int32(j-i))
		i = j
	}
	return out
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
	if level < 1 || level > cascade.NumLevels || k < 0 || k >= g.Nz {
		return fmt.Errorf("cannot move L%d to slice %d of %d", level, k+1, g.Nz)
	}
	s := e.result
	orig := s.orig[level-1]
	lr := orig
	if orig.Slice == nil || *orig.Slice != k {
		var err error
		lr, err = e.opt.Cascade.Rescore(ctx, e.src, level-1, k)
		if err != nil {
			return fmt.Errorf("rescoring L%d: %w", level, err)
		}
		// The levels network's estimate stays on record.
		lr.EstimateZMM = orig.EstimateZMM
	}
	s.res.Levels[level-1] = lr
	s.update()
	send(&protocol.Msg{Kind: protocol.Result, Job: job, Result: s.info()}, nil)
	return e.levelSlice(ctx, job, level, k, send)
}

// modelCard summarises the cascade for the page and the exports.
func modelCard(c *cascade.Cascade) protocol.ModelCard {
	info := c.Info()
	net := func(n cascade.NetInfo, what string) string {
		return fmt.Sprintf("%s: %s parameters, %.2f GFLOP %s", n.Spec, thousands(n.Params), n.GFLOP, what)
	}
	card := protocol.ModelCard{
		Name: "sscscore cascade",
		Fields: [][2]string{
			{"Levels network", net(info.Levels, "for 96 slices of 4 mm")},
			{"Score network", net(info.Scores, "per slice")},
			{"Level reading", levelReading(c.LevelPrior())},
			{"Weights (SHA-256)", "levels " + short(info.Levels.SHA256) + ", scores " + short(info.Scores.SHA256)},
			{"Build", "sscscore " + info.Build.Version + ", commit " + info.Build.Commit},
		},
		Weights: "levels:" + info.Levels.SHA256 + " scores:" + info.Scores.SHA256,
	}
	if info.Weights != "" { // a weights folder (serve -weights, or loaded in the page)
		card.Fields = append([][2]string{{"Weights", fmt.Sprintf("%s (not the shipped ones): levels %s, scores %s", info.Weights, info.Levels.SHA256, info.Scores.SHA256)}}, card.Fields...)
	}
	switch info.Training {
	case "synthetic":
		card.Fields = append(card.Fields, [2]string{"Training data", "synthetic only: procedural chest CT phantoms with pasted ground glass and reticulation"})
		card.Statement = cascade.SyntheticNote
	default:
		card.Fields = append(card.Fields, [2]string{"Training data", info.Training})
		card.Statement = "Research use only, not a medical device."
	}
	card.Fields = append(card.Fields,
		[2]string{"Check the levels", checkLevels(info)},
		[2]string{"Runs", "in this browser; the same networks and weights as the sscscore command-line tool"})
	return card
}

// levelReading says in words how the levels are read from the levels
// network's output under prior p (nil: each on its own).
func levelReading(p *cascade.LevelPrior) string {
	if p == nil {
		return "each level on its own"
	}
	return fmt.Sprintf("the five levels together, weighed against their usual distances (L1 to L2 about %.0f mm, L2 to L3 %.0f mm, L3 to L5 %.0f mm)",
		p.L1L2.Mean, p.L2L3.Mean, p.L3L5.Mean)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// thousands formats n with thin separators: 1234567 -> "1,234,567".
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
