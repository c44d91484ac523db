package pdf

import "strings"

// Glyph widths (1/1000 em) of the printable ASCII characters 32..126, from
// Adobe's font metrics of the standard Helvetica and Helvetica-Bold.
var widths = [2][95]int{
	{ // Helvetica
		278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // space ! " # $ % & ' ( ) * + , - . /
		556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // 0-9
		278, 278, 584, 584, 584, 556, 1015, // : ; < = > ? @
		667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // A-M
		722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // N-Z
		278, 278, 278, 469, 556, 333, // [ \ ] ^ _ `
		556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // a-m
		556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // n-z
		334, 260, 334, 584, // { | } ~
	},
	{ // Helvetica-Bold
		278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
		556, 556, 556, 556, 556, 556, 556, 556, 556, 556,
		333, 333, 584, 584, 584, 611, 975,
		722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
		722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
		333, 278, 333, 584, 556, 333,
		556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889,
		611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500,
		389, 280, 389, 584,
	},
}

// winAnsi maps the characters of WinAnsiEncoding outside Latin-1 to their
// codes (0x80..0x9F), with their width in both fonts.
var winAnsi = map[rune]struct {
	code byte
	w    int
}{
	'€': {0x80, 556}, '‚': {0x82, 222}, '„': {0x84, 333}, '…': {0x85, 1000}, '†': {0x86, 556},
	'‰': {0x89, 1000}, '‹': {0x8B, 333}, '‘': {0x91, 222}, '’': {0x92, 222}, '“': {0x93, 333},
	'”': {0x94, 333}, '•': {0x95, 350}, '–': {0x96, 556}, '—': {0x97, 1000}, '™': {0x99, 1000}, '›': {0x9B, 333},
}

// latin1Width is the width of the Latin-1 characters 0xA0..0xFF used in
// reports; the others are counted as 556 (a digit's width).
var latin1Width = map[rune]int{
	'\u00a0': 278, '°': 400, '±': 584, '²': 333, '³': 333, 'µ': 556, '·': 278, '×': 584, '÷': 584, '¼': 834, '½': 834,
}

// encode converts s to WinAnsiEncoding bytes; characters it cannot hold
// become '?'.
func encode(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 32 && r <= 126:
			out = append(out, byte(r))
		case r >= 0xA0 && r <= 0xFF:
			out = append(out, byte(r))
		default:
			if w, ok := winAnsi[r]; ok {
				out = append(out, w.code)
			} else {
				out = append(out, '?')
			}
		}
	}
	return out
}

// Width returns the width in points of s set in font f at size points.
func Width(f Font, size float64, s string) float64 {
	total := 0
	for _, r := range s {
		switch {
		case r >= 32 && r <= 126:
			total += widths[f][r-32]
		case r >= 0xA0 && r <= 0xFF:
			if w, ok := latin1Width[r]; ok {
				total += w
			} else {
				total += 556
			}
		default:
			if w, ok := winAnsi[r]; ok {
				total += w.w
			} else {
				total += widths[f]['?'-32]
			}
		}
	}
	return float64(total) * size / 1000
}

// Wrap breaks s into lines no wider than width points (a single word
// wider than that gets a line of its own).
func Wrap(f Font, size, width float64, s string) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			try := w
			if line != "" {
				try = line + " " + w
			}
			if line != "" && Width(f, size, try) > width {
				lines = append(lines, line)
				line = w
				continue
			}
			line = try
		}
		lines = append(lines, line)
	}
	return lines
}
