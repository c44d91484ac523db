package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/followup"
	"sscscore/model/sr"
)

func init() {
	register(command{
		name:    "compare",
		summary: "compare a baseline and a follow-up scan of one patient: the change of TOT, GG and RET per level and for the whole lung",
		run:     runCompare,
	})
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the comparison as JSON (both results, the changes, the limits)")
	asCSV := fs.Bool("csv", false, "print the change table as CSV: one row per level and one for the whole lung")
	cohortCSV := fs.String("cohort", "", "turn a batch CSV (`sscscore batch --out FILE.csv`) into per-patient change tables")
	withPatient := fs.Bool("patient", false, "put the patients' names, IDs and birth dates into the JSON")
	quiet := fs.Bool("q", false, "no progress on stderr")
	pacs := addPACSFlags(fs)
	var baseLevels, fuLevels placementFlags
	fs.Var(&baseLevels, "baseline-level", "place a level of the baseline by hand: `L3=z-144` (patient z, mm) or L3=slice-12 (slice index); repeatable")
	fs.Var(&fuLevels, "followup-level", "place a level of the follow-up by hand, as --baseline-level; repeatable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore compare [--json|--csv] [--baseline-level L=POS] [--followup-level L=POS] BASELINE FOLLOWUP")
		fmt.Fprintln(stderr, "       sscscore compare [--json|--csv] --cohort results.csv")
		fmt.Fprintln(stderr, "\nBASELINE and FOLLOWUP are scans (a DICOM file, folder or zip archive, or dicomweb://...) or earlier")
		fmt.Fprintln(stderr, "results of `sscscore score --json` (with --patient for the identity check). Levels are paired by name.")
		fmt.Fprintln(stderr, "A change larger than the method's measurement error of a change is flagged; smaller ones read")
		fmt.Fprintln(stderr, "\"no measurable change\" (the limits and their source are in the JSON and in MODEL_CARD.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return errors.New("--json and --csv exclude each other")
	}
	if *cohortCSV != "" {
		if fs.NArg() > 0 || len(baseLevels) > 0 || len(fuLevels) > 0 {
			return errors.New("--cohort takes no scans and no --baseline-level/--followup-level")
		}
		cc, err := followup.CompareCohortFile(*cohortCSV, followup.Options{})
		if err != nil {
			return err
		}
		switch {
		case *asJSON:
			return writeJSON(stdout, cc)
		case *asCSV:
			return cc.WriteCSV(stdout)
		}
		return cc.WriteText(stdout)
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("want two scans, BASELINE and FOLLOWUP; got %d arguments", fs.NArg())
	}
	ctx, stop := interruptible()
	defer stop()
	log.SetOutput(io.Discard) // the DICOM library's own log of odd files
	defer log.SetOutput(os.Stderr)
	var ins [2]followup.Input
	for i, arg := range fs.Args() {
		var show *progressLine
		var progress func(string, int, int)
		if !*quiet {
			show = newProgressLine(stderr)
			progress = show.stage
		}
		in, err := compareInput(ctx, arg, [2]placementFlags{baseLevels, fuLevels}[i], pacs, progress)
		show.finish()
		if err != nil {
			return err
		}
		ins[i] = in
	}
	c, err := followup.Compare(ins[0], ins[1], followup.Options{ShowPatient: *withPatient})
	if err != nil {
		return err
	}
	switch {
	case *asJSON:
		return writeJSON(stdout, c)
	case *asCSV:
		return followup.WriteCSV(stdout, []*followup.Comparison{c}, []string{patIDOf(ins)})
	}
	return c.WriteText(stdout)
}

// patIDOf is the change table's PatID: the patients' shared ID, else "".
func patIDOf(ins [2]followup.Input) string {
	a, b := ins[0].Patient, ins[1].Patient
	if a != nil && b != nil && a.ID == b.ID {
		return a.ID
	}
	return ""
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// compareInput scores the scan at arg (with the reader's placements), or
// reads it as an earlier `score --json` result.
func compareInput(ctx context.Context, arg string, levels placementFlags, pacs *pacsFlags, progress func(string, int, int)) (followup.Input, error) {
	in := followup.Input{Label: arg}
	if res, ok, err := readResultJSON(arg); ok || err != nil {
		if err != nil {
			return in, err
		}
		if len(levels) > 0 {
			return in, fmt.Errorf("%s: a level can be placed by hand on a scan, not on an earlier result", arg)
		}
		in.Result = res
		if res.Source != nil {
			in.Patient = res.Source.Patient
		}
		return in, nil
	}
	files, err := inputFiles(ctx, []string{arg}, pacs.auth(), progress)
	if err != nil {
		return in, err
	}
	res, src, err := scoreFiles(ctx, files, "", progress)
	if err != nil {
		return in, fmt.Errorf("%s: %w", arg, err)
	}
	if err := applyPlacements(ctx, res, src, levels, nil); err != nil {
		return in, fmt.Errorf("%s: %w", arg, err)
	}
	s := src.Series()
	res.Source = sr.SourceOf(s, res, false)
	t := strings.TrimSpace
	in.Result = res
	in.Patient = &cascade.Patient{ID: t(s.PatientID), Name: t(s.PatientName), BirthDate: t(s.PatientBirthDate), Sex: t(s.PatientSex)}
	return in, nil
}

// readResultJSON reads path as a `score --json` result when it is a file
// holding a JSON object; ok is false for anything else (a scan).
func readResultJSON(path string) (res *cascade.Result, ok bool, err error) {
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return nil, false, nil // a folder, or a URL: a scan (inputFiles says what is wrong)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if t := bytes.TrimSpace(head[:n]); len(t) == 0 || t[0] != '{' {
		return nil, false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, true, fmt.Errorf("%s: %w", path, err)
	}
	res = &cascade.Result{}
	if err := json.NewDecoder(f).Decode(res); err != nil {
		return nil, true, fmt.Errorf("%s: not a result of `sscscore score --json`: %w", path, err)
	}
	if len(res.Levels) == 0 {
		return nil, true, fmt.Errorf("%s: not a result of `sscscore score --json`: no levels", path)
	}
	return res, true, nil
}
