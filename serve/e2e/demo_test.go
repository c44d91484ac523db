package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDemo runs the built-in demo scan (the phantom's demo case, made in
// the worker and read like dropped files): five levels and their scores
// appear and equal `sscscore score --demo --json`; the exports equal the
// native tool's; the patient shows on screen and in exports only when
// ticked.
func TestDemo(t *testing.T) {
	tb := newTab(t)
	tb.open()
	if eval[bool](tb, `document.getElementById("demo").disabled`) {
		t.Fatalf("demo button: got disabled (%s), want it available", eval[string](tb, `document.getElementById("demo-note").textContent`))
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("demo"))); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	// Progress shows while the demo is made.
	tb.waitFor(`document.querySelector('#stages li[data-stage="read"] .stage-count').textContent.includes("demo slices")`, time.Minute)
	tb.screenshot("07-demo-progress")
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 4*time.Minute)
	if s := eval[string](tb, `document.documentElement.dataset.state`); s != "done" {
		t.Fatalf("demo ended in state %s: %s, want %q", s, eval[string](tb, `document.getElementById("error").textContent`), "done")
	}
	tb.checkResponsive()
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "phantom") {
		t.Errorf("chosen series: got %q, want the phantom", chosen)
	}
	if _, std := tb.canvasStats("coronal"); std < 20 {
		t.Errorf("demo coronal reformat looks blank (grey std %.1f), want >= 20", std)
	}
	if n := eval[int](tb, `document.querySelectorAll("#level-lines .level-line").length`); n != 5 {
		t.Errorf("%d level lines, want 5", n)
	}
	want := cliResult(t, "--demo")
	tb.checkTable(want)
	tb.screenshot("08-demo")
	tb.elementScreenshot("#images", "08-demo-images")

	// The patient: not shown, not exported, until ticked.
	if !eval[bool](tb, `document.getElementById("patient").hidden`) {
		t.Error("box not ticked: got the patient shown, want it hidden")
	}
	doc, got := tb.exportedResult()
	compareResults(t, got, want)
	tb.checkReportBuild(doc, got)
	if _, ok := doc["patient"]; ok {
		t.Errorf("box not ticked: got the patient %s in the JSON export, want none", doc["patient"])
	}
	for _, k := range []string{"format", "app", "created", "statement", "input", "model_card"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON export: got no %q, want it", k)
		}
	}
	csvOut := tb.export("export-csv")
	if !strings.HasSuffix(csvOut.Name, ".csv") {
		t.Errorf("CSV export: got name %q, want *.csv", csvOut.Name)
	}
	compareCSV(t, csvOut.Text, string(runCLI(t, "score", "--csv", "-q", "--demo", "--patid", got.SeriesUID)))

	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("include-patient"))); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	if p := eval[string](tb, `document.getElementById("patient").textContent`); eval[bool](tb, `document.getElementById("patient").hidden`) || !strings.Contains(p, "SSCSCORE-DEMO") {
		t.Errorf("box ticked: got patient line %q (hidden %v), want it shown with SSCSCORE-DEMO", p, eval[bool](tb, `document.getElementById("patient").hidden`))
	}
	doc, _ = tb.exportedResult()
	var pt struct{ ID string }
	if err := json.Unmarshal(doc["patient"], &pt); err != nil || pt.ID != "SSCSCORE-DEMO" {
		t.Errorf("patient in the JSON export: got %s (%v), want ID SSCSCORE-DEMO", doc["patient"], err)
	}
	// With the patient, the CSV is exactly the native tool's default.
	compareCSV(t, tb.export("export-csv").Text, string(runCLI(t, "score", "--csv", "-q", "--demo")))
	tb.checkHeatToggle()
	tb.checkNames() // the result's controls too
	tb.checkRequests()
}
