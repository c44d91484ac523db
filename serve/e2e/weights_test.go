package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sscscore/model/cascade"
	"sscscore/model/nn/spec"
	"sscscore/model/train"
	"sscscore/model/weights"
)

// siteWeights exports the shipped networks as a site's weights folder
// named name (train.Export, the path of sscscore train cv --export: F16
// safetensors with their metadata, specs, a model card, SHA256SUMS).
func siteWeights(t *testing.T, name string) (dir string, sha [2]string) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), name)
	for i, m := range []weights.Model{weights.Levels(), weights.Scores()} {
		s, err := spec.Parse(m.Spec)
		if err != nil {
			t.Fatalf("spec.Parse: got error %v, want nil", err)
		}
		net, err := spec.Build(s, spec.Options{})
		if err != nil {
			t.Fatalf("spec.Build: got error %v, want nil", err)
		}
		if err := net.LoadSafetensors(m.Weights); err != nil {
			t.Fatalf("net.LoadSafetensors: got error %v, want nil", err)
		}
		meta := map[string]string{"spec": s.Name, "training": "site: e2e test folder", "weights_name": name}
		if sha[i], err = train.Export(net, s, dir, m.Name, meta); err != nil {
			t.Fatalf("train.Export: got error %v, want nil", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, cascade.ModelCardFile), []byte("# Model card: "+name+"\n"), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	if err := train.WriteSums(dir); err != nil {
		t.Fatalf("train.WriteSums: got error %v, want nil", err)
	}
	return dir, sha
}

// scoreDemo runs the demo scan and waits for its result.
func (tb *tab) scoreDemo() {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("demo"))); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 4*time.Minute)
	if s := eval[string](tb, `document.documentElement.dataset.state`); s != "done" {
		tb.t.Fatalf("demo ended in state %s: %s, want done", s, eval[string](tb, `document.getElementById("error").textContent`))
	}
}

// TestServeWeights serves a site's weights folder (serve -weights): the
// page's model card names them, the demo scan is scored with them and the
// JSON export names them and their hashes, as sscscore score --weights
// does; a folder with a changed byte is refused at start.
func TestServeWeights(t *testing.T) {
	dir, sha := siteWeights(t, "e2e-site")
	srv := startServer(t, "-weights", dir)
	tb := newTab(t)
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.documentElement.dataset.state === "idle"`, time.Minute)
	tb.waitFor(`document.getElementById("model-card").textContent.includes("Weights")`, time.Minute)
	if card := eval[string](tb, `document.getElementById("model-card").textContent`); !strings.Contains(card, "e2e-site") || !strings.Contains(card, sha[0]) {
		t.Errorf("model card: got %q, want the weights e2e-site and levels %s", card, sha[0])
	}
	tb.scoreDemo()
	doc, got := tb.exportedResult()
	m := got.Model
	if m.Weights != "e2e-site" || m.Levels.SHA256 != sha[0] || m.Scores.SHA256 != sha[1] || !strings.Contains(got.Note, "e2e-site") {
		t.Errorf("JSON export's model: got %+v, note %q; want weights e2e-site, levels %s, scores %s", m, got.Note, sha[0], sha[1])
	}
	var card [][2]string
	if err := json.Unmarshal(doc["model_card"], &card); err != nil || !strings.Contains(string(doc["model_card"]), "e2e-site") {
		t.Errorf("JSON export's model card: got %s (%v), want it to name e2e-site", doc["model_card"], err)
	}
	want := cliResult(t, "--demo", "--weights", dir)
	if want.Model.Weights != m.Weights || want.Model.Levels.SHA256 != m.Levels.SHA256 || want.Model.Scores.SHA256 != m.Scores.SHA256 || want.Note != got.Note {
		t.Errorf("sscscore score --weights: got model %+v, the page %+v; want the same", want.Model, m)
	}
	compareResults(t, got, want)

	// A changed byte: the server refuses to start, naming the file.
	p := filepath.Join(dir, "scores.safetensors")
	b, _ := os.ReadFile(p)
	b[len(b)-3] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	out, err := exec.Command(serverBin, "-addr", "127.0.0.1:0", "-weights", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "scores.safetensors has SHA-256") || !strings.Contains(string(out), "refused") {
		t.Errorf("serve -weights with a changed byte: got %v, %q; want a refusal naming scores.safetensors", err, out)
	}
}

// TestPageWeights loads a weights folder in the page (the advanced
// option): the worker checks it and runs it in this tab, the demo's JSON
// export names it; a folder with a changed byte is refused with the
// reason and the networks in use stay.
func TestPageWeights(t *testing.T) {
	dir, sha := siteWeights(t, "page-site")
	var files []string
	for _, f := range []string{cascade.SumsFile, "levels.json", "levels.safetensors", "scores.json", "scores.safetensors", cascade.ModelCardFile} {
		files = append(files, filepath.Join(dir, f))
	}
	tb := newTab(t)
	tb.open()
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("weights-input"), files)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.getElementById("weights-status").textContent.startsWith("In use") || document.getElementById("weights-status").textContent.startsWith("Refused")`, time.Minute)
	if st := eval[string](tb, `document.getElementById("weights-status").textContent`); !strings.Contains(st, "page-site") || !strings.Contains(st, sha[1]) {
		t.Fatalf("weights status: got %q, want them in use, named page-site with scores %s", st, sha[1])
	}
	tb.scoreDemo()
	doc, got := tb.exportedResult()
	if got.Model.Weights != "page-site" || got.Model.Levels.SHA256 != sha[0] || !strings.Contains(string(doc["model_card"]), "page-site") {
		t.Errorf("JSON export: got model %+v, card %s; want page-site, levels %s", got.Model, doc["model_card"], sha[0])
	}

	p := filepath.Join(dir, "scores.safetensors")
	b, _ := os.ReadFile(p)
	b[100] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("weights-input"), files)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.getElementById("weights-status").textContent.startsWith("Refused")`, time.Minute)
	if st := eval[string](tb, `document.getElementById("weights-status").textContent`); !strings.Contains(st, "scores.safetensors has SHA-256") {
		t.Errorf("weights status: got %q, want a refusal naming scores.safetensors", st)
	}
	if card := eval[string](tb, `document.getElementById("model-card").textContent`); !strings.Contains(card, "page-site") {
		t.Errorf("model card after the refusal: got %q, want page-site still in use", card)
	}
}
