package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sscscore/model/phantom"
)

func init() {
	register(command{
		name:    "synth",
		summary: "generate synthetic chest CT phantoms as DICOM series with their five levels and disease labels (labels.csv)",
		run:     runSynth,
	})
}

// synthConfig holds the parsed flags of the synth command.
type synthConfig struct {
	n     int
	seed  int64
	out   string
	sheet string
	opt   phantom.Options
	quiet bool
	// followUp, when set, also writes a later scan of each patient with
	// the disease grown by growth, months after the baseline.
	followUp bool
	growth   float64
	months   int
}

func runSynth(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore synth --n N --seed S --out DIR [--disease] [--slice-spacing MM|MIN-MAX] [--sheet FILE.png] [--followup GROWTH]")
		fmt.Fprintln(stderr, "\nWrites each phantom as a DICOM series DIR/<PatID>/CT00001.dcm ... and DIR/labels.csv:")
		fmt.Fprintln(stderr, "PatID,L1_pos,...,L5_pos (patient z, mm),L1_disext,L1_gg,L1_retp,...,L5_retp (% of the lung area).")
		fmt.Fprintln(stderr, "With --followup, two scans of each patient: DIR/<PatID>/baseline and DIR/<PatID>/followup (the same")
		fmt.Fprintln(stderr, "anatomy, scanner and levels, the disease grown in place, --followup-months later, other noise), two rows")
		fmt.Fprintln(stderr, "per patient in labels.csv with the columns Scan and StudyDate added.")
		fmt.Fprintln(stderr, "The same seed always gives the same files.\n\nflags:")
		fs.PrintDefaults()
	}
	n := fs.Int("n", 1, "number of phantoms")
	seed := fs.Int64("seed", 1, "seed of the first phantom (phantom i uses a seed derived from it)")
	out := fs.String("out", "", "output directory (DICOM series and labels.csv)")
	disease := fs.Bool("disease", false, "place ground glass and reticulation in the lungs")
	severity := fs.Float64("severity", 0, "disease severity in (0, 1]; 0 draws it per phantom")
	slice := fs.String("slice-spacing", "", "slice spacing in mm, fixed (2.5) or a range (1-5); default 0.625-8")
	pixel := fs.String("pixel-spacing", "", "pixel spacing in mm, fixed or a range; default 0.55-0.98 fitted to the body")
	matrix := fs.Int("matrix", 512, "image size (pixels)")
	signed := fs.Bool("signed", false, "store signed pixels (default: signed or unsigned drawn per phantom)")
	unsigned := fs.Bool("unsigned", false, "store unsigned pixels")
	contrast := fs.String("contrast", "random", "intravenous contrast: random, none, arterial or venous")
	sheet := fs.String("sheet", "", "write the contact sheet of the first phantom (coronal reformat with the true levels and the five level slices) to this PNG")
	quiet := fs.Bool("quiet", false, "no progress bar")
	growth := fs.Float64("followup", 0, "also write a follow-up scan of each patient whose lesions are grown by this `fraction` of their size (0.3: 30 % larger; 0: unchanged; negative: shrunk, down to -0.9)")
	months := fs.Int("followup-months", 12, "months between the baseline and the follow-up scan (their study dates)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	followUp := false
	fs.Visit(func(f *flag.Flag) { followUp = followUp || f.Name == "followup" })
	if followUp && (*growth < -0.9 || *growth > 3) {
		return fmt.Errorf("--followup %v: want a growth between -0.9 and 3", *growth)
	}
	if followUp && *months < 1 {
		return fmt.Errorf("--followup-months %d: want at least 1", *months)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *n < 1 {
		return fmt.Errorf("--n must be at least 1")
	}
	if *out == "" && *sheet == "" {
		return fmt.Errorf("--out or --sheet is required")
	}
	if *signed && *unsigned {
		return fmt.Errorf("--signed and --unsigned exclude each other")
	}
	cfg := synthConfig{n: *n, seed: *seed, out: *out, sheet: *sheet, quiet: *quiet, followUp: followUp, growth: *growth, months: *months}
	cfg.opt.Disease = *disease
	cfg.opt.Severity = *severity
	cfg.opt.Matrix = *matrix
	var err error
	if cfg.opt.SliceSpacing, err = parseRange(*slice, 0.3, 20); err != nil {
		return fmt.Errorf("--slice-spacing: %w", err)
	}
	if cfg.opt.PixelSpacing, err = parseRange(*pixel, 0.1, 5); err != nil {
		return fmt.Errorf("--pixel-spacing: %w", err)
	}
	switch {
	case *signed:
		cfg.opt.Signed = 2
	case *unsigned:
		cfg.opt.Signed = 1
	}
	switch strings.ToLower(*contrast) {
	case "random", "":
	case "none":
		cfg.opt.Contrast = phantom.ContrastNone
	case "arterial":
		cfg.opt.Contrast = phantom.ContrastArterial
	case "venous":
		cfg.opt.Contrast = phantom.ContrastVenous
	default:
		return fmt.Errorf("--contrast: unknown phase %q (random, none, arterial, venous)", *contrast)
	}
	return synthesize(context.Background(), cfg, stdout, stderr)
}

// parseRange parses "" (zero Range: the default), "2.5" or "1-5".
func parseRange(s string, lo, hi float64) (phantom.Range, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return phantom.Range{}, nil
	}
	parts := strings.SplitN(s, "-", 2)
	a, err := strconv.ParseFloat(strings.TrimSpace(parts[0]), 64)
	if err != nil {
		return phantom.Range{}, fmt.Errorf("bad number %q", parts[0])
	}
	b := a
	if len(parts) == 2 {
		if b, err = strconv.ParseFloat(strings.TrimSpace(parts[1]), 64); err != nil {
			return phantom.Range{}, fmt.Errorf("bad number %q", parts[1])
		}
	}
	if a > b {
		a, b = b, a
	}
	if a < lo || b > hi {
		return phantom.Range{}, fmt.Errorf("%v-%v outside %v-%v mm", a, b, lo, hi)
	}
	return phantom.Range{Min: a, Max: b}, nil
}

