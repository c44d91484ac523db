package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDemo runs the built-in demo scan: the phantom's demo case is made in
// the worker and read like dropped files.
func TestDemo(t *testing.T) {
	tb := newTab(t)
	tb.open()
	if eval[bool](tb, `document.getElementById("demo").disabled`) {
		t.Fatalf("the demo is not available: %s", eval[string](tb, `document.getElementById("demo-note").textContent`))
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("demo"))); err != nil {
		t.Fatal(err)
	}
	// Progress shows while the demo is made.
	tb.waitFor(`document.querySelector('#stages li[data-stage="read"] .stage-count').textContent.includes("demo slices")`, time.Minute)
	tb.screenshot("07-demo-progress")
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 4*time.Minute)
	if s := eval[string](tb, `document.documentElement.dataset.state`); s != "done" {
		t.Fatalf("demo ended in state %s: %s", s, eval[string](tb, `document.getElementById("error").textContent`))
	}
	tb.checkResponsive()
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "phantom") {
		t.Errorf("chosen series %q is not the phantom", chosen)
	}
	if _, std := tb.canvasStats("coronal"); std < 20 {
		t.Errorf("demo coronal reformat looks blank (grey std %.1f)", std)
	}
	tb.screenshot("08-demo")
	if !tb.scoringAvailable() {
		if n := eval[int](tb, `document.querySelectorAll("#score-table tbody tr").length`); n != 0 {
			t.Errorf("%d score rows shown although scoring is not available", n)
		}
	}
	tb.checkRequests()
}
