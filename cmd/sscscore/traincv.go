package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"sscscore/model/train"
)

// trainCV runs `sscscore train cv`: cross-validation of both networks on
// a site's labelled scans, and the final model exported as a weights
// folder.
func trainCV(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train cv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg train.CVConfig
	fs.StringVar(&cfg.RealDir, "real", "", "folder of the site's DICOM series (one sub-folder per PatID, or matched by PatientID)")
	fs.StringVar(&cfg.RealCSV, "labels", "", "the site's readings in the paper's layout (PatID, L1_pos..L5_pos, L1_disext, L1_gg, L1_retp, ...)")
	fs.IntVar(&cfg.Folds, "folds", 4, "number of folds (patients are never split across folds)")
	fs.StringVar(&cfg.Out, "out", "", "working folder: each fold's training runs and cv.json (default $TMPDIR/sscscore-cv)")
	fs.StringVar(&cfg.Cache, "cache", "", "phantom cache directory (default $TMPDIR/sscscore-cache)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed (folds, sampling, augmentation)")
	steps := fs.Int("steps", 0, "optimiser steps of each network in each run (sets --levels-steps and --scores-steps; default 150)")
	fs.IntVar(&cfg.LevelsSteps, "levels-steps", 0, "levels network's steps per run (default 150)")
	fs.IntVar(&cfg.ScoresSteps, "scores-steps", 0, "score network's steps per run (default 150)")
	fs.IntVar(&cfg.LevelsBatch, "levels-batch", 0, "levels network's batch (default 4 scans)")
	fs.IntVar(&cfg.ScoresBatch, "scores-batch", 0, "score network's batch (default 8 slices)")
	fs.Float64Var(&cfg.LR, "lr", 0, "peak learning rate (default 1e-4 fine-tuning, 2e-3 from scratch)")
	fs.Float64Var(&cfg.RealShare, "real-share", 0.5, "share of each batch drawn from the site's scans (the rest: phantoms and pasted synthetic disease)")
	var ps seedRange
	fs.Var(&ps, "phantom-seeds", "phantom seeds mixed in, FROM:TO (default 1:13)")
	fs.BoolVar(&cfg.FromScratch, "from-scratch", false, "train from random weights instead of fine-tuning the shipped ones (needs far more steps)")
	fs.IntVar(&cfg.Threads, "threads", 0, "threads for the matrix products (default all cores)")
	fs.StringVar(&cfg.Export, "export", "", "train a final model on every scan and write it here as a weights folder with its model card (for score/batch --weights, serve -weights)")
	fs.StringVar(&cfg.Name, "name", "", "name of the exported weights (default site-DATE)")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of tables")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: sscscore train cv --real DIR --labels CSV [--folds 4] [--export DIR] [flags]

Cross-validates both networks on the site's Goh-scored scans: per fold, the
levels network (on L1_pos..L5_pos) and the score network (on TOT/GG/RET) are
fine-tuned from the shipped weights on the other folds' scans mixed with
phantoms, then compared with the fold's readings beside the shipped weights.

flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train cv: unexpected arguments %q", fs.Args())
	}
	if cfg.RealDir == "" || cfg.RealCSV == "" {
		return errors.New("train cv: --real DIR and --labels CSV are required")
	}
	if *steps > 0 {
		cfg.LevelsSteps, cfg.ScoresSteps = *steps, *steps
	}
	cfg.PhantomSeeds = ps
	cfg.Command = "sscscore train cv " + strings.Join(args, " ")
	cfg.Log = stderr
	ctx, stop := interruptible()
	defer stop()
	rep, err := train.RunCV(ctx, cfg)
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rep, "", " ")
	out := rep.Config.Out
	if err := os.WriteFile(filepath.Join(out, "cv.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("train cv: %w", err)
	}
	if *asJSON {
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	rep.WriteText(stdout)
	return nil
}

// trainCheck runs `sscscore train check`: the labels CSV matched with the
// scans, every issue listed.
func trainCheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("real", "", "folder of the site's DICOM series")
	csvPath := fs.String("labels", "", "the site's readings in the paper's layout")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *csvPath == "" {
		return errors.New("train check: --real DIR and --labels CSV are required")
	}
	ctx, stop := interruptible()
	defer stop()
	d, err := train.CheckRealData(ctx, *dir, *csvPath)
	if err != nil {
		return err
	}
	for _, i := range d.Issues {
		fmt.Fprintln(stdout, i)
	}
	errs := d.Errors()
	fmt.Fprintf(stdout, "%d scans matched with their rows; %d errors, %d warnings\n", len(d.Cases), len(errs), len(d.Issues)-len(errs))
	if len(errs) > 0 {
		return fmt.Errorf("train check: %d errors in %s", len(errs), *csvPath)
	}
	return nil
}
