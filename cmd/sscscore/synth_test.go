package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/phantom"
)

func runSynthCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := runMain(append([]string{"synth"}, args...), &out, &errb); code != 0 {
		t.Fatalf("synth %v: exit %d: %s, want 0", args, code, errb.String())
	}
	return out.String()
}

// TestSynthDeterministic runs the command twice with the same seed and
// compares every byte written.
func TestSynthDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	args := []string{"--n", "2", "--seed", "5", "--matrix", "96", "--slice-spacing", "8", "--disease", "--quiet"}
	runSynthCLI(t, append(args, "--out", a)...)
	runSynthCLI(t, append(args, "--out", b)...)
	n := 0
	err := filepath.Walk(a, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		x, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s: got different bytes in the second run, want the same", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatalf("filepath.Walk: got error %v, want nil", err)
	}
	if n < 10 {
		t.Fatalf("only %d files written, want >= 10", n)
	}
	rows := readLabels(t, filepath.Join(a, "labels.csv"))
	if len(rows) != 3 || len(rows[0]) != 21 {
		t.Fatalf("labels.csv: %d rows of %d columns, want 3 of 21", len(rows), len(rows[0]))
	}
	if strings.Join(rows[0][:7], ",") != "PatID,L1_pos,L2_pos,L3_pos,L4_pos,L5_pos,L1_disext" || rows[0][20] != "L5_retp" {
		t.Errorf("header: got %v, want PatID,L1_pos..L5_pos,L1_disext,...,L5_retp", rows[0])
	}
}

func readLabels(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(f).ReadAll: got error %v, want nil", err)
	}
	return rows
}

// TestSynthRoundTrip writes phantoms as DICOM with the command, reads them
// back with the ingestion package, and compares the volume (exactly: the
// rescale is an integer intercept with slope 1) and the level positions.
func TestSynthRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, signed := range []string{"--signed", "--unsigned"} {
		out := filepath.Join(dir, signed[2:])
		runSynthCLI(t, "--n", "1", "--seed", "11", "--matrix", "128", "--slice-spacing", "5", signed, "--quiet", "--out", out)
		rows := readLabels(t, filepath.Join(out, "labels.csv"))
		id := rows[1][0]
		files, err := ingest.DiskFiles(filepath.Join(out, id))
		if err != nil {
			t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
		}
		v, _, _, err := ingest.LoadFiles(context.Background(), files, ingest.Options{})
		if err != nil {
			t.Fatalf("ingest.LoadFiles: got error %v, want nil", err)
		}
		p := phantom.New(11, phantom.Options{Matrix: 128, SliceSpacing: phantom.Range{Min: 5, Max: 5}, Signed: map[string]int{"--signed": 2, "--unsigned": 1}[signed]})
		g := p.Geometry()
		lg := v.Geometry()
		if lg.Nz != g.Nz || lg.Nx != g.Nx || lg.Ny != g.Ny {
			t.Fatalf("%s: loaded %dx%dx%d, want %dx%dx%d", signed, lg.Nx, lg.Ny, lg.Nz, g.Nx, g.Ny, g.Nz)
		}
		for i := 0; i < 3; i++ {
			if math.Abs(lg.Spacing[i]-g.Spacing[i]) > 1e-6 || math.Abs(lg.Origin[i]-g.Origin[i]) > 1e-3 {
				t.Errorf("%s: got spacing %v, origin %v; want %v, %v", signed, lg.Spacing, lg.Origin, g.Spacing, g.Origin)
			}
		}
		want, _, err := p.Render(context.Background(), g)
		if err != nil {
			t.Fatalf("p.Render: got error %v, want nil", err)
		}
		diff := 0
		for i, x := range v.Voxels() {
			if x != want.Voxels()[i] {
				if diff < 5 {
					t.Logf("voxel %d: loaded %d, rendered %d", i, x, want.Voxels()[i])
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d voxels differ after the DICOM round trip, want <= 0", signed, diff)
		}
		// level positions: labels.csv holds the truth; the same slices are
		// nearest in the loaded geometry
		lv := p.Levels()
		for i := 0; i < 5; i++ {
			z, err := strconv.ParseFloat(rows[1][1+i], 64)
			if err != nil {
				t.Fatalf("strconv.ParseFloat: got error %v, want nil", err)
			}
			if math.Abs(z-lv[i]) > 0.005 {
				t.Errorf("%s: L%d in labels.csv %.3f, phantom %.3f, want %v ± 0.005", signed, i+1, z, lv[i], lv[i])
			}
			k1, in1 := lg.NearestSlice(z)
			k2, _ := g.NearestSlice(lv[i])
			if !in1 || k1 != k2 {
				t.Errorf("%s: L%d nearest slice %d (inside %v), want %d", signed, i+1, k1, in1, k2)
			}
		}
	}
}

// TestSynthSheet writes a contact sheet only.
func TestSynthSheet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sheet.png")
	runSynthCLI(t, "--seed", "3", "--matrix", "96", "--slice-spacing", "6", "--disease", "--quiet", "--sheet", path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("png.Decode: got error %v, want nil", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 400 {
		t.Errorf("sheet: got %v, want at least 600 x 400", b)
	}
}

// TestSynthFlags checks flag errors.
func TestSynthFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--n", "0", "--out", "x"},
		{"--seed", "1"},
		{"--out", "x", "--slice-spacing", "abc"},
		{"--out", "x", "--slice-spacing", "0.1"},
		{"--out", "x", "--signed", "--unsigned"},
		{"--out", "x", "--contrast", "iodine"},
		{"--out", "x", "--followup", "-2"},
		{"--out", "x", "--followup", "0.2", "--followup-months", "0"},
	} {
		var out, errb bytes.Buffer
		if code := runMain(append([]string{"synth"}, args...), &out, &errb); code == 0 {
			t.Errorf("synth %v: accepted, got %v, want != 0", args, code)
		}
	}
	if r, err := parseRange("1-5", 0.3, 20); err != nil || r.Min != 1 || r.Max != 5 {
		t.Errorf("parseRange(1-5) = %v, %v; want 1-5, nil", r, err)
	}
}

