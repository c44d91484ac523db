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
	"sscscore/model/cascade/cascadetest"
	"sscscore/model/internal/testtool"
)

func testResult(patient bool, warnings int) *cascade.Result {
	var ws []string
	for i := 0; i < warnings; i++ {
		ws = append(ws, fmt.Sprintf("warning number %d: the slices are uneven between positions %d and %d", i+1, i, i+1))
	}
	return cascadetest.Result(patient, ws)
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
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	out, err := exec.Command(p, "-layout", path, "-").CombinedOutput()
	if err != nil || strings.Contains(string(out), "Syntax Error") {
		t.Fatalf("pdftotext: got error %v, want nil and no syntax error\n%s", err, out)
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
				t.Fatalf("PDF: got error %v, want nil", err)
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
					t.Errorf("report: got text without %q, want it shown:\n%s", s, text)
				}
			}
			if got := strings.Contains(flat, "Müller") || strings.Contains(flat, "P001"); got != c.patient {
				t.Errorf("the report shows the patient: %v, want %v", got, c.patient)
			}
			if pages := strings.Count(text, "\f"); (pages > 1) != (c.warnings > 20) {
				t.Errorf("%d pages for %d warnings, got %v, want %v", pages, c.warnings, (pages > 1), (c.warnings > 20))
			}
		})
	}
	if _, err := PDF(Report{}); err == nil {
		t.Error("PDF of no result: got no error, want one")
	}
}
