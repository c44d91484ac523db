package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainCVSite runs `train cv` on a tiny synthetic site (4 phantoms
// written as DICOM with labels.csv, 2 folds, a step per network, site
// scans only), then scores with the exported weights (`score --weights`)
// and checks that they are refused once a byte is changed.
func TestTrainCVSite(t *testing.T) {
	tmp := t.TempDir()
	site := filepath.Join(tmp, "site")
	runSynthCLI(t, "--n", "4", "--seed", "9", "--matrix", "64", "--slice-spacing", "10", "--disease", "--quiet", "--out", site)
	w := filepath.Join(tmp, "weights")
	out, errs, code := run(t, "train", "cv", "--real", site, "--labels", filepath.Join(site, "labels.csv"), "--folds", "2",
		"--steps", "1", "--levels-batch", "1", "--scores-batch", "2", "--real-share", "1", "--threads", "1", "--out", filepath.Join(tmp, "cv"), "--export", w, "--name", "tiny-site")
	if code != 0 {
		t.Fatalf("train cv: exit %d, want 0: %s", code, errs)
	}
	for _, want := range []string{"pooled   site", "shipped", "Bland-Altman", "Final model (all 4 scans)"} {
		if !strings.Contains(out, want) {
			t.Errorf("train cv output: got %q, want it to contain %q", out, want)
		}
	}
	b, err := os.ReadFile(filepath.Join(tmp, "cv", "cv.json"))
	if err != nil {
		t.Fatalf("cv.json: got error %v, want nil", err)
	}
	var rep struct {
		Folds []struct {
			Scans int `json:"scans"`
		} `json:"folds"`
		Site struct {
			Scans int `json:"scans"`
			TOT   struct {
				N int `json:"n"`
			} `json:"tot"`
		} `json:"site"`
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Folds) != 2 || rep.Folds[0].Scans+rep.Folds[1].Scans != 4 || rep.Site.Scans != 4 || rep.Site.TOT.N == 0 {
		t.Fatalf("cv.json: got %+v (%v), want 2 folds of 4 scans in all, pooled TOT pairs", rep, err)
	}
	card, err := os.ReadFile(filepath.Join(w, "MODEL_CARD.md"))
	if err != nil || !strings.Contains(string(card), "# Model card: tiny-site") || strings.Contains(string(card), "SYN9-") {
		t.Errorf("MODEL_CARD.md: got %q (%v), want the name and no PatID", card, err)
	}
	js, errs, code := run(t, "score", "-q", "--json", "--weights", w, filepath.Join(site, "SYN9-0001"))
	if code != 0 || !strings.Contains(js, `"weights": "tiny-site"`) || !strings.Contains(errs, `weights "tiny-site"`) {
		t.Fatalf("score --weights: exit %d, stderr %q, JSON %.300q; want 0 and the weights named", code, errs, js)
	}
	p := filepath.Join(w, "levels.safetensors")
	wb, _ := os.ReadFile(p)
	wb[len(wb)/2] ^= 0x10
	if err := os.WriteFile(p, wb, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	_, errs, code = run(t, "score", "-q", "--weights", w, filepath.Join(site, "SYN9-0001"))
	if code == 0 || !strings.Contains(errs, "levels.safetensors has SHA-256") || !strings.Contains(errs, "refused") {
		t.Errorf("score --weights with a changed byte: exit %d, stderr %q; want a refusal naming levels.safetensors", code, errs)
	}
}

// TestTrainCheck lists the issues of a labels CSV against the scans.
func TestTrainCheck(t *testing.T) {
	site := filepath.Join(t.TempDir(), "site")
	runSynthCLI(t, "--n", "2", "--seed", "9", "--matrix", "48", "--slice-spacing", "10", "--quiet", "--out", site)
	csv := filepath.Join(site, "labels.csv")
	b, _ := os.ReadFile(csv)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	// the second scan loses its row; a row with no scan; a score of 103
	cells := strings.Split(lines[1], ",")
	cells[6] = "103"
	bad := lines[0] + "\n" + strings.Join(cells, ",") + "\nNOSCAN,1,2,3,4,5\n"
	if err := os.WriteFile(csv, []byte(bad), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	out, errs, code := run(t, "train", "check", "--real", site, "--labels", csv)
	if code == 0 {
		t.Fatalf("train check: exit 0, want an error; output %q", out)
	}
	for _, want := range []string{
		"labels.csv:2: PatID SYN9-0001: error: L1_disext is 103, outside 0-100",
		"labels.csv:3: PatID NOSCAN: warning: no scan in",
		"SYN9-0002\") has no row: not used",
		"1 errors",
	} {
		if !strings.Contains(out+errs, want) {
			t.Errorf("train check: got %q, want it to contain %q", out+errs, want)
		}
	}
}
