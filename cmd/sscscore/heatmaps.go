package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/heatmap"
	"sscscore/model/volume"
)

func init() {
	register(command{
		name:    "heatmaps",
		summary: "evaluate the heat maps on synthetic slices with known lesions (maps of a scan: sscscore score --heatmaps DIR)",
		run:     runHeatmaps,
	})
}

// parseMethods reads a comma-separated list of heat-map methods ("all"
// for the three).
func parseMethods(s string) ([]heatmap.Method, error) {
	if s == "all" {
		return []heatmap.Method{heatmap.MethodGradient, heatmap.MethodOcclusion, heatmap.MethodDense}, nil
	}
	var out []heatmap.Method
	for _, f := range strings.Split(s, ",") {
		m := heatmap.Method(strings.TrimSpace(f))
		switch m {
		case heatmap.MethodGradient, heatmap.MethodOcclusion, heatmap.MethodDense:
			out = append(out, m)
		default:
			return nil, fmt.Errorf("unknown heat-map method %q (gradient, occlusion, dense or all)", f)
		}
	}
	return out, nil
}

// heatmapLevel is one level's entry of heatmaps.json.
type heatmapLevel struct {
	Level  string  `json:"level"`
	Slice  int     `json:"slice"`
	Method string  `json:"method"`
	Score  string  `json:"score"`
	File   string  `json:"file"`
	Net    float64 `json:"network_score"`
	// Map is the heat-map score: the percentage of lung pixels below
	// Threshold.
	Map       float64 `json:"heatmap_score"`
	Threshold float64 `json:"threshold"`
	Range     float64 `json:"legend_range"`
	Seconds   float64 `json:"seconds"`
}

// writeHeatmaps writes the heat maps of the scored levels of res (their
// centre slices, read again from src) into dir: one PNG per level, score
// and method (L3-TOT-gradient.png: the slice in a lung window, the map
// blended over the lung, a legend in score points, one range per score
// and method for all levels) and heatmaps.json with the network's and the
// maps' scores. methods is a comma-separated list (see parseMethods).
func writeHeatmaps(ctx context.Context, dir, methods string, c *cascade.Cascade, src volume.Source, res *cascade.Result, stderr io.Writer, quiet bool) error {
	ms, err := parseMethods(methods)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("heat maps: %w", err)
	}
	g := src.Geometry()
	sp := [2]float64{g.Spacing[0], g.Spacing[1]}
	type level struct {
		name  string
		slice int
		hu    []int16
		maps  map[heatmap.Method]*heatmap.Maps
		secs  map[heatmap.Method]float64
	}
	var levels []*level
	for _, l := range res.Levels {
		if l.Status != cascade.StatusScored || l.Slice == nil {
			continue
		}
		lv := &level{name: l.Name, slice: *l.Slice, hu: make([]int16, g.Nx*g.Ny),
			maps: map[heatmap.Method]*heatmap.Maps{}, secs: map[heatmap.Method]float64{}}
		if err := src.Slice(ctx, lv.slice, lv.hu); err != nil {
			return fmt.Errorf("heat maps: reading slice %d of %s: %w", lv.slice, l.Name, err)
		}
		in := cascade.PrepareSlice(lv.hu, g.Nx, g.Ny, sp)
		if in.NoLung {
			continue
		}
		for _, m := range ms {
			opt := heatmap.Options{}
			if !quiet {
				opt.Progress = func(done, total int) {
					fmt.Fprintf(stderr, "\rheat maps %s %s %d/%d   ", l.Name, m, done, total)
				}
			}
			t0 := time.Now()
			mp, err := heatmap.Compute(ctx, m, c, in, g.Nx, g.Ny, opt)
			if err != nil {
				return fmt.Errorf("heat maps of %s: %w", l.Name, err)
			}
			lv.maps[m], lv.secs[m] = mp, time.Since(t0).Seconds()
		}
		levels = append(levels, lv)
	}
	if !quiet {
		fmt.Fprint(stderr, "\r                                        \r")
	}
	if len(levels) == 0 {
		return errors.New("heat maps: no level was scored")
	}
	var index []heatmapLevel
	for _, m := range ms {
		for _, s := range heatmap.Scores {
			var all []*heatmap.Maps
			for _, lv := range levels {
				all = append(all, lv.maps[m])
			}
			sc := heatmap.AutoScale(s, all...)
			for _, lv := range levels {
				mp := lv.maps[m]
				name := fmt.Sprintf("%s-%s-%s.png", lv.name, s, m)
				ms := mp.Score(s, heatmap.DefaultThreshold)
				title := fmt.Sprintf("%s %s %s: network %.1f, map %.1f", lv.name, s, m, mp.NetScore(s), ms)
				if err := writePNGFile(filepath.Join(dir, name), lv.hu, mp, s, sc, title); err != nil {
					return err
				}
				index = append(index, heatmapLevel{Level: lv.name, Slice: lv.slice, Method: string(m), Score: s.String(), File: name,
					Net: mp.NetScore(s), Map: ms, Threshold: heatmap.DefaultThreshold, Range: sc.Range, Seconds: lv.secs[m]})
			}
		}
	}
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "heatmaps.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("heat maps: %w", err)
	}
	if !quiet {
		fmt.Fprintf(stderr, "heat maps: %d PNG files in %s\n", len(index), dir)
	}
	return nil
}

