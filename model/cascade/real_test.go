//go:build !js

// The real-data tests read DICOM through model/ingest, whose DICOM library
// makes node spend minutes instantiating the test binary; they run
// natively (and in CI), the rest of the package's tests also under
// js/wasm.

package cascade

import (
	"context"
	"encoding/csv"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/shareddata"
)

func openSeries(t testing.TB, paths ...string) *ingest.LazyVolume {
	t.Helper()
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	files, err := ingest.DiskFiles(paths...)
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
	return lv
}

// referenceLevels reads chest-ct/levels.csv.
func referenceLevels(t *testing.T, td string) map[string][6]float64 {
	f, err := os.Open(filepath.Join(td, "chest-ct", "levels.csv"))
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(f).ReadAll: got error %v, want nil", err)
	}
	out := map[string][6]float64{}
	for _, r := range rows[1:] {
		var v [6]float64
		for i := 0; i < 6; i++ {
			v[i], _ = strconv.ParseFloat(r[1+i], 64)
		}
		out[r[0]] = v
	}
	return out
}

// TestRealA0002Levels scores both kernels of the real CT (issue 3's
// acceptance): every level found in the scan, in craniocaudal order,
// within the reader's tolerance of levels.csv (8 mm), and the two kernels
// within that tolerance of each other.
func TestRealA0002Levels(t *testing.T) {
	td := shareddata.Root(t, "chest-ct/levels.csv")
	ref := referenceLevels(t, td)
	c := defaultCascade(t)
	var z [2][5]float64
	for s, name := range []string{"A0002-B40f", "A0002-B70f"} {
		res, err := c.Score(context.Background(), openSeries(t, filepath.Join(td, "chest-ct", name)), Options{})
		if err != nil {
			t.Fatalf("c.Score: got error %v, want nil", err)
		}
		r := ref[name]
		for i, l := range res.Levels {
			if l.ZMM == nil {
				t.Errorf("%s %s: got %s (%s), want a level inside the scan", name, l.Name, l.Status, l.Message)
				continue
			}
			z[s][i] = *l.ZMM
			d := *l.ZMM - r[i]
			t.Logf("%s %s: slice z %.1f (estimate %.1f), reader %.0f: %+.1f mm", name, l.Name, *l.ZMM, l.EstimateZMM, r[i], d)
			if math.Abs(d) > r[5] {
				t.Errorf("%s %s: got z %.1f (error %+.1f mm), want the reference %.0f ± %.0f", name, l.Name, *l.ZMM, d, r[i], r[5])
			}
			if i > 0 && l.EstimateZMM >= res.Levels[i-1].EstimateZMM {
				t.Errorf("%s: got %s at z %.1f, want it below %s (z %.1f)", name, l.Name, l.EstimateZMM, res.Levels[i-1].Name, res.Levels[i-1].EstimateZMM)
			}
		}
	}
	tol := ref["A0002-B40f"][5]
	for i := 0; i < 5; i++ {
		if d := math.Abs(z[0][i] - z[1][i]); d > tol {
			t.Errorf("%s: B40f %.1f vs B70f %.1f, got %v, want <= %v", LevelNames[i], z[0][i], z[1][i], d, tol)
		}
	}
}

func scoreFile(t *testing.T, c *Cascade, path string) SliceScore {
	t.Helper()
	ss, err := c.ScoreSlices(context.Background(), openSeries(t, path), []int{0})
	if err != nil {
		t.Fatalf("c.ScoreSlices: got error %v, want nil", err)
	}
	return ss[0]
}

// TestRealSlices: ground glass clearly higher on the COVID-19 slice than
// on the near-normal one, and the abdominal slice reported as no lung.
func TestRealSlices(t *testing.T) {
	td := shareddata.Root(t, "chest-ct/levels.csv")
	c := defaultCascade(t)
	sl := filepath.Join(td, "slices")
	covid := scoreFile(t, c, filepath.Join(sl, "A002304_axial_19010112-135.dcm"))
	normal := scoreFile(t, c, filepath.Join(sl, "A048383_axial_19010410-30.dcm"))
	abdomen := scoreFile(t, c, filepath.Join(sl, "A058062_axial_19001231-084.dcm"))
	t.Logf("A002304 GG %.1f TOT %.1f; A048383 GG %.1f TOT %.1f; A058062 lung %.0f mm²",
		covid.Scores.GG, covid.Scores.TOT, normal.Scores.GG, normal.Scores.TOT, abdomen.Input.LungAreaMM2)
	if covid.NoLung || normal.NoLung {
		t.Fatalf("lung slices: got NoLung %v, %v; want false, false", covid.NoLung, normal.NoLung)
	}
	if covid.Scores.GG < normal.Scores.GG+10 {
		t.Errorf("GG on the ground-glass slice %.1f is not clearly above the near-normal one %.1f, want >= %v", covid.Scores.GG, normal.Scores.GG, normal.Scores.GG+10)
	}
	if !abdomen.NoLung {
		t.Errorf("abdominal slice: got scored (lung area %.0f mm²), want NoLung", abdomen.Input.LungAreaMM2)
	}
}

// BenchmarkScoreA0002 measures `sscscore score` on A0002-B40f (30 slices
// of 512²): header scan, the sequential pass, the levels network and the
// score network on the level slices.
func BenchmarkScoreA0002(b *testing.B) {
	td := shareddata.Root(b, "chest-ct/levels.csv")
	c := defaultCascade(b)
	dir := filepath.Join(td, "chest-ct", "A0002-B40f")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src := openSeries(b, dir)
		if _, err := c.Score(context.Background(), src, Options{}); err != nil {
			b.Fatalf("c.Score: got error %v, want nil", err)
		}
	}
}

// BenchmarkRescore measures moving one level (three score-network
// evaluations).
func BenchmarkRescore(b *testing.B) {
	td := shareddata.Root(b, "chest-ct/levels.csv")
	c := defaultCascade(b)
	src := openSeries(b, filepath.Join(td, "chest-ct", "A0002-B40f"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Rescore(context.Background(), src, 2, 13); err != nil {
			b.Fatalf("c.Rescore: got error %v, want nil", err)
		}
	}
}
