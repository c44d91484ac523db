package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/dicomweb"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/shareddata"
	"sscscore/model/sr"
)

func TestJoinStowURL(t *testing.T) {
	for _, c := range []struct {
		in, want []string
	}{
		{[]string{"--stow", "http://h/dw", "dir"}, []string{"--stow=http://h/dw", "dir"}},
		{[]string{"-stow", "https://h/dw"}, []string{"-stow=https://h/dw"}},
		{[]string{"--stow", "dicomweb://h/dw?study=1"}, []string{"--stow", "dicomweb://h/dw?study=1"}},
		{[]string{"--stow"}, []string{"--stow"}},
		{[]string{"--", "--stow", "http://h"}, []string{"--", "--stow", "http://h"}},
	} {
		if got := joinStowURL(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("joinStowURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestReportFlagErrors(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"score", "-q", "--pdf", dir}, "--pdf needs --stow or --reports"},
		{[]string{"score", "-q", "--stow", dir}, "--stow needs a DICOMweb address"},
		{[]string{"score", "-q", "--stow=ftp://x", dir}, "is not a DICOMweb address"},
	} {
		_, errs, code := run(t, c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want a failure saying %q", c.args, code, errs, c.want)
		}
	}
}

// checkReport fails unless the SR holds exactly the result's levels and
// scores.
func checkReport(t *testing.T, data []byte, res *cascade.Result) *sr.Report {
	t.Helper()
	rep, err := sr.Read(data)
	if err != nil {
		t.Fatalf("sr.Read: got error %v, want nil", err)
	}
	if len(rep.Levels) != len(res.Levels) {
		t.Fatalf("the report has %d levels, want %d", len(rep.Levels), len(res.Levels))
	}
	for i, l := range res.Levels {
		g := rep.Levels[i]
		for _, p := range [][2]*float64{{g.ZMM, l.ZMM}, {g.TOT, l.TOT}, {g.GG, l.GG}, {g.RET, l.RET}} {
			if (p[0] == nil) != (p[1] == nil) || (p[0] != nil && *p[0] != *p[1]) {
				t.Errorf("%s: got %v in the report, want %v as in the result", l.Name, fmtNum(p[0]), fmtNum(p[1]))
			}
		}
	}
	return rep
}

// TestScoreReportsDir writes the reports of A0002 into a folder.
func TestScoreReportsDir(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	out := t.TempDir()
	js, errs, code := run(t, "score", "--json", "-q", "--pdf", "--reports", out, dir)
	if code != 0 {
		t.Fatalf("score: exit %d: %s, want 0", code, errs)
	}
	var res cascade.Result
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("JSON: got error %v, want nil", err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("reading %s: got error %v, want nil", name, err)
		}
		return b
	}
	if rep := checkReport(t, read("sr.dcm"), &res); rep.Patient.ID != "" {
		t.Errorf("patient without --patient: got %q, want %q", rep.Patient.ID, "")
	}
	doc, err := sr.ReadPDF(read("report-pdf.dcm"))
	if err != nil {
		t.Fatalf("sr.ReadPDF: got %v, want nil", err)
	}
	if !bytes.Equal(doc, read("report.pdf")) {
		t.Errorf("report-pdf.dcm: got another PDF than report.pdf, want the same bytes")
	}
}

// TestScoreStowOrthanc scores A0002 from a real Orthanc over DICOMweb,
// stores the reports back with STOW-RS, reads them back and compares
// every number with `score --csv`.
func TestScoreStowOrthanc(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	srv := orthanctest.Start(t, orthanctest.Options{User: "alice", Password: "s3cret"})
	srv.Upload(t, dir)
	csvOut, errs, code := run(t, "score", "--csv", "-q", dir)
	if code != 0 {
		t.Fatalf("score --csv: exit %d: %s, want 0", code, errs)
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("CSV: got error %v and this, want nil and 2 rows:\n%s", err, csvOut)
	}
	js, errs, code := run(t, "score", "--json", "-q", dir)
	if code != 0 {
		t.Fatalf("score --json: exit %d: %s, want 0", code, errs)
	}
	var disk cascade.Result
	if err := json.Unmarshal([]byte(js), &disk); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	study := disk.Source.StudyUID

	t.Setenv(envPACSPassword, "s3cret")
	src := strings.Replace(srv.DICOMweb, "http://", "dicomweb://", 1) + "?study=" + study
	_, errs, code = run(t, "score", "-q", "--user", "alice", "--stow", "--pdf", src)
	if code != 0 {
		t.Fatalf("score --stow --pdf %s: exit %d: %s, want 0", src, code, errs)
	}
	if !strings.Contains(errs, "stored the structured report and the printable report") {
		t.Errorf("score --stow says %q, want it to say what it stored", errs)
	}

	ctx := context.Background()
	c, err := dicomweb.New(srv.DICOMweb, dicomweb.Auth{User: "alice", Password: "s3cret"}, nil)
	if err != nil {
		t.Fatalf("dicomweb.New: got error %v, want nil", err)
	}
	series, err := c.SearchSeries(ctx, study)
	if err != nil {
		t.Fatalf("c.SearchSeries: got error %v, want nil", err)
	}
	got := map[string][]byte{}
	for _, s := range series {
		if s.Modality != "SR" && s.Modality != "DOC" {
			continue
		}
		err := c.RetrieveSeries(ctx, study, s.UID, s.NumInstances, func(i int, part []byte) error {
			got[s.Modality] = part
			return nil
		})
		if err != nil {
			t.Fatalf("retrieving the %s series: got error %v, want nil", s.Modality, err)
		}
	}
	if got["SR"] == nil || got["DOC"] == nil {
		t.Fatalf("the study's series after STOW: %+v; want an SR and a DOC series", series)
	}
	rep := checkReport(t, got["SR"], &disk)
	if rep.Patient.ID != "Lung_Dx-A0002" || rep.StudyUID != study {
		t.Errorf("the stored report is of patient %q study %s, want Lung_Dx-A0002 and %s", rep.Patient.ID, rep.StudyUID, study)
	}
	// Every number of the CSV, from the report read back.
	want := rows[1][1:]
	var fromSR []string
	for _, l := range rep.Levels {
		fromSR = append(fromSR, cell(l.ZMM))
	}
	for _, l := range rep.Levels {
		fromSR = append(fromSR, cell(l.TOT), cell(l.GG), cell(l.RET))
	}
	if !reflect.DeepEqual(fromSR, want) {
		t.Errorf("numbers of the stored report %q, want those of score --csv %q", fromSR, want)
	}
	if _, err := sr.ReadPDF(got["DOC"]); err != nil {
		t.Errorf("the stored printable report: got error %v, want nil", err)
	}
	// Orthanc filed the reports under the scanned patient's study: one
	// patient, one study.
	for _, p := range []string{"/patients", "/studies"} {
		b, err := srv.Get(ctx, p)
		if err != nil {
			t.Fatalf("srv.Get: got error %v, want nil", err)
		}
		var ids []string
		if err := json.Unmarshal(b, &ids); err != nil || len(ids) != 1 {
			t.Errorf("Orthanc %s: %s (%v), want exactly one", p, b, err)
		}
	}
}

func cell(v *float64) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf("%.1f", *v)
}