// TestSynthFollowUp writes a baseline and a follow-up of one patient: two
// series of the same patient and geometry, 6 months apart, and labels rows
// whose levels are the same and whose extents grew.
func TestSynthFollowUp(t *testing.T) {
	out := t.TempDir()
	runSynthCLI(t, "--seed", "31", "--matrix", "128", "--slice-spacing", "8", "--disease", "--severity", "0.5", "--quiet",
		"--followup", "0.4", "--followup-months", "6", "--out", out)
	rows := readLabels(t, filepath.Join(out, "labels.csv"))
	if len(rows) != 3 || rows[0][21] != "Scan" || rows[0][22] != "StudyDate" {
		t.Fatalf("labels.csv: got %d rows, header %v; want 3 rows, ... Scan, StudyDate", len(rows), rows[0])
	}
	b, f := rows[1], rows[2]
	if b[0] != f[0] || b[21] != "baseline" || f[21] != "followup" || b[22] != "20240101" || f[22] != "20240701" {
		t.Fatalf("rows: got %v / %v, want one patient, baseline 20240101 and followup 20240701", b, f)
	}
	if strings.Join(b[1:6], ",") != strings.Join(f[1:6], ",") {
		t.Errorf("levels: got %v and %v, want the same", b[1:6], f[1:6])
	}
	var sumB, sumF float64
	for l := 0; l < 5; l++ {
		x, _ := strconv.ParseFloat(b[6+3*l], 64)
		y, _ := strconv.ParseFloat(f[6+3*l], 64)
		sumB, sumF = sumB+x, sumF+y
	}
	if sumF < sumB+10 {
		t.Errorf("TOT over the levels: got %.1f -> %.1f, want at least 10 points more", sumB, sumF)
	}
	var seen []*ingest.Series
	for _, scan := range []string{"baseline", "followup"} {
		files, err := ingest.DiskFiles(filepath.Join(out, b[0], scan))
		if err != nil {
			t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
		}
		inv, err := ingest.Scan(context.Background(), files, ingest.Options{})
		if err != nil || len(inv.Series) != 1 {
			t.Fatalf("ingest.Scan(%s): got error %v, want one series", scan, err)
		}
		seen = append(seen, inv.Series[0])
	}
	if seen[0].PatientID != seen[1].PatientID || seen[0].UID == seen[1].UID || seen[0].StudyDate != "20240101" || seen[1].StudyDate != "20240701" {
		t.Errorf("series: got patients %q/%q, UIDs %s/%s, dates %s/%s; want one patient, two series, 20240101/20240701",
			seen[0].PatientID, seen[1].PatientID, seen[0].UID, seen[1].UID, seen[0].StudyDate, seen[1].StudyDate)
	}
}
