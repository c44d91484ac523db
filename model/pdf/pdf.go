// Package pdf writes small PDF documents (PDF 1.4) in pure Go: pages with
// text in the built-in Helvetica and Helvetica-Bold fonts (WinAnsi
// encoding, so Latin-1 text), lines, filled rectangles and JPEG images.
// It is the printable report's writer; it needs no font files and works in
// the browser's worker.
//
//	doc := pdf.New()
//	p := doc.AddPage(pdf.A4Width, pdf.A4Height)
//	p.Text(50, 800, 12, pdf.Bold, "Title")
//	p.Image(img, 50, 500, 200, 200) // JPEG-encoded
//	b, err := doc.Bytes(pdf.Info{Title: "Report"})
//
// Coordinates are in points (1/72 inch) from the bottom left corner of the
// page.
package pdf

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"strconv"
	"strings"
	"time"
)

// A4 page size in points.
const (
	A4Width  = 595.28
	A4Height = 841.89
)

// Font is one of the two built-in fonts.
type Font int

// The fonts.
const (
	Regular Font = iota // Helvetica
	Bold                // Helvetica-Bold
)

// Color is an RGB colour, each component 0..1.
type Color struct{ R, G, B float64 }

// Black is the default colour.
var Black = Color{}

// Document is a PDF document being built.
type Document struct {
	pages  []*Page
	images [][]byte // XObject dictionaries and streams, in order (Im1, Im2...)
}

// Page is one page of a Document.
type Page struct {
	w, h    float64
	content bytes.Buffer
	images  []int // indices into Document.images used by the page
	doc     *Document
}

// New returns an empty document.
func New() *Document { return &Document{} }

// AddPage adds a page of w x h points and returns it.
func (d *Document) AddPage(w, h float64) *Page {
	p := &Page{w: w, h: h, doc: d}
	d.pages = append(d.pages, p)
	return p
}

// num formats a coordinate or size compactly.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}

func (c Color) op(fill bool) string {
	o := "RG"
	if fill {
		o = "rg"
	}
	return num(c.R) + " " + num(c.G) + " " + num(c.B) + " " + o
}

// Text writes s with its baseline starting at (x, y), in font f of size
// points, in black.
func (p *Page) Text(x, y, size float64, f Font, s string) { p.TextColor(x, y, size, f, Black, s) }

// TextColor writes s like Text, in colour c.
func (p *Page) TextColor(x, y, size float64, f Font, c Color, s string) {
	fmt.Fprintf(&p.content, "BT %s /F%d %s Tf %s %s Td (%s) Tj ET\n", c.op(true), int(f)+1, num(size), num(x), num(y), escape(encode(s)))
}

// Line draws a line from (x1, y1) to (x2, y2), width points wide.
func (p *Page) Line(x1, y1, x2, y2, width float64, c Color) {
	fmt.Fprintf(&p.content, "%s %s w %s %s m %s %s l S\n", c.op(false), num(width), num(x1), num(y1), num(x2), num(y2))
}

// Rect fills the rectangle with lower left corner (x, y), w wide and h high.
func (p *Page) Rect(x, y, w, h float64, c Color) {
	fmt.Fprintf(&p.content, "%s %s %s %s %s re f\n", c.op(true), num(x), num(y), num(w), num(h))
}

// Image draws img (JPEG-encoded at the given quality, 1..100) into the
// rectangle with lower left corner (x, y), w wide and h high.
func (p *Page) Image(img image.Image, x, y, w, h float64, quality int) error {
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return fmt.Errorf("pdf: empty image")
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	space := "DeviceRGB"
	if _, gray := img.(*image.Gray); gray {
		space = "DeviceGray"
	}
	obj := fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /%s /BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n",
		b.Dx(), b.Dy(), space, buf.Len())
	data := append([]byte(obj), buf.Bytes()...)
	data = append(data, "\nendstream"...)
	p.doc.images = append(p.doc.images, data)
	idx := len(p.doc.images) - 1
	p.images = append(p.images, idx)
	fmt.Fprintf(&p.content, "q %s 0 0 %s %s %s cm /Im%d Do Q\n", num(w), num(h), num(x), num(y), idx+1)
	return nil
}

// Info is the document information dictionary.
type Info struct {
	Title, Author, Subject, Creator string
	// Created is the creation date; zero means none.
	Created time.Time
}

// Bytes returns the document as a PDF file.
func (d *Document) Bytes(info Info) ([]byte, error) {
	if len(d.pages) == 0 {
		return nil, fmt.Errorf("pdf: a document needs at least one page")
	}
	var out bytes.Buffer
	var offsets []int // of objects 1..n
	obj := func(body []byte) int {
		offsets = append(offsets, out.Len())
		n := len(offsets)
		fmt.Fprintf(&out, "%d 0 obj\n", n)
		out.Write(body)
		out.WriteString("\nendobj\n")
		return n
	}
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// Fixed objects: 1 catalog, 2 page tree, 3 and 4 fonts; images follow,
	// then each page's contents and page object. The page tree lists the
	// page objects, whose numbers are known in advance.
	nImg := len(d.images)
	firstPage := 5 + nImg
	kids := make([]string, len(d.pages))
	for i := range d.pages {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i+1)
	}
	obj([]byte("<< /Type /Catalog /Pages 2 0 R >>"))
	obj([]byte(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.pages))))
	obj([]byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"))
	obj([]byte("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"))
	for _, im := range d.images {
		obj(im)
	}
	for _, p := range d.pages {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(p.content.Bytes())
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("pdf: %w", err)
		}
		c := obj(append([]byte(fmt.Sprintf("<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())), append(z.Bytes(), "\nendstream"...)...))
		var xo []string
		for _, i := range p.images {
			xo = append(xo, fmt.Sprintf("/Im%d %d 0 R", i+1, 5+i))
		}
		res := "/Font << /F1 3 0 R /F2 4 0 R >>"
		if len(xo) > 0 {
			res += " /XObject << " + strings.Join(xo, " ") + " >>"
		}
		obj([]byte(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << %s >> /Contents %d 0 R >>",
			num(p.w), num(p.h), res, c)))
	}
	var fields []string
	for _, kv := range [][2]string{{"Title", info.Title}, {"Author", info.Author}, {"Subject", info.Subject}, {"Creator", info.Creator}, {"Producer", "sscscore model/pdf"}} {
		if kv[1] != "" {
			fields = append(fields, "/"+kv[0]+" ("+escape(encode(kv[1]))+")")
		}
	}
	if !info.Created.IsZero() {
		fields = append(fields, "/CreationDate (D:"+info.Created.UTC().Format("20060102150405")+"Z)")
	}
	infoObj := obj([]byte("<< " + strings.Join(fields, " ") + " >>"))
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	id := sha256.Sum256(out.Bytes())
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R /ID [<%x> <%x>] >>\nstartxref\n%d\n%%%%EOF\n",
		len(offsets)+1, infoObj, id[:16], id[:16], xref)
	return out.Bytes(), nil
}

// escape escapes a PDF literal string's specials.
func escape(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch c {
		case '\\', '(', ')':
			s.WriteByte('\\')
			s.WriteByte(c)
		case '\n':
			s.WriteString(`\n`)
		case '\r':
			s.WriteString(`\r`)
		default:
			s.WriteByte(c)
		}
	}
	return s.String()
}