// phantomSeed derives the seed of phantom i from the base seed.
func phantomSeed(base int64, i int) int64 {
	if i == 0 {
		return base
	}
	x := uint64(base)*0x9e3779b97f4a7c15 + uint64(i)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	return int64(x >> 1)
}

// patientID names phantom i.
func patientID(base int64, i int) string { return fmt.Sprintf("SYN%d-%04d", base, i+1) }

// labelsHeader is the paper's labels.csv layout.
func labelsHeader() []string {
	h := []string{"PatID"}
	for i := 1; i <= 5; i++ {
		h = append(h, fmt.Sprintf("L%d_pos", i))
	}
	for i := 1; i <= 5; i++ {
		h = append(h, fmt.Sprintf("L%d_disext", i), fmt.Sprintf("L%d_gg", i), fmt.Sprintf("L%d_retp", i))
	}
	return h
}

func synthesize(ctx context.Context, cfg synthConfig, stdout, stderr io.Writer) error {
	var bar *progressBar
	if !cfg.quiet {
		bar = &progressBar{w: stderr}
	}
	var lw *csv.Writer
	var lf *os.File
	if cfg.out != "" {
		if err := os.MkdirAll(cfg.out, 0o755); err != nil {
			return err
		}
		var err error
		lf, err = os.Create(filepath.Join(cfg.out, "labels.csv"))
		if err != nil {
			return err
		}
		defer lf.Close()
		lw = csv.NewWriter(lf)
		h := labelsHeader()
		if cfg.followUp {
			h = append(h, "Scan", "StudyDate")
		}
		if err := lw.Write(h); err != nil {
			return err
		}
	}
	for i := 0; i < cfg.n; i++ {
		p := phantom.New(phantomSeed(cfg.seed, i), cfg.opt)
		id := patientID(cfg.seed, i)
		g := p.Geometry()
		if i == 0 && cfg.sheet != "" {
			if bar != nil {
				bar.label = fmt.Sprintf("sheet %s", filepath.Base(cfg.sheet))
				bar.update(0, 1)
			}
			img, err := p.Sheet(ctx, g, fmt.Sprintf("%s  %s", id, p))
			if err != nil {
				return fmt.Errorf("%s: sheet: %w", id, err)
			}
			f, err := os.Create(cfg.sheet)
			if err != nil {
				return err
			}
			if err := png.Encode(f, img); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", cfg.sheet, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		if cfg.out == "" {
			continue
		}
		if !cfg.followUp {
			if err := writePhantom(ctx, p, id, "", filepath.Join(cfg.out, id), lw, bar, stdout); err != nil {
				return err
			}
			continue
		}
		if err := writePhantom(ctx, p, id, "baseline", filepath.Join(cfg.out, id, "baseline"), lw, bar, stdout); err != nil {
			return err
		}
		fu := p.FollowUp(cfg.growth, cfg.months)
		if err := writePhantom(ctx, fu, id, "followup", filepath.Join(cfg.out, id, "followup"), lw, bar, stdout); err != nil {
			return err
		}
	}
	if bar != nil {
		bar.done()
	}
	if lw != nil {
		lw.Flush()
		if err := lw.Error(); err != nil {
			return err
		}
	}
	return nil
}

// writePhantom writes one scan of patient id as a DICOM series into dir
// and its labels row (with the Scan and StudyDate columns when scan is
// set: a baseline or follow-up).
func writePhantom(ctx context.Context, p *phantom.Phantom, id, scan, dir string, lw *csv.Writer, bar *progressBar, stdout io.Writer) error {
	name := id
	if scan != "" {
		name += " " + scan
	}
	var prog func(done, total int)
	if bar != nil {
		bar.label = "phantom " + name
		prog = bar.update
	}
	g := p.Geometry()
	if _, err := p.WriteDICOM(ctx, dir, id, prog); err != nil {
		return err
	}
	lab, _, err := p.LevelLabels(ctx, g)
	if err != nil {
		return fmt.Errorf("%s: labels: %w", name, err)
	}
	rec := []string{id}
	for _, z := range p.Levels() {
		rec = append(rec, strconv.FormatFloat(z, 'f', 2, 64))
	}
	for _, l := range lab {
		rec = append(rec, strconv.FormatFloat(l.TOT, 'f', 2, 64), strconv.FormatFloat(l.GG, 'f', 2, 64), strconv.FormatFloat(l.RET, 'f', 2, 64))
	}
	if scan != "" {
		rec = append(rec, scan, p.StudyDate())
	}
	if err := lw.Write(rec); err != nil {
		return err
	}
	lv := p.Levels()
	fmt.Fprintf(stdout, "%s: %s, %d slices, levels %.1f %.1f %.1f %.1f %.1f\n", name, p, g.Nz, lv[0], lv[1], lv[2], lv[3], lv[4])
	return nil
}

// progressBar draws a one-line progress bar on a terminal (stderr).
type progressBar struct {
	w     io.Writer
	label string
	last  int
}

func (b *progressBar) update(done, total int) {
	const width = 30
	if total <= 0 {
		return
	}
	f := done * width / total
	fmt.Fprintf(b.w, "\r%-40s [%s%s] %d/%d", b.label, strings.Repeat("#", f), strings.Repeat(".", width-f), done, total)
	b.last = done
}

func (b *progressBar) done() { fmt.Fprintln(b.w) }
