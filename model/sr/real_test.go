package sr

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/cascade"
	"sscscore/model/dcmwrite"
	"sscscore/model/ingest"
	"sscscore/model/internal/testtool"
	"sscscore/model/printout"
	"sscscore/model/shareddata"
)

// realSeries are the real scans the reports are validated on.
var realSeries = []string{"chest-ct/A0002-B40f", "chest-ct/C3N-00247-B70f"}

var (
	scoredMu sync.Mutex
	scored   = map[string]*cascade.Result{}
)

// scoreReal scores a real series with the default cascade (once per test
// binary) and fills its source (with the patient).
func scoreReal(t *testing.T, rel string) (*cascade.Result, string) {
	t.Helper()
	dir := shareddata.Path(t, rel)
	scoredMu.Lock()
	defer scoredMu.Unlock()
	if res, ok := scored[rel]; ok {
		return res, dir
	}
	files, err := ingest.DiskFiles(dir)
	if err != nil {
		t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	inv, err := ingest.Scan(context.Background(), files, ingest.Options{})
	if err != nil {
		t.Fatalf("ingest.Scan: got error %v, want nil", err)
	}
	lv, err := inv.Open("")
	if err != nil {
		t.Fatalf("inv.Open: got error %v, want nil", err)
	}
	c, err := cascade.Default()
	if err != nil {
		t.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	res, err := c.Score(context.Background(), lv, cascade.Options{SeriesUID: lv.Series().UID})
	if err != nil {
		t.Fatalf("c.Score: got error %v, want nil", err)
	}
	res.Source = SourceOf(lv.Series(), res, true)
	scored[rel] = res
	return res, dir
}

// dciodvfy runs the dciodvfy at bin on a DICOM file, fails on any "Error"
// line and returns the warnings.
func dciodvfy(t *testing.T, bin, path string) []string {
	t.Helper()
	out, _ := exec.Command(bin, path).CombinedOutput() // exits non-zero on warnings too
	var warnings []string
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "Error"):
			t.Errorf("dciodvfy %s: got %s, want no error", filepath.Base(path), line)
		case strings.HasPrefix(line, "Warning"):
			warnings = append(warnings, line)
		}
	}
	if len(warnings) > 0 {
		t.Logf("dciodvfy %s: %d warnings, distinct: %s", filepath.Base(path), len(warnings), strings.Join(distinct(warnings), "; "))
	}
	return warnings
}

func distinct(lines []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// instanceZ maps the SOP instance UID of every file in dir to its patient
// z (ImagePositionPatient[2]).
func instanceZ(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.dcm"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("DICOM files in %s: got none (error %v), want some", dir, err)
	}
	out := map[string]string{}
	for _, p := range paths {
		ds, err := dicom.ParseFile(p, nil, dicom.SkipPixelData())
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", p, err)
		}
		top := elems(ds.Elements)
		ipp := top.find(tag.ImagePositionPatient)
		if ipp == nil {
			continue
		}
		v := ipp.Value.GetValue().([]string)
		out[top.str(tag.SOPInstanceUID)] = strings.TrimSpace(v[2])
	}
	return out
}

func TestRealReports(t *testing.T) {
	dciodvfyPath, dsrdumpPath := testtool.Path(t, "dciodvfy", "dicom3tools"), testtool.Path(t, "dsrdump", "dcmtk")
	for _, rel := range realSeries {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			res, dir := scoreReal(t, rel)
			rep, data := roundTrip(t, res, Options{Time: fixedTime})

			// Each level references the file whose position is the level's.
			zOf := instanceZ(t, dir)
			for i, l := range rep.Levels {
				if l.Image == nil {
					continue
				}
				z, ok := zOf[l.Image.SOPInstanceUID]
				if !ok {
					t.Errorf("%s: got a reference to %s, want a file of %s", l.Name, l.Image.SOPInstanceUID, rel)
					continue
				}
				if want := *res.Levels[i].ZMM; !closeZ(z, want) {
					t.Errorf("%s references the slice at z %s, want the level's z %.3f", l.Name, z, want)
				}
			}

			path := filepath.Join(t.TempDir(), "sr.dcm")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
			dciodvfy(t, dciodvfyPath, path)

			out, err := exec.Command(dsrdumpPath, "+Pl", path).CombinedOutput()
			if err != nil {
				t.Fatalf("dsrdump: got error %v, want nil\n%s", err, out)
			}
			dump := string(out)
			for _, l := range res.Levels {
				if !strings.Contains(dump, `"`+TrackingID(l.Name)+`"`) {
					t.Errorf("dsrdump: got no group %q, want one", TrackingID(l.Name))
				}
				for _, v := range []*float64{l.ZMM, l.TOT, l.GG, l.RET} {
					if v != nil && !strings.Contains(dump, `="`+dcmwrite.DS(*v)+`"`) {
						t.Errorf("dsrdump: got no value %s of %s, want it shown", dcmwrite.DS(*v), l.Name)
					}
				}
			}
			for _, v := range []*float64{res.Mean.TOT, res.Mean.GG, res.Mean.RET} {
				if v == nil || !strings.Contains(dump, `="`+dcmwrite.DS(*v)+`"`) {
					t.Errorf("dsrdump: got no whole-lung value %v, want it shown", fp(v))
				}
			}
			if !strings.Contains(dump, Statement) || !strings.Contains(dump, res.Model.Scores.SHA256) {
				t.Errorf("dsrdump: got no statement or weight hash, want both:\n%s", dump)
			}
			if testing.Verbose() {
				t.Logf("dsrdump:\n%s", dump)
			}
		})
	}
}

// closeZ compares a DICOM decimal string with a z in mm (within 1 µm).
func closeZ(ds string, z float64) bool {
	v, err := strconv.ParseFloat(ds, 64)
	return err == nil && math.Abs(v-z) < 1e-3
}

func TestRealEncapsulatedPDF(t *testing.T) {
	dciodvfyPath := testtool.Path(t, "dciodvfy", "dicom3tools")
	for _, rel := range realSeries {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			res, _ := scoreReal(t, rel)
			doc, err := printout.PDF(printout.Report{Result: res, Series: rel, Created: fixedTime})
			if err != nil {
				t.Fatalf("printout.PDF: got error %v, want nil", err)
			}
			data, err := EncapsulatePDF(res, doc, Options{Time: fixedTime})
			if err != nil {
				t.Fatalf("EncapsulatePDF: got error %v, want nil", err)
			}
			back, err := ReadPDF(data)
			if err != nil {
				t.Fatalf("ReadPDF: got error %v, want nil", err)
			}
			if !bytes.Equal(back, doc) {
				t.Errorf("PDF read back: got %d bytes differing, want the %d bytes encapsulated", len(back), len(doc))
			}
			path := filepath.Join(t.TempDir(), "pdf.dcm")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
			dciodvfy(t, dciodvfyPath, path)
		})
	}
	if _, err := EncapsulatePDF(handResult(), []byte("not a pdf"), Options{}); err == nil {
		t.Error("EncapsulatePDF of a non-PDF: got no error, want one")
	}
	if _, err := ReadPDF(mustBuild(t)); err == nil || !strings.Contains(err.Error(), "not Encapsulated PDF") {
		t.Errorf("ReadPDF of an SR: got %v, want an error saying it is not Encapsulated PDF", err)
	}
}

func mustBuild(t *testing.T) []byte {
	t.Helper()
	b, err := Build(handResult(), Options{Time: fixedTime})
	if err != nil {
		t.Fatalf("Build: got error %v, want nil", err)
	}
	return b
}
