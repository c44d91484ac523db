package cascade

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"sscscore/model/volume"
)

// Position is where a reader puts a level or a slice of their own: a
// patient z (mm; the nearest slice is scored) or a slice index (0 = the
// most cranial slice).
type Position struct {
	ByZ   bool
	Z     float64
	Slice int
}

// ParsePosition reads "z-144" (patient z -144 mm), "z+20" or "z20",
// "slice-12", "slice:12" or "slice12" (slice index 12; the sign is a
// separator: indices are never negative) and a bare "12" (slice index).
func ParsePosition(s string) (Position, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case strings.HasPrefix(t, "z"):
		v, err := strconv.ParseFloat(strings.TrimPrefix(strings.TrimPrefix(t, "z"), "="), 64)
		if err != nil {
			return Position{}, fmt.Errorf("position %q: want z-144 (patient z in mm)", s)
		}
		return Position{ByZ: true, Z: v}, nil
	case strings.HasPrefix(t, "slice"):
		t = strings.TrimLeft(strings.TrimPrefix(t, "slice"), "-:= ")
	}
	k, err := strconv.Atoi(t)
	if err != nil || k < 0 {
		return Position{}, fmt.Errorf("position %q: want z-144 (patient z, mm) or slice-12 (slice index, 0 = most cranial)", s)
	}
	return Position{Slice: k}, nil
}

// SliceIn returns the slice of g at p: the slice index itself, or the
// slice nearest the z. A position outside the scan is an error saying the
// scan's range.
func (p Position) SliceIn(g *volume.Geometry) (int, error) {
	if p.ByZ {
		k, inside := g.NearestSlice(p.Z)
		if !inside {
			lo, hi := g.ZRange()
			return 0, fmt.Errorf("z %.1f mm is outside the scan (z %.1f to %.1f mm)", p.Z, lo, hi)
		}
		return k, nil
	}
	if p.Slice >= g.Nz {
		return 0, fmt.Errorf("slice %d is outside the scan (slices 0 to %d)", p.Slice, g.Nz-1)
	}
	return p.Slice, nil
}

// Placement is a reader's placement of a level (Level 0 for L1 … 4 for
// L5), or with Level -1 a slice of their own to score.
type Placement struct {
	Level int
	At    Position
}

// ParsePlacement reads "L3=z-144" or "L3=slice-12" (see ParsePosition).
func ParsePlacement(s string) (Placement, error) {
	name, pos, ok := strings.Cut(strings.TrimSpace(s), "=")
	if !ok {
		return Placement{}, fmt.Errorf("level %q: want L3=z-144 or L3=slice-12", s)
	}
	level := slices.Index(LevelNames[:], strings.ToUpper(strings.TrimSpace(name)))
	if level < 0 {
		return Placement{}, fmt.Errorf("level %q: %q is not one of L1..L5", s, name)
	}
	at, err := ParsePosition(pos)
	if err != nil {
		return Placement{}, fmt.Errorf("level %s: %w", name, err)
	}
	return Placement{Level: level, At: at}, nil
}

// Place applies a reader's placements to res, a result of Score on src:
// each level placed is scored at its slice and marked ReaderPlaced (also a
// level the network put outside the scan, or left to the reader), each
// slice of the reader's own is scored into res.ExtraSlices (ReaderPlaced,
// "slice K"); the mean and the level warnings follow. A later placement of
// the same level wins. Nothing is changed when a placement is bad.
func (c *Cascade) Place(ctx context.Context, src volume.Source, res *Result, ps []Placement) error {
	g := src.Geometry()
	type job struct {
		p     Placement
		slice int
	}
	jobs := make([]job, 0, len(ps))
	for _, p := range ps {
		k, err := p.At.SliceIn(g)
		if err != nil {
			if p.Level >= 0 {
				return fmt.Errorf("%s: %w", LevelNames[p.Level], err)
			}
			return err
		}
		if p.Level >= NumLevels {
			return fmt.Errorf("cascade: level %d out of range [0,%d)", p.Level, NumLevels)
		}
		jobs = append(jobs, job{p, k})
	}
	levels := append([]LevelResult(nil), res.Levels...)
	extra := append([]LevelResult(nil), res.ExtraSlices...)
	var notes []string
	for _, j := range jobs {
		name := fmt.Sprintf("slice %d", j.slice)
		if j.p.Level >= 0 {
			name = LevelNames[j.p.Level]
		}
		lr, err := c.scoreAt(ctx, src, name, j.slice)
		if err != nil {
			return err
		}
		if j.p.Level < 0 {
			extra = slices.DeleteFunc(extra, func(l LevelResult) bool { return l.Name == name })
			extra = append(extra, lr)
			notes = append(notes, fmt.Sprintf("slice %d (z %.1f mm) scored at the reader's request", j.slice, g.ZOf(j.slice)))
			continue
		}
		i := slices.IndexFunc(levels, func(l LevelResult) bool { return l.Name == name })
		if i < 0 {
			levels = append(levels, lr)
		} else {
			lr.EstimateZMM = levels[i].EstimateZMM
			levels[i] = lr
		}
		notes = append(notes, fmt.Sprintf("%s placed by the reader at slice %d (z %.1f mm)", name, j.slice, g.ZOf(j.slice)))
	}
	// The level warnings follow the levels (Score's wording).
	var warnings []string
	for _, w := range res.Warnings {
		own := false
		for _, l := range res.Levels {
			own = own || strings.HasPrefix(w, l.Name+" not scored: ")
		}
		if !own {
			warnings = append(warnings, w)
		}
	}
	for _, l := range levels {
		if l.Status != StatusScored {
			warnings = append(warnings, fmt.Sprintf("%s not scored: %s", l.Name, l.Message))
		}
	}
	res.Levels, res.ExtraSlices = levels, extra
	res.Mean = MeanOf(levels)
	res.Warnings = append(append([]string{}, warnings...), notes...)
	return nil
}
