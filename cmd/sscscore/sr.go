package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/sr"
)

func init() {
	register(command{
		name:    "sr",
		summary: "write an earlier `score --json` result as a DICOM Structured Report (TID 1500), for a PACS",
		run:     runSR,
	})
}

func runSR(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the report to `FILE.dcm` (default: RESULT with .json replaced by -sr.dcm)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore sr [--out FILE.dcm] RESULT.json")
		fmt.Fprintln(stderr, "\nRESULT.json is the output of `sscscore score --json` (add --patient there to put the")
		fmt.Fprintln(stderr, "patient's name and ID into the report: a PACS files a report without them under an")
		fmt.Fprintln(stderr, "unnamed patient).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("give one RESULT.json")
	}
	in := fs.Arg(0)
	res, err := readResult(in)
	if err != nil {
		return err
	}
	data, err := sr.Build(res, sr.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	path := *out
	if path == "" {
		path = strings.TrimSuffix(in, ".json") + "-sr.dcm"
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	if res.Source.Patient == nil {
		fmt.Fprintln(stderr, "note: the result holds no patient name or ID (scored without --patient), so neither does the report")
	}
	fmt.Fprintf(stdout, "%s: DICOM structured report of %s (study %s)\n", path, res.SeriesUID, res.Source.StudyUID)
	return nil
}

// readResult reads a `score --json` result.
func readResult(path string) (*cascade.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var res cascade.Result
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&res); err != nil {
		return nil, fmt.Errorf("%s: not a `sscscore score --json` result: %w", path, err)
	}
	if len(res.Levels) != cascade.NumLevels {
		return nil, fmt.Errorf("%s: not a `sscscore score --json` result: %d levels, want %d", path, len(res.Levels), cascade.NumLevels)
	}
	return &res, nil
}