// scoreHeatmaps is writeHeatmaps with the shipped cascade, for `sscscore
// score --heatmaps DIR`.
func scoreHeatmaps(ctx context.Context, dir, methods string, src volume.Source, res *cascade.Result, stderr io.Writer, quiet bool) error {
	c, err := theCascade()
	if err != nil {
		return err
	}
	return writeHeatmaps(ctx, dir, methods, c, src, res, stderr, quiet)
}

func writePNGFile(path string, hu []int16, m *heatmap.Maps, s heatmap.Score, sc heatmap.Scale, title string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heat maps: %w", err)
	}
	if err := heatmap.WritePNG(f, hu, m, s, sc, title); err != nil {
		f.Close()
		return fmt.Errorf("heat maps: %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("heat maps: %w", err)
	}
	return nil
}

// heatmapEvalJSON is the `sscscore heatmaps --eval --json` output.
type heatmapEvalJSON struct {
	Model       cascade.ModelInfo          `json:"model"`
	Slices      []heatmap.EvalSlice        `json:"slices"`
	Calibration map[heatmap.Method]float64 `json:"calibrated_thresholds"`
	Reports     []heatmap.MethodReport     `json:"reports"`
	Seeds       string                     `json:"seeds"`
	CalSeeds    string                     `json:"calibration_seeds,omitempty"`
	Seconds     float64                    `json:"seconds"`
}

