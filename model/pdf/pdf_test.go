package pdf

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sscscore/model/internal/testtool"
)

// testDoc is a two-page document: text in both fonts with PDF specials
// and non-ASCII characters, a red RGB image and a grey image, lines and a
// rectangle.
func testDoc(t *testing.T) []byte {
	t.Helper()
	doc := New()
	p := doc.AddPage(A4Width, A4Height)
	p.Text(72, 770, 18, Bold, "Scores (TOT) \\ GG — 5 µm ± 2")
	p.TextColor(72, 740, 11, Regular, Color{0, 0, 0.6}, "Research use only. Not a medical device.")
	red := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range red.Pix {
		if i%4 == 0 || i%4 == 3 {
			red.Pix[i] = 255
		}
	}
	if err := p.Image(red, 72, 400, 200, 150, 90); err != nil {
		t.Fatalf("p.Image: got error %v, want nil", err)
	}
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = 40
	}
	if err := p.Image(gray, 300, 400, 100, 100, 90); err != nil {
		t.Fatalf("p.Image: got error %v, want nil", err)
	}
	p.Line(72, 380, 520, 380, 1, Black)
	p.Rect(72, 300, 100, 50, Color{0, 0.5, 0})
	q := doc.AddPage(A4Width, A4Height)
	q.Text(72, 770, 12, Regular, "Page two")
	b, err := doc.Bytes(Info{Title: "Test (1)", Created: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("doc.Bytes: got error %v, want nil", err)
	}
	return b
}

func TestStructure(t *testing.T) {
	b := testDoc(t)
	if !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatalf("got header %q and end %q, want %%PDF-1.4 ... %%%%EOF", b[:9], b[len(b)-6:])
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(b)
	if m == nil {
		t.Fatal("startxref: got none, want one")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(b[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d points at %q, want the xref table", xref, b[xref:xref+10])
	}
	lines := strings.Split(string(b[xref:]), "\n")
	n, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	for i := 1; i < n; i++ {
		entry := lines[2+i]
		if len(entry) != 19 { // 20 bytes with the newline
			t.Errorf("xref entry %d is %q, want 20 bytes", i, entry)
		}
		off, _ := strconv.Atoi(entry[:10])
		if want := fmt.Sprintf("%d 0 obj\n", i); !bytes.HasPrefix(b[off:], []byte(want)) {
			t.Errorf("object %d: xref offset %d: got %q, want %q", i, off, b[off:min(off+12, len(b))], want)
		}
	}
}

func TestRenders(t *testing.T) {
	b := testDoc(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "t.pdf")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	out, err := exec.Command(testtool.Path(t, "pdftotext", "poppler-utils"), "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: got error %v, want nil\n%s", err, out)
	}
	if strings.Contains(string(out), "Syntax Error") {
		t.Errorf("pdftotext: got syntax errors, want none:\n%s", out)
	}
	for _, want := range []string{"Scores (TOT) \\ GG — 5 µm ± 2", "Research use only. Not a medical device.", "Page two"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("pdftotext: got no %q, want it in\n%s", want, out)
		}
	}
	out, err = exec.Command(testtool.Path(t, "pdfinfo", "poppler-utils"), path).CombinedOutput()
	if err != nil || !regexp.MustCompile(`Pages:\s+2\n`).Match(out) || !strings.Contains(string(out), "Test (1)") || strings.Contains(string(out), "rror") {
		t.Errorf("pdfinfo: %v\n%s\nwant 2 pages, the title and no error", err, out)
	}
	// 72 dpi: one pixel per point, y from the top.
	if out, err := exec.Command(testtool.Path(t, "pdftoppm", "poppler-utils"), "-r", "72", "-png", "-f", "1", "-l", "1", path, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: got error %v, want nil\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "p-1.png"))
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("png.Decode: got error %v, want nil", err)
	}
	h := img.Bounds().Dy()
	for _, c := range []struct {
		name string
		x, y int // points from the bottom left
		want color.RGBA
	}{
		{"red image", 172, 475, color.RGBA{255, 0, 0, 255}},
		{"grey image", 350, 450, color.RGBA{40, 40, 40, 255}},
		{"green rectangle", 122, 325, color.RGBA{0, 128, 0, 255}},
		{"white page", 500, 100, color.RGBA{255, 255, 255, 255}},
	} {
		r, g, bl, _ := img.At(c.x, h-c.y).RGBA()
		got := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 255}
		if d := max(diff(got.R, c.want.R), diff(got.G, c.want.G), diff(got.B, c.want.B)); d > 12 {
			t.Errorf("%s at (%d, %d): got %v, want %v", c.name, c.x, c.y, got, c.want)
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestWidth(t *testing.T) {
	for _, c := range []struct {
		f    Font
		s    string
		want float64
	}{
		{Regular, "A", 6.67},
		{Bold, "A", 7.22},
		{Regular, "iii", 6.66},
		{Regular, "0123456789", 55.6},
		{Regular, "µ", 5.56},
		{Regular, "—", 10},
		{Regular, "", 0},
	} {
		if got := Width(c.f, 10, c.s); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("Width(%d, 10, %q) = %v, want %v", c.f, c.s, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	s := "Research use only. Not a medical device. The networks are trained on synthetic data."
	lines := Wrap(Regular, 10, 150, s)
	if len(lines) < 3 || strings.Join(lines, " ") != s {
		t.Fatalf("Wrap: got %q, want lines that join back to the text", lines)
	}
	for _, l := range lines {
		if w := Width(Regular, 10, l); w > 150 {
			t.Errorf("line %q is %.1f points wide, want at most 150", l, w)
		}
	}
	if got := Wrap(Regular, 10, 10, "overlongword"); len(got) != 1 || got[0] != "overlongword" {
		t.Errorf("Wrap of one long word: got %q, want it alone on a line", got)
	}
}
