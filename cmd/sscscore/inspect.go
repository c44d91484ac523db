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
	"time"

	"sscscore/model/ingest"
)

func init() {
	register(command{
		name:    "inspect",
		summary: "list the DICOM series in folders or zips, the series chosen for scoring, and every skipped or rejected file",
		run:     runInspect,
	})
}

// inspectJSON is the --json output.
type inspectJSON struct {
	Series    []seriesJSON    `json:"series"`
	Chosen    string          `json:"chosen"`
	ChosenWhy string          `json:"chosen_why"`
	Files     []fileJSON      `json:"files"`
	Warnings  []string        `json:"warnings,omitempty"`
	HUStats   *ingest.HUStats `json:"hu_stats,omitempty"`
	Load      *loadJSON       `json:"load,omitempty"`
}

type seriesJSON struct {
	UID            string     `json:"uid"`
	UIDMissing     bool       `json:"uid_missing,omitempty"`
	Description    string     `json:"description"`
	Kernel         string     `json:"kernel"`
	Modality       string     `json:"modality"`
	Manufacturer   string     `json:"manufacturer,omitempty"`
	Slices         int        `json:"slices"`
	Files          int        `json:"files"`
	Rows           int        `json:"rows"`
	Columns        int        `json:"columns"`
	SpacingMM      [3]float64 `json:"spacing_mm"`
	ThicknessMM    float64    `json:"thickness_mm"`
	ZMinMM         float64    `json:"z_min_mm"`
	ZMaxMM         float64    `json:"z_max_mm"`
	Axial          bool       `json:"axial"`
	TiltDegrees    float64    `json:"tilt_degrees,omitempty"`
	TransferSyntax string     `json:"transfer_syntax"`
	Usable         bool       `json:"usable"`
	Reason         string     `json:"reason,omitempty"`
	Issues         []string   `json:"issues,omitempty"`
	Chosen         bool       `json:"chosen"`
	Patient        *patient   `json:"patient,omitempty"`
}

type patient struct {
	Name      string `json:"name"`
	ID        string `json:"id"`
	BirthDate string `json:"birth_date"`
	StudyDate string `json:"study_date"`
	Study     string `json:"study_description"`
}

