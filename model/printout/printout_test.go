package printout

import (
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/internal/testtool"
)

func f(v float64) *float64 { return &v }
func k(v int) *int         { return &v }

func testResult(patient bool, warnings int) *cascade.Result {
	res := &cascade.Result{
		SeriesUID: "1.2.826.0.1.3680043.8.498.1",
		Model: cascade.ModelInfo{
			Levels:   cascade.NetInfo{Spec: "levels-v1", SHA256: strings.Repeat("ab", 32)},
			Scores:   cascade.NetInfo{Spec: "scores-v1", SHA256: strings.Repeat("cd", 32)},
			Training: "synthetic", LevelDecoding: cascade.DecodingPrior,
		},
		Note: cascade.SyntheticNote,
		Levels: []cascade.LevelResult{
			{Name: "L1", Status: cascade.StatusOutside, Outside: "above"},
			{Name: "L2", Status: cascade.StatusScored, ZMM: f(-101.25), Slice: k(3), TOT: f(12.34), GG: f(7.06), RET: f(5.28)},
			{Name: "L3", Status: cascade.StatusScored, ZMM: f(-150), Slice: k(17), TOT: f(40), GG: f(0), RET: f(33.33)},
			{Name: "L4", Status: cascade.StatusNoLung, ZMM: f(-190.5), Slice: k(25)},
			{Name: "L5", Status: cascade.StatusScored, ZMM: f(-230.75), Slice: k(33), TOT: f(61.96), GG: f(50), RET: f(11.96), ReaderPlaced: true},
		},
	}
	for i := range res.Levels {
		l := &res.Levels[i]
		if l.TOT != nil {
			l.Rounded = &cascade.Rounded{TOT: int(*l.TOT/5+0.5) * 5, GG: int(*l.GG/5+0.5) * 5, RET: int(*l.RET/5+0.5) * 5}
		}
	}
	res.Mean = cascade.MeanOf(res.Levels)
	for i := 0; i < warnings; i++ {
		res.Warnings = append(res.Warnings, fmt.Sprintf("warning number %d: the slices are uneven between positions %d and %d", i+1, i, i+1))
	}
	res.Source = &cascade.Source{StudyUID: "1.2.826.0.1.3680043.8.498.2", StudyDate: "20240102"}
	if patient {
		res.Source.Patient = &cascade.Patient{Name: "Müller^Anna", ID: "P001", BirthDate: "19600101", Sex: "F"}
	}
	return res
}

// sheet is a stand-in picture of the levels: grey with five coloured
// lines.
func sheet() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 600, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 600; x++ {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(x / 3), uint8(x / 3), 255})
			if y%60 == 30 && x < 200 {
				img.Set(x, y, color.RGBA{255, 80, 80, 255})
			}
		}
	}
	return img
}

func pdftotext(t *testing.T, b []byte) string {
	t.Helper()
	p := testtool.Path(t, "pdftotext", "poppler-utils")
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p, "-layout", path, "-").CombinedOutput()
	if err != nil || strings.Contains(string(out), "Syntax Error") {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

func TestPDF(t *testing.T) {
	bi := buildinfo.Info{Version: "v1.2.3", Commit: strings.Repeat("0123456789", 4)}
	for _, c := range []struct {
		name     string
		patient  bool
		warnings int
	}{
		{"anonymous", false, 0},
		{"with patient and many warnings", true, 60}, // a second page
	} {
		t.Run(c.name, func(t *testing.T) {
			res := testResult(c.patient, c.warnings)
			b, err := PDF(Report{Result: res, Series: "30 slices, 5 mm, kernel B40f", Sheet: sheet(), Build: bi,
				Created: time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			text := pdftotext(t, b)
			flat := strings.Join(strings.Fields(text), " ")
			want := []string{Statement, "30 slices, 5 mm, kernel B40f", res.Model.Levels.SHA256, res.Model.Scores.SHA256,
				bi.String(), "2026-12-08 01:02 UTC", "outside (above)", "no-lung", "moved by a reader"}
			for _, l := range res.Levels {
				want = append(want, l.Name)
				for _, v := range []*float64{l.ZMM, l.TOT, l.GG, l.RET} {
					if v != nil {
						want = append(want, fmt.Sprintf("%.1f", *v))
					}
				}
			}
			want = append(want, "Whole lung", score(res.Mean.TOT, &res.Mean.Rounded.TOT), score(res.Mean.RET, &res.Mean.Rounded.RET))
			want = append(want, res.Warnings...)
			for _, s := range want {
				if !strings.Contains(flat, s) {
					t.Errorf("the report does not show %q:\n%s", s, text)
				}
			}
			if got := strings.Contains(flat, "Müller") || strings.Contains(flat, "P001"); got != c.patient {
				t.Errorf("the report shows the patient: %v, want %v", got, c.patient)
			}
			if pages := strings.Count(text, "\f"); (pages > 1) != (c.warnings > 20) {
				t.Errorf("%d pages for %d warnings", pages, c.warnings)
			}
		})
	}
	if _, err := PDF(Report{}); err == nil {
		t.Error("PDF of no result: got no error, want one")
	}
}
