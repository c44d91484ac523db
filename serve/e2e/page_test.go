package e2e

import (
	"bufio"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sscscore/model/shareddata"
)

// TestLoad loads the app from the real server, under the headers it sends.
func TestLoad(t *testing.T) {
	tb := newTab(t)
	tb.open()
	tb.screenshot("01-start")
	if !eval[bool](tb, `self.crossOriginIsolated === true`) {
		t.Error("crossOriginIsolated: got false, want true (COOP/COEP)")
	}
	if ms := eval[string](tb, `document.documentElement.dataset.readyMs`); ms == "" {
		t.Errorf("no time to interactive recorded: got %v, want != %q", ms, "")
	} else {
		t.Logf("time to interactive: %s ms", ms)
	}
	for _, id := range []string{"pick-files", "pick-folder"} {
		if eval[bool](tb, `document.getElementById("`+id+`").disabled`) {
			t.Errorf("#%s once ready: got disabled, want enabled", id)
		}
	}
	// The demo button works exactly when the build has the demo.
	demoOff := eval[bool](tb, `document.getElementById("demo").disabled`)
	noteShown := !eval[bool](tb, `document.getElementById("demo-note").hidden`)
	if demoOff != noteShown {
		t.Errorf("demo: got disabled %v, its note shown %v; want both or neither", demoOff, noteShown)
	}
	tb.checkBuild()
	tb.checkRequests()
}

// TestAccessibility checks names, keyboard order, visible focus and
// contrast.
func TestAccessibility(t *testing.T) {
	tb := newTab(t)
	tb.open()
	tb.checkNames()
	// Tab order: the skip link, then the ways to open a scan; each focused
	// control shows a solid outline of at least 2 px.
	want := []string{"skip", "pick-files", "pick-folder"}
	for i, w := range want {
		if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatalf("chromedp.Do: got error %v, want nil", err)
		}
		got := eval[[]string](tb, `(() => { const e = document.activeElement, s = getComputedStyle(e);
		  return [e.id || e.className, s.outlineStyle, s.outlineWidth]; })()`)
		if got[0] != w {
			t.Errorf("tab stop %d is %q, want %q", i+1, got[0], w)
		}
		px, _ := strconv.ParseFloat(strings.TrimSuffix(got[2], "px"), 64)
		if got[1] != "solid" || px < 2 {
			t.Errorf("focus on %s: outline %s %s, want solid and at least 2px", got[0], got[1], got[2])
		}
		if w == "pick-folder" {
			tb.screenshot("06-focus")
		}
	}
	// Text contrast of the main text styles, WCAG AA (4.5:1).
	low := eval[[]string](tb, `(() => {
	  const lum = c => { const v = c.match(/[\d.]+/g).slice(0, 3).map(Number).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
	    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
	  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; if (!/rgba\(.*, 0\)|transparent/.test(c)) return c; } return "rgb(255,255,255)"; };
	  const out = [];
	  for (const sel of ["h1", ".tagline", ".badge", ".drop-main", ".drop-sub", ".privacy", "#pick-files", "#demo:not(:disabled)", ".app-status", ".bottom p"]) {
	    const el = document.querySelector(sel); if (!el) continue;
	    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
	    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
	    if (ratio < 4.5) out.push(sel + " " + ratio.toFixed(2));
	  }
	  return out;
	})()`)
	if len(low) > 0 {
		t.Errorf("text below 4.5:1 contrast: %q, got %v, want <= 0", low, len(low))
	}
}

// checkNames fails the test if a visible control has no accessible name.
func (tb *tab) checkNames() {
	tb.t.Helper()
	unnamed := eval[[]string](tb, `(() => {
	  const out = [];
	  for (const el of document.querySelectorAll("button, input, select, textarea, [role=slider], canvas[role=img]")) {
	    if (el.hidden || el.closest("[hidden]") || el.type === "file") continue;
	    const name = (el.getAttribute("aria-label") || (el.labels && [...el.labels].map(l => l.textContent).join(" ")) ||
	      el.textContent || el.getAttribute("title") || "").trim();
	    if (!name) out.push(el.outerHTML.slice(0, 80));
	  }
	  return out;
	})()`)
	if len(unnamed) > 0 {
		tb.t.Errorf("controls without a name: %q, got %v, want <= 0", unnamed, len(unnamed))
	}
}

// TestOffline visits the app once, stops its server, and scans A0002 from
// the service worker's cache.
func TestOffline(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	// A server of its own, to stop.
	srv := exec.Command(serverBin, "-addr", "127.0.0.1:0", "-log=false")
	out, err := srv.StdoutPipe()
	if err != nil {
		t.Fatalf("srv.StdoutPipe: got error %v, want nil", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("srv.Start: got error %v, want nil", err)
	}
	defer srv.Process.Kill()
	line, _ := bufio.NewReader(out).ReadString('\n')
	u := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	if u == "" {
		t.Fatalf("no address in %q, got %v, want != %q", line, u, "")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(u+"/")); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.documentElement.dataset.state === "idle"`, time.Minute)
	// Wait until the service worker has cached this build and is active.
	eval[bool](tb, `navigator.serviceWorker.ready.then(() => true)`)
	tb.waitFor(`navigator.serviceWorker.controller !== null`, time.Minute)
	srv.Process.Signal(syscall.SIGTERM)
	srv.Wait()
	// Offline now: reload, and scan.
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.documentElement.dataset.state === "idle"`, time.Minute)
	tb.pick(filesUnder(t, dir))
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 2*time.Minute)
	if s := eval[string](tb, `document.documentElement.dataset.state`); s != "done" {
		t.Fatalf("offline scan ended in state %s: %s, want %q", s, eval[string](tb, `document.getElementById("error").textContent`), "done")
	}
	if rows := eval[int](tb, `document.getElementById("coronal").height`); rows < 100 {
		t.Errorf("offline: coronal reformat of %d rows, want >= 100", rows)
	}
	tb.screenshot("05-offline")
}
