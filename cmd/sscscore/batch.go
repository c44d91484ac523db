package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"sscscore/model/cohort"
)

func init() {
	register(command{
		name:    "batch",
		summary: "score every study under folders, zips and DICOMDIRs (parallel, resumable, sharded: `batch merge` joins shards)",
		run:     runBatch,
	})
}

// batchUsage is the synopsis of the batch command.
const batchUsage = `usage: sscscore batch --out results.csv [--jobs N] [--all-series] [--shard i/n] [--resume] ROOT...
       sscscore batch merge --out merged.csv SHARD.csv...

Finds every study under the ROOTs (DICOM files, folders read recursively, zip
archives, DICOMDIR media), scores the series the app would choose in each (or
every usable series with --all-series) and writes, as each scan finishes:
  results.csv            the paper's CSV layout, then Study, Series, Status, Reason, Warnings
  results.jsonl          each full result with its provenance (files, series, model, build)
  results.manifest.json  the roots, the shard and its jobs
A study that cannot be scored gets a row with its reason. An interrupted run
continues with --resume; the final files are sorted by study and identical for
any --jobs or sharding. --shard i/n (1 <= i <= n) scores a stable share of the
studies; "batch merge" joins the n shards' outputs and checks that every study
is there exactly once.

flags:`

func runBatch(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "merge" {
		return runBatchMerge(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("batch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the results CSV (its .jsonl and .manifest.json are written beside it)")
	jobs := fs.Int("jobs", 0, "scans scored at once (default: the number of cores)")
	threads := fs.Int("threads", 0, "cores each scan's networks use (default: the cores shared among the jobs)")
	allSeries := fs.Bool("all-series", false, "one row per usable series instead of one per study")
	shard := fs.String("shard", "", "score only share `i/n` of the studies (1 <= i <= n, e.g. $SLURM_ARRAY_TASK_ID/4)")
	resume := fs.Bool("resume", false, "continue an interrupted run into the same --out (scores only what is missing)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	weightsDir := fs.String("weights", "", weightsUsage)
	fs.Usage = func() {
		fmt.Fprintln(stderr, batchUsage)
		fs.PrintDefaults()
	}
	roots, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(roots) == 0 {
		fs.Usage()
		return errors.New("--out and at least one ROOT are required")
	}
	if *jobs < 0 || *threads < 0 {
		return errors.New("--jobs and --threads must not be negative")
	}
	sh, err := cohort.ParseShard(*shard)
	if err != nil {
		return fmt.Errorf("--shard: %w", err)
	}
	// Ctrl-C, and the SIGTERM a scheduler sends before it kills a job,
	// stop the run cleanly: the CSV is rewritten with what is done.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.SetOutput(io.Discard) // the DICOM library's own log of odd files
	defer log.SetOutput(os.Stderr)

	cfg := cohort.Config{Roots: roots, Out: *out, AllSeries: *allSeries, Jobs: *jobs, Threads: *threads, Shard: sh, Resume: *resume}
	if err := useWeights(*weightsDir, stderr); err != nil {
		return err
	}
	cfg.Cascade = siteCascade // nil: the shipped weights
	var show *progressLine
	if !*quiet {
		show = newProgressLine(stderr)
		cfg.Progress = show.scan
	}
	sum, err := cohort.Run(ctx, cfg)
	show.finish()
	if sum != nil {
		printSummary(stdout, sum, sh)
	}
	return err
}

// runBatchMerge joins shards' outputs.
func runBatchMerge(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("batch merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the merged results CSV (its .jsonl and .manifest.json beside it)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, batchUsage)
		fs.PrintDefaults()
	}
	shards, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(shards) == 0 {
		fs.Usage()
		return errors.New("--out and the shards' CSV files are required")
	}
	sum, err := cohort.Merge(shards, *out)
	if err != nil {
		return err
	}
	printSummary(stdout, sum, cohort.Shard{})
	return nil
}

// printSummary says what a run or merge wrote.
func printSummary(w io.Writer, s *cohort.Summary, sh cohort.Shard) {
	what := "jobs"
	if sh.Count > 0 {
		what = "jobs of shard " + sh.String()
	}
	fmt.Fprintf(w, "%d %s: %d scored, %d failed (reasons in the CSV)", s.Jobs, what, s.Scored, s.Failed)
	if s.Resumed > 0 {
		fmt.Fprintf(w, ", %d from earlier runs", s.Resumed)
	}
	fmt.Fprintf(w, "; %d files belong to no study (listed in the manifest)\n", s.Outside)
	fmt.Fprintf(w, "%s\n%s\n%s\n", s.Paths.CSV, s.Paths.Journal, s.Paths.Manifest)
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments ("batch ROOT... --out results.csv") and returns the
// positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil // everything after "--" is positional
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
