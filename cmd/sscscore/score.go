package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"text/tabwriter"

	"sscscore/model/cascade"
	"sscscore/model/cohort"
	"sscscore/model/ingest"
	"sscscore/model/phantom"
	"sscscore/model/sr"
)

func init() {
	register(command{
		name:    "score",
		summary: "find the five Goh levels in a chest CT and score ground glass, reticulation and total extent at each",
		run:     runScore,
	})
}

func runScore(args []string, stdout, stderr io.Writer) error {
	args = joinStowURL(args)
	fs := flag.NewFlagSet("score", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	asCSV := fs.Bool("csv", false, "print the result as one CSV row in the paper's layout (with a header)")
	demo := fs.Bool("demo", false, "score the built-in demo phantom (its DICOM files go through ingestion like real ones)")
	seriesUID := fs.String("series", "", "score this series instead of the automatic choice")
	patID := fs.String("patid", "", "PatID column of the CSV (default: the DICOM PatientID, else the series UID)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	heatmapsDir := fs.String("heatmaps", "", "also write heat maps into `DIR`: a PNG per level and score, and heatmaps.json")
	heatmapMethods := fs.String("heatmap-method", "gradient", "methods of --heatmaps: gradient, occlusion, dense (comma-separated) or all")
	pacs := addPACSFlags(fs)
	withPatient := fs.Bool("patient", false, "put the patient's name, ID, birth date and sex into the JSON (source.patient), so that `sscscore sr` files the report under the patient")
	reports := addReportFlags(fs)
	weightsDir := fs.String("weights", "", weightsUsage)
	var levels placementFlags
	fs.Var(&levels, "level", "place a level by hand and score it there: `L3=z-144` (patient z, mm: the nearest slice) or L3=slice-12 (slice index, 0 = most cranial); also a level the network put outside the scan; repeatable. Marked reader_placed in the JSON, * in the table (the CSV keeps the paper's layout)")
	var own sliceFlags
	fs.Var(&own, "slice", "also score a slice of your own: `N` (slice index) or z-144 (patient z, mm), into the JSON's extra_slices and the table; repeatable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore score [--json|--csv] [--demo] [--series UID] [--level L3=z-144] [--slice N] PATH...")
		fmt.Fprintln(stderr, "\nPATH is a DICOM file, a folder (read recursively) or a zip archive, or a study in a PACS:")
		fmt.Fprintln(stderr, "dicomweb://HOST[:PORT]/PATH?study=UID[&series=UID] (dicomwebs:// for https; PATH is the DICOMweb root),")
		fmt.Fprintln(stderr, "whose series (the named one, else every CT series) are retrieved over DICOMweb (WADO-RS).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return errors.New("--json and --csv exclude each other")
	}
	if !*demo && fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no PATH given (or --demo)")
	}
	if err := useWeights(*weightsDir, stderr); err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	log.SetOutput(io.Discard) // the DICOM library's own log of odd files
	defer log.SetOutput(os.Stderr)

	var progress func(stage string, done, total int)
	var show *progressLine
	if !*quiet {
		show = newProgressLine(stderr)
		progress = show.stage
	}
	var files []ingest.File
	if *demo {
		df, err := phantom.DemoFiles(ctx, nil)
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for _, f := range df {
			files = append(files, ingest.BytesFile("demo/"+f.Name, f.Data))
		}
	}
	if fs.NArg() > 0 {
		df, err := inputFiles(ctx, fs.Args(), pacs.auth(), progress)
		if err != nil {
			show.finish()
			return err
		}
		files = append(files, df...)
	}
	res, src, err := scoreFiles(ctx, files, *seriesUID, progress)
	show.finish()
	if err != nil {
		return err
	}
	if err := applyPlacements(ctx, res, src, levels, own); err != nil {
		return err
	}
	if *withPatient || len(levels)+len(own) > 0 {
		res.Source = sr.SourceOf(src.Series(), res, *withPatient)
	}
	if *heatmapsDir != "" {
		if err := scoreHeatmaps(ctx, *heatmapsDir, *heatmapMethods, src, res, stderr, *quiet); err != nil {
			return err
		}
	}
	if err := reports.run(ctx, res, src, fs.Args(), pacs, stderr); err != nil {
		return err
	}
	switch {
	case *asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case *asCSV:
		id := *patID
		if id == "" && src != nil {
			id = strings.TrimSpace(src.Series().PatientID)
		}
		return res.WriteCSV(stdout, id)
	}
	printTable(stdout, res, src)
	return nil
}

// scoreFiles ingests files and runs the default cascade on the chosen (or
// named) series (cohort.ScoreFiles, which batch scoring shares).
func scoreFiles(ctx context.Context, files []ingest.File, uid string, progress func(string, int, int)) (*cascade.Result, *ingest.LazyVolume, error) {
	c, err := theCascade()
	if err != nil {
		return nil, nil, err
	}
	var stage func(cascade.Stage, int, int) // the cascade's stages on the progress line
	if progress != nil {
		stage = func(s cascade.Stage, done, total int) { progress(string(s), done, total) }
	}
	res, src, _, err := cohort.ScoreFiles(ctx, c, files, uid, stage)
	return res, src, err
}

func optF(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", *v)
}

func printTable(w io.Writer, r *cascade.Result, src *ingest.LazyVolume) {
	if src != nil {
		s := src.Series()
		fmt.Fprintf(w, "series %s: %s, %d slices, %.3g mm, kernel %s\n", s.UID, s.Description, s.Slices, s.Spacing[2], s.Kernel)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tz (mm)\tslice\tconf.\tTOT\tGG\tRET\t")
	for _, l := range r.Levels {
		z, sl := "-", "-"
		if l.ZMM != nil {
			z = fmt.Sprintf("%.1f", *l.ZMM)
		}
		if l.Slice != nil {
			sl = fmt.Sprint(*l.Slice)
		}
		sl += readerMark(l)
		if l.Status != cascade.StatusScored {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t\t\t\n", l.Name, z, sl, l.Confidence, l.Status)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%d\t%d\t%d\t\n", l.Name, z, sl, l.Confidence, l.Rounded.TOT, l.Rounded.GG, l.Rounded.RET)
	}
	for _, l := range r.ExtraSlices {
		if l.Status != cascade.StatusScored {
			fmt.Fprintf(tw, "%s\t%s\t%d%s\t\t%s\t\t\t\n", l.Name, optF(l.ZMM), *l.Slice, readerMark(l), l.Status)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d%s\t\t%d\t%d\t%d\t\n", l.Name, optF(l.ZMM), *l.Slice, readerMark(l), l.Rounded.TOT, l.Rounded.GG, l.Rounded.RET)
	}
	if r.Mean.Rounded != nil {
		fmt.Fprintf(tw, "mean\t\t\t\t%s\t%s\t%s\t\n", optF(r.Mean.TOT), optF(r.Mean.GG), optF(r.Mean.RET))
	}
	tw.Flush()
	fmt.Fprintln(w, "(slice: index in the series, 0 = most cranial, * placed by the reader; scores in percent of the lung area, per level rounded to 5; the mean is over the levels)")
	for _, wn := range r.Warnings {
		fmt.Fprintln(w, "warning:", wn)
	}
	fmt.Fprintln(w, "note:", r.Note)
}