type fileJSON struct {
	Path     string        `json:"path"`
	Status   ingest.Status `json:"status"`
	Code     ingest.Code   `json:"code,omitempty"`
	Reason   string        `json:"reason"`
	Series   string        `json:"series,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

type loadJSON struct {
	PaddingVoxels  int64    `json:"padding_voxels"`
	BelowAirVoxels int64    `json:"below_air_voxels"`
	ClippedVoxels  int64    `json:"clipped_voxels"`
	Errors         []string `json:"errors,omitempty"`
}

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	huStats := fs.Bool("hu-stats", false, "decode the chosen series and print its mean HU inside and outside the body and the SHA-256 of its voxels")
	seriesUID := fs.String("series", "", "use this series instead of the automatic choice")
	headersOnly := fs.Bool("headers-only", false, "read headers only: do not decode pixels to verify each file")
	showPatient := fs.Bool("patient", false, "also show patient name, ID and dates")
	npyPath := fs.String("npy", "", "also write the chosen series' voxels (int16 HU, z,y,x) as a NumPy array to `FILE`.npy, and its geometry to FILE.npy.json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sscscore inspect [--json] [--hu-stats] [--npy FILE] [--series UID] [--headers-only] [--patient] PATH...")
		fmt.Fprintln(stderr, "\nPATH is a DICOM file, a folder (read recursively) or a zip archive; files are recognised by content.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no PATH given")
	}
	files, err := ingest.DiskFiles(fs.Args()...)
	if err != nil {
		return err
	}
	// The DICOM library logs oddities of malformed files through the
	// standard logger; the report below says what matters.
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	ctx := context.Background()
	start := time.Now()
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		return err
	}
	if !*headersOnly {
		if err := inv.Verify(ctx, nil); err != nil {
			return err
		}
	}
	chosen, why := inv.Chosen, inv.ChosenWhy
	if *seriesUID != "" {
		s, err := inv.Lookup(*seriesUID)
		if err != nil {
			return err
		}
		chosen, why = s.UID, "chosen by the user (--series)"
	}
	var stats *ingest.HUStats
	var load *loadJSON
	if *huStats {
		if chosen == "" {
			return fmt.Errorf("--hu-stats: no usable series (%s)", why)
		}
		lv, err := inv.Open(chosen)
		if err != nil {
			return err
		}
		st, err := ingest.ComputeHUStats(ctx, lv)
		if err != nil {
			return fmt.Errorf("--hu-stats: %w", err)
		}
		stats = &st
		r := lv.Report()
		load = &loadJSON{PaddingVoxels: r.PaddingVoxels, BelowAirVoxels: r.BelowAirVoxels, ClippedVoxels: r.ClippedVoxels}
		for _, e := range r.Errors {
			load.Errors = append(load.Errors, e.Error())
		}
	}
	if *npyPath != "" {
		if chosen == "" {
			return fmt.Errorf("--npy: no usable series (%s)", why)
		}
		lv, err := inv.Open(chosen)
		if err != nil {
			return err
		}
		v, err := loadForNpy(ctx, lv)
		if err != nil {
			return err
		}
		if err := writeNpy(*npyPath, v, chosen); err != nil {
			return err
		}
	}
	out := inspectJSON{Chosen: chosen, ChosenWhy: why, Warnings: inv.Warnings, HUStats: stats, Load: load}
	for _, s := range inv.Series {
		sj := seriesJSON{
			UID: s.UID, UIDMissing: s.UIDMissing, Description: s.Description, Kernel: s.Kernel,
			Modality: s.Modality, Manufacturer: s.Manufacturer, Slices: s.Slices, Files: s.Files,
			Rows: s.Rows, Columns: s.Columns, SpacingMM: s.Spacing, ThicknessMM: s.Thickness,
			ZMinMM: s.ZMin, ZMaxMM: s.ZMax, Axial: s.Axial, TiltDegrees: s.TiltDegrees,
			TransferSyntax: s.TransferSyntax, Usable: s.Usable, Reason: s.Reason, Issues: s.Issues,
			Chosen: s.UID == chosen,
		}
		if *showPatient {
			sj.Patient = &patient{s.PatientName, s.PatientID, s.PatientBirthDate, s.StudyDate, s.StudyDescription}
		}
		out.Series = append(out.Series, sj)
	}
	for _, f := range inv.Files {
		out.Files = append(out.Files, fileJSON{Path: f.Path, Status: f.Status, Code: f.Code, Reason: f.Reason, Series: f.Series, Warnings: f.Warnings})
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	printInspect(stdout, out, len(files), time.Since(start), *showPatient)
	return nil
}

func printInspect(w io.Writer, out inspectJSON, nInputs int, took time.Duration, showPatient bool) {
	counts := map[ingest.Status]int{}
	for _, f := range out.Files {
		counts[f.Status]++
	}
	fmt.Fprintf(w, "%d files in %.2fs: %d decoded, %d skipped, %d rejected", len(out.Files), took.Seconds(), counts[ingest.Decoded], counts[ingest.Skipped], counts[ingest.Rejected])
	if counts[ingest.Accepted] > 0 {
		fmt.Fprintf(w, ", %d accepted (headers only)", counts[ingest.Accepted])
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n%d series:\n", len(out.Series))
	for _, s := range out.Series {
		mark := "  "
		if s.Chosen {
			mark = "* "
		}
		desc := s.Description
		if desc == "" {
			desc = "(no description)"
		}
		fmt.Fprintf(w, "%s%s  %q\n", mark, s.UID, desc)
		orient := "axial"
		if !s.Axial {
			orient = "not axial"
		} else if s.TiltDegrees > 0.5 {
			orient = fmt.Sprintf("axial, tilt %.1f deg", s.TiltDegrees)
		}
		mod := s.Modality
		if mod == "" {
			mod = "modality ?"
		}
		fmt.Fprintf(w, "    %s, %s, kernel %s, %d slice(s) (%d file(s)), %dx%d, spacing %.4g x %.4g x %.4g mm, thickness %.4g mm, z %.6g to %.6g mm, %s\n",
			mod, orient, orNA(s.Kernel), s.Slices, s.Files, s.Columns, s.Rows, s.SpacingMM[0], s.SpacingMM[1], s.SpacingMM[2], s.ThicknessMM, s.ZMaxMM, s.ZMinMM, s.TransferSyntax)
		if s.Manufacturer != "" {
			fmt.Fprintf(w, "    manufacturer %s\n", s.Manufacturer)
		}
		if showPatient && s.Patient != nil {
			fmt.Fprintf(w, "    patient %q id %q born %s, study %s %q\n", s.Patient.Name, s.Patient.ID, s.Patient.BirthDate, s.Patient.StudyDate, s.Patient.Study)
		}
		if !s.Usable {
			fmt.Fprintf(w, "    not usable: %s\n", s.Reason)
		}
		for _, is := range s.Issues {
			fmt.Fprintf(w, "    note: %s\n", is)
		}
	}
	fmt.Fprintln(w)
	if out.Chosen == "" {
		fmt.Fprintf(w, "No series chosen: %s.\n", out.ChosenWhy)
	} else {
		fmt.Fprintf(w, "Chosen: %s\n  %s\n", out.Chosen, out.ChosenWhy)
	}
	var other []fileJSON
	for _, f := range out.Files {
		if f.Status == ingest.Skipped || f.Status == ingest.Rejected {
			other = append(other, f)
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(w, "\nSkipped and rejected files:\n")
		for _, f := range other {
			fmt.Fprintf(w, "  %-8s %s: %s\n", f.Status, f.Path, f.Reason)
		}
	}
	var warned []string
	for _, f := range out.Files {
		for _, wn := range f.Warnings {
			warned = append(warned, fmt.Sprintf("  %s: %s", f.Path, wn))
		}
	}
	if len(warned) > 0 {
		fmt.Fprintf(w, "\nWarnings:\n%s\n", strings.Join(warned, "\n"))
	}
	if out.HUStats != nil {
		fmt.Fprintf(w, "\nHU statistics of %s:\n  mean inside the body %.2f HU (%d voxels), outside %.2f HU (%d voxels)\n  sha256 of the int16 voxels (z,y,x, little endian): %s\n",
			out.Chosen, out.HUStats.MeanBody, out.HUStats.BodyVoxels, out.HUStats.MeanOutside, out.HUStats.OutsideVoxels, out.HUStats.SHA256)
		if out.Load != nil {
			fmt.Fprintf(w, "  %d padding and %d below-air voxels set to -1024, %d clipped\n", out.Load.PaddingVoxels, out.Load.BelowAirVoxels, out.Load.ClippedVoxels)
			for _, e := range out.Load.Errors {
				fmt.Fprintf(w, "  error: %s\n", e)
			}
		}
	}
}

func orNA(s string) string {
	if s == "" {
		return "?"
	}
	return s
}
