package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/dicomweb"
	"sscscore/model/ingest"
	"sscscore/model/phantom"
	"sscscore/model/printout"
	"sscscore/model/sr"
)

// stowTarget is score's --stow flag: on its own, the server of the
// dicomweb:// argument; --stow=URL (or --stow URL, see joinStowURL) a
// DICOMweb root.
type stowTarget struct {
	set bool
	url string
}

func (s *stowTarget) String() string   { return s.url }
func (s *stowTarget) IsBoolFlag() bool { return true }
func (s *stowTarget) Set(v string) error {
	switch v {
	case "true":
		s.set, s.url = true, ""
	case "false":
		s.set, s.url = false, ""
	default:
		if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
			return fmt.Errorf("%q is not a DICOMweb address (http://HOST[:PORT]/PATH or https://...)", v)
		}
		s.set, s.url = true, v
	}
	return nil
}

// joinStowURL turns "--stow URL" into "--stow=URL" when URL is an http(s)
// address (a boolean-like flag takes no separate value otherwise).
func joinStowURL(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--stow" || a == "-stow") && i+1 < len(args) &&
			(strings.HasPrefix(args[i+1], "http://") || strings.HasPrefix(args[i+1], "https://")) {
			out = append(out, a+"="+args[i+1])
			i++
			continue
		}
		if a == "--" {
			return append(out, args[i:]...)
		}
		out = append(out, a)
	}
	return out
}

// reportFlags are score's flags that make the DICOM reports of the result
// and store them (STOW-RS) or write them to a folder.
type reportFlags struct {
	stow stowTarget
	pdf  *bool
	dir  *string
}

func addReportFlags(fs *flag.FlagSet) *reportFlags {
	rf := &reportFlags{}
	fs.Var(&rf.stow, "stow", "store the result as a DICOM structured report (TID 1500) with STOW-RS: in the PACS of the dicomweb:// argument, or at the DICOMweb root `URL` (--stow URL). The stored report names the patient (a PACS files it under the patient's ID)")
	rf.pdf = fs.Bool("pdf", false, "with --stow or --reports: also the printable report (PDF), as a DICOM Encapsulated PDF")
	rf.dir = fs.String("reports", "", "write the DICOM reports into `DIR`: sr.dcm, and with --pdf report.pdf and report-pdf.dcm (the patient only with --patient)")
	return rf
}

// reportFiles are the DICOM reports of one result.
type reportFiles struct {
	sr, pdf, pdfDCM []byte // pdf nil unless asked for
}

// make builds the reports of res (scored on src) as they are now.
func (rf *reportFiles) make(ctx context.Context, res *cascade.Result, src *ingest.LazyVolume, withPDF bool, when time.Time) error {
	var err error
	opt := sr.Options{Time: when}
	if rf.sr, err = sr.Build(res, opt); err != nil {
		return err
	}
	if !withPDF {
		return nil
	}
	var levels [cascade.NumLevels]float64
	var notes [cascade.NumLevels]string
	for i, l := range res.Levels {
		if i >= cascade.NumLevels {
			break
		}
		levels[i] = l.EstimateZMM
		if l.ZMM != nil {
			levels[i] = *l.ZMM
		}
		notes[i] = l.Name + " " + l.Status
		if l.Rounded != nil {
			notes[i] = fmt.Sprintf("%s TOT %d GG %d RET %d", l.Name, l.Rounded.TOT, l.Rounded.GG, l.Rounded.RET)
		}
	}
	sheet, err := phantom.ContactSheet(ctx, src, levels, phantom.SheetOptions{Row: -1, Notes: notes, Legend: "levels found:"})
	if err != nil {
		return fmt.Errorf("the picture of the levels: %w", err)
	}
	s := src.Series()
	desc := fmt.Sprintf("%d slices of %dx%d, %.3g mm apart", s.Slices, s.Columns, s.Rows, s.Spacing[2])
	if d := strings.TrimSpace(s.Description); d != "" {
		desc = d + ", " + desc
	}
	if s.Kernel != "" {
		desc += ", kernel " + s.Kernel
	}
	if rf.pdf, err = printout.PDF(printout.Report{Result: res, Series: desc, Sheet: sheet, Build: buildinfo.Get(), Created: when}); err != nil {
		return err
	}
	rf.pdfDCM, err = sr.EncapsulatePDF(res, rf.pdf, opt)
	return err
}

// run makes and writes or stores the reports score was asked for. args
// are score's positional arguments (the first dicomweb:// one is the
// default STOW server).
func (f *reportFlags) run(ctx context.Context, res *cascade.Result, src *ingest.LazyVolume, args []string, pacs *pacsFlags, stderr io.Writer) error {
	if !f.stow.set && *f.dir == "" {
		if *f.pdf {
			return errors.New("--pdf needs --stow or --reports")
		}
		return nil
	}
	if src == nil {
		return errors.New("--stow and --reports need a scored DICOM series")
	}
	when := time.Now()
	if *f.dir != "" {
		var rf reportFiles
		if err := rf.make(ctx, res, src, *f.pdf, when); err != nil {
			return err
		}
		if err := writeReports(*f.dir, rf, stderr); err != nil {
			return err
		}
	}
	if !f.stow.set {
		return nil
	}
	base := f.stow.url
	if base == "" {
		for _, a := range args {
			if isDICOMwebURL(a) {
				ref, err := parseDICOMwebURL(a)
				if err != nil {
					return err
				}
				base = ref.Base
				break
			}
		}
	}
	if base == "" {
		return errors.New("--stow needs a DICOMweb address (--stow URL) when the scan comes from disk")
	}
	client, err := dicomweb.New(base, pacs.auth(), nil)
	if err != nil {
		return err
	}
	// The stored reports name the patient: the PACS files them under the
	// patient's ID (without it, it would make a separate, unnamed patient).
	withPatient := *res
	withPatient.Source = sr.SourceOf(src.Series(), res, true)
	var rf reportFiles
	if err := rf.make(ctx, &withPatient, src, *f.pdf, when); err != nil {
		return err
	}
	files := [][]byte{rf.sr}
	what := "the structured report"
	if rf.pdfDCM != nil {
		files = append(files, rf.pdfDCM)
		what += " and the printable report (Encapsulated PDF)"
	}
	if err := client.Store(ctx, files...); err != nil {
		return fmt.Errorf("storing %s: %w", what, err)
	}
	fmt.Fprintf(stderr, "stored %s in %s (study %s)\n", what, client.Base(), res.Source.StudyUID)
	return nil
}

// writeReports writes the reports into dir.
func writeReports(dir string, rf reportFiles, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"sr.dcm", rf.sr}, {"report.pdf", rf.pdf}, {"report-pdf.dcm", rf.pdfDCM}} {
		if f.data == nil {
			continue
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "wrote", p)
	}
	return nil
}