func runHeatmaps(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("heatmaps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("eval", 0, "evaluate on N synthetic slices (held-out phantom seeds from 3,000,001)")
	cal := fs.Int("calibrate", 0, "first choose each method's threshold on N other slices (seeds from 3,500,001)")
	methods := fs.String("methods", "all", "methods: gradient, occlusion, dense (comma-separated) or all")
	weights := fs.String("weights", "", "weights directory (levels.json, levels.safetensors, scores.json, scores.safetensors) instead of the shipped ones")
	asJSON := fs.String("json", "", "also write the full results as JSON to FILE")
	quiet := fs.Bool("q", false, "no progress on stderr")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore heatmaps --eval N [--calibrate M] [--methods LIST] [--weights DIR] [--json FILE]")
		fmt.Fprintln(stderr, "\nMeasures the heat maps on synthetic slices with known lesion masks: the share of")
		fmt.Fprintln(stderr, "the highlighted lung in the lesion (precision), of the lesion highlighted (recall),")
		fmt.Fprintln(stderr, "and how the heat-map score tracks the network's score (MAE, R²).")
		fmt.Fprintln(stderr, "Maps of a scan: sscscore score --heatmaps DIR.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		fs.Usage()
		return errors.New("nothing to do: give --eval N")
	}
	ms, err := parseMethods(*methods)
	if err != nil {
		return err
	}
	c, err := heatmapCascade(*weights)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	t0 := time.Now()
	progress := func(what string) func(done, total int) {
		if *quiet {
			return nil
		}
		return func(done, total int) { fmt.Fprintf(stderr, "\r%s %d/%d   ", what, done, total) }
	}
	out := heatmapEvalJSON{Model: c.Info(), Calibration: map[heatmap.Method]float64{}}
	if *cal > 0 {
		cd, err := heatmap.Evaluate(ctx, c, heatmap.EvalOptions{Slices: *cal, FirstSeed: heatmap.CalibrationSeeds, Methods: ms, Progress: progress("calibration")})
		if err != nil {
			return err
		}
		out.CalSeeds = fmt.Sprintf("%d-%d", heatmap.CalibrationSeeds, cd.Slices[len(cd.Slices)-1].Seed)
		for _, m := range ms {
			if out.Calibration[m], err = cd.Calibrate(m); err != nil {
				return err
			}
		}
	}
	d, err := heatmap.Evaluate(ctx, c, heatmap.EvalOptions{Slices: *n, Methods: ms, Progress: progress("evaluation")})
	if err != nil {
		return err
	}
	if !*quiet {
		fmt.Fprint(stderr, "\r                              \r")
	}
	out.Slices = d.Slices
	out.Seeds = fmt.Sprintf("%d-%d", d.Slices[0].Seed, d.Slices[len(d.Slices)-1].Seed)
	for _, m := range ms {
		ths := []float64{heatmap.DefaultThreshold}
		if t, ok := out.Calibration[m]; ok && t != heatmap.DefaultThreshold {
			ths = append(ths, t)
		}
		for _, t := range ths {
			r, err := d.Report(m, t)
			if err != nil {
				return err
			}
			out.Reports = append(out.Reports, r)
		}
	}
	out.Seconds = time.Since(t0).Seconds()
	var pasted, phantoms int
	for _, s := range d.Slices {
		if s.Kind == "pasted" {
			pasted++
		} else {
			phantoms++
		}
	}
	fmt.Fprintf(stdout, "Heat maps on %d synthetic slices (seeds %s: %d healthy phantom slices with pasted lesions, %d phantoms with 3-D disease), score network %s…\n\n",
		len(d.Slices), out.Seeds, pasted, phantoms, shortHash(c.Info().Scores.SHA256))
	heatmap.WriteTable(stdout, out.Reports)
	if len(out.Calibration) > 0 {
		fmt.Fprintf(stdout, "\nCalibrated thresholds (chosen on %d slices, seeds %s, as the best min(precision, recall)):", *cal, out.CalSeeds)
		for _, m := range ms {
			fmt.Fprintf(stdout, " %s %g", m, out.Calibration[m])
		}
		fmt.Fprintln(stdout)
	}
	var hs, ls []float64
	for _, sl := range d.Slices {
		hs = append(hs, sl.Healthy.TOT)
		ls = append(ls, sl.Lungmask)
	}
	sort.Float64s(hs)
	sort.Float64s(ls)
	if hs[len(hs)-1] > 0 {
		fmt.Fprintf(stdout, "\nTOT with the lung replaced by the healthy texture: median %.1f, 90th percentile %.1f, max %.1f\n",
			hs[len(hs)/2], hs[len(hs)*9/10], hs[len(hs)-1])
	}
	var low int
	for _, v := range ls {
		if v < 0.8 {
			low++
		}
	}
	fmt.Fprintf(stdout, "model/lungmask finds under 80 %% of the true lung on %d of %d slices (the maps use the true lung mask)\n", low, len(ls))
	fmt.Fprintf(stdout, "\n(precision and recall pooled over the slices' pixels; MAE and R² of the heat-map score against the network's score; %.0f s)\n", out.Seconds)
	if *asJSON != "" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*asJSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// heatmapCascade returns the shipped cascade or one from a weights
// directory.
func heatmapCascade(dir string) (*cascade.Cascade, error) {
	if dir == "" {
		return theCascade()
	}
	var b [4][]byte
	for i, n := range []string{"levels.json", "levels.safetensors", "scores.json", "scores.safetensors"} {
		var err error
		if b[i], err = os.ReadFile(filepath.Join(dir, n)); err != nil {
			return nil, err
		}
	}
	return cascade.New(b[0], b[1], b[2], b[3])
}
