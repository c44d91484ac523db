package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"sscscore/model/train"
)

func init() {
	register(command{
		name:    "train",
		summary: "train the levels or score network (phantoms and synthesis on the fly, and/or real labelled scans)",
		run:     runTrain,
	})
}

// seedRange parses "from:to" (to exclusive).
type seedRange [2]int64

func (r *seedRange) String() string { return fmt.Sprintf("%d:%d", r[0], r[1]) }

func (r *seedRange) Set(s string) error {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return fmt.Errorf("seed range %q: want FROM:TO", s)
	}
	from, err1 := strconv.ParseInt(a, 10, 64)
	to, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || to <= from {
		return fmt.Errorf("seed range %q: want FROM:TO with FROM < TO", s)
	}
	r[0], r[1] = from, to
	return nil
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		trainUsage(stderr)
		return errors.New("missing levels, scores, cache, export, check or cv")
	}
	switch args[0] {
	case "levels", "scores":
		return trainNet(args[0], args[1:], stdout, stderr)
	case "cache":
		return trainCache(args[1:], stdout, stderr)
	case "export":
		return trainExport(args[1:], stdout, stderr)
	case "cv":
		return trainCV(args[1:], stdout, stderr)
	case "check":
		return trainCheck(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		trainUsage(stdout)
		return nil
	}
	trainUsage(stderr)
	return fmt.Errorf("unknown train target %q", args[0])
}

func trainUsage(w io.Writer) {
	fmt.Fprintln(w, `usage:
  sscscore train levels|scores [flags]   train a network (checkpoints, curves and best weights in --out)
  sscscore train cache levels|scores --seeds FROM:TO [--cache DIR]   pre-render phantom training data
  sscscore train export --levels DIR --scores DIR --to model/weights  write the best weights for shipping
  sscscore train check --real DIR --labels CSV   match a site's readings with its scans, list every issue
  sscscore train cv --real DIR --labels CSV --folds 4 [--export DIR]   cross-validate both networks on a site's scans

Run "sscscore train levels -h" for the training flags.`)
}

func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func trainNet(kind string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg train.RunConfig
	cfg.Kind = kind
	fs.StringVar(&cfg.Out, "out", "", "directory for checkpoints, state and curves (default $TMPDIR/sscscore-train-"+kind+")")
	fs.StringVar(&cfg.Cache, "cache", "", "phantom cache directory (default $TMPDIR/sscscore-cache)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "random seed (initialisation, sampling, augmentation)")
	fs.IntVar(&cfg.Steps, "steps", 0, "optimiser steps (default 4000 levels, 3000 scores)")
	fs.IntVar(&cfg.Batch, "batch", 0, "batch size (default 4 levels, 16 scores)")
	fs.Float64Var(&cfg.LR, "lr", 0, "peak learning rate (default 2e-3)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "warm-up steps (default 150)")
	fs.IntVar(&cfg.ValEvery, "val-every", 0, "validate and checkpoint every N steps (default 200)")
	fs.IntVar(&cfg.Threads, "threads", 0, "threads for the matrix products (default all cores)")
	fs.BoolVar(&cfg.Resume, "resume", false, "continue the run in --out from its last checkpoint")
	fs.StringVar(&cfg.Init, "init", "", "start from these weights (safetensors) instead of random ones")
	fs.StringVar(&cfg.RealDir, "real", "", "folder of real labelled DICOM series (one sub-folder per PatID, or matched by PatientID)")
	fs.StringVar(&cfg.RealCSV, "labels", "", "CSV of the real scans in the paper's layout (PatID, L1_pos..L5_pos, L1_disext, L1_gg, L1_retp, ...)")
	fs.Float64Var(&cfg.RealShare, "real-share", 0.5, "share of each batch drawn from the real scans")
	fs.BoolVar(&cfg.NoSynthetic, "no-synthetic", false, "train on the real scans only")
	fs.Float64Var(&cfg.PhantomShare, "phantom-share", 0, "scores: share of slices from phantoms with 3D disease (default 0.3; the rest get pasted synthetic disease)")
	var tr, vr seedRange
	fs.Var(&tr, "train-seeds", "phantom seeds for training, FROM:TO (default 1:1201)")
	fs.Var(&vr, "val-seeds", "held-out phantom seeds for validation, FROM:TO (default 1000001:1000041 levels, 1000001:1000025 scores)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.TrainSeeds, cfg.ValSeeds = tr, vr
	if cfg.RealDir == "" {
		cfg.RealShare = 0
	}
	cfg.Log = stderr
	ctx, stop := interruptible()
	defer stop()
	st, err := train.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d steps, %s, best validation %.4g at step %d; weights in %s\n", kind, st.Step,
		time.Duration(st.Elapsed*float64(time.Second)).Round(time.Second), st.BestVal, st.BestStep, st.Config.Out)
	return nil
}

func trainCache(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "levels" && args[0] != "scores") {
		return errors.New("usage: sscscore train cache levels|scores --seeds FROM:TO [--cache DIR]")
	}
	kind := args[0]
	fs := flag.NewFlagSet("train cache", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("cache", "", "cache directory (default $TMPDIR/sscscore-cache)")
	var r seedRange
	fs.Var(&r, "seeds", "phantom seeds FROM:TO")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if r == (seedRange{}) {
		return errors.New("--seeds FROM:TO is required")
	}
	if *dir == "" {
		*dir = os.TempDir() + "/sscscore-cache"
	}
	ctx, stop := interruptible()
	defer stop()
	start := time.Now()
	err := train.FillCache(ctx, kind, *dir, r[0], r[1], func(seed int64, done, total int) {
		el := time.Since(start)
		eta := el / time.Duration(done) * time.Duration(total-done)
		fmt.Fprintf(stderr, "\rcache %s: seed %d, %d/%d, ETA %s   ", kind, seed, done, total, eta.Round(time.Second))
	})
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cache %s seeds %d:%d ready in %s (%s)\n", kind, r[0], r[1], *dir, time.Since(start).Round(time.Second))
	return nil
}

func trainExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	lv := fs.String("levels", "", "training directory of the levels network (its best weights are exported)")
	sc := fs.String("scores", "", "training directory of the score network")
	to := fs.String("to", "model/weights", "directory of the shipped weights")
	note := fs.String("note", "", "training note stored in the weights' metadata (command, data, time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, job := range []struct{ kind, dir string }{{"levels", *lv}, {"scores", *sc}} {
		if job.dir == "" {
			continue
		}
		net, s, err := train.LoadTrained(job.kind, job.dir, false)
		if err != nil {
			return err
		}
		meta := map[string]string{"spec": s.Name, "training": "synthetic"}
		if *note != "" {
			meta["note"] = *note
		}
		if b, err := os.ReadFile(job.dir + "/" + job.kind + "-state.json"); err == nil {
			var st train.State
			if json.Unmarshal(b, &st) == nil {
				cfg, _ := json.Marshal(st.Config)
				meta["config"] = string(cfg)
				meta["steps"] = fmt.Sprint(st.Step)
				meta["best_step"] = fmt.Sprint(st.BestStep)
				meta["best_val"] = fmt.Sprintf("%.4g", st.BestVal)
				meta["train_seconds"] = fmt.Sprintf("%.0f", st.Elapsed)
			}
		}
		sum, err := train.Export(net, s, *to, job.kind, meta)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s.safetensors (F16) sha256 %s\n", job.kind, job.kind, sum)
	}
	return nil
}
