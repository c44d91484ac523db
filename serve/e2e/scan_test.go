package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// filesUnder lists the regular files under dir, sorted.
func filesUnder(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

// pick gives files to the page through the "Choose files" input, as a
// keyboard user would.
func (tb *tab) pick(files []string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.ID("file-input"), files)); err != nil {
		tb.t.Fatal(err)
	}
}

// scan waits for the running scan to end and returns its final state.
func (tb *tab) scanEnd() string {
	tb.t.Helper()
	tb.waitFor(`["done","error"].includes(document.documentElement.dataset.state)`, 3*time.Minute)
	return eval[string](tb, `document.documentElement.dataset.state`)
}

// canvasStats returns the mean and standard deviation of the grey level of
// a canvas.
func (tb *tab) canvasStats(id string) (mean, std float64) {
	tb.t.Helper()
	v := eval[[]float64](tb, `(() => {
	  const c = document.getElementById("`+id+`"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
	  let s = 0, s2 = 0, n = d.length / 4;
	  for (let i = 0; i < d.length; i += 4) { s += d[i]; s2 += d[i] * d[i]; }
	  return [s / n, Math.sqrt(Math.max(0, s2 / n - (s / n) * (s / n)))];
	})()`)
	return v[0], v[1]
}

// checkResponsive fails the test if a main-thread task took more than 200
// ms during the last job, from the moment the page received the files (the
// browser's own handling of the test's file selection or drop comes before
// and is not the app's).
func (tb *tab) checkResponsive() {
	tb.t.Helper()
	var since float64
	fmt.Sscan(eval[string](tb, `document.documentElement.dataset.jobAt`), &since)
	lt := tb.longTasks(since)
	longest := 0.0
	for _, ms := range lt {
		longest = max(longest, ms)
	}
	tb.t.Logf("main-thread long tasks during the scan: %d, longest %.0f ms", len(lt), longest)
	if longest > 200 {
		tb.t.Errorf("a main-thread task took %.0f ms (over 200 ms) during the scan: %v", longest, lt)
	}
}

// scoringAvailable reports whether the build scores scans.
func (tb *tab) scoringAvailable() bool {
	return !strings.Contains(eval[string](tb, `document.getElementById("scoring-status").textContent`), "not available")
}

func TestPickA0002(t *testing.T) {
	dir := needTestdata(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	tb.open()
	tb.pick(filesUnder(t, dir))
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan ended in state %s: %s", s, eval[string](tb, `document.getElementById("error").textContent`))
	}
	tb.checkResponsive()
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "B40f") || !strings.Contains(chosen, "30") {
		t.Errorf("chosen series row %q", chosen)
	}
	if got := eval[string](tb, `document.getElementById("files-summary").textContent`); got != "30 files read; 30 files in the series used." {
		t.Errorf("files summary %q", got)
	}
	// The coronal reformat: 512 columns, 232 mm tall at 0.6465 mm a row.
	w, h := eval[int](tb, `document.getElementById("coronal").width`), eval[int](tb, `document.getElementById("coronal").height`)
	if w != 512 || h < 355 || h > 362 {
		t.Errorf("coronal canvas %dx%d, want 512x~360", w, h)
	}
	lungMean, lungStd := tb.canvasStats("coronal")
	if lungStd < 20 {
		t.Errorf("coronal reformat looks blank: grey std %.1f", lungStd)
	}
	tb.screenshot("02-a0002")
	// The mediastinal window shows the lungs black: the mean grey drops.
	if err := chromedp.Do(tb.ctx, chromedp.Click(`input[name="window"][value="mediastinum"]`)); err != nil {
		t.Fatal(err)
	}
	medMean, _ := tb.canvasStats("coronal")
	if medMean >= lungMean-10 {
		t.Errorf("mean grey %.1f in the mediastinal window, %.1f in the lung window", medMean, lungMean)
	}
	if !tb.scoringAvailable() {
		if n := eval[int](tb, `document.querySelectorAll("#score-table tbody tr").length`); n != 0 {
			t.Errorf("%d score rows shown although scoring is not available", n)
		}
		if eval[bool](tb, `!document.getElementById("export-csv").disabled`) {
			t.Error("CSV export enabled without scores")
		}
	}
	tb.checkRequests()
}

// drop drops files and folders (paths on disk) on the page, as a drag from
// the file manager would.
func (tb *tab) drop(paths []string) {
	tb.t.Helper()
	data := &input.DragData{Files: paths, DragOperationsMask: 1, Items: []*input.DragDataItem{}}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(tb.ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: 400, Y: 250, Data: data}); err != nil {
			tb.t.Fatalf("drag %s: %v", typ, err)
		}
	}
}

// mixedFolder makes a folder that holds the robustness corpus and
// A0002-B40f (hard links when the file system allows, copies otherwise; in a
// temporary directory, never in the repository). Chromium does not follow
// symbolic links inside a dropped folder.
func mixedFolder(t *testing.T) string {
	t.Helper()
	corpus := needTestdata(t, "robustness")
	a := needTestdata(t, "chest-ct/A0002-B40f")
	dir := filepath.Join(t.TempDir(), "patient-folder")
	for name, src := range map[string]string{"corpus": corpus, "A0002": a} {
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			dst := filepath.Join(dir, name, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if os.Link(p, dst) == nil {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDropMixedFolder(t *testing.T) {
	dir := mixedFolder(t)
	tb := newTab(t)
	tb.open()
	// Count animation frames during the scan: the page keeps drawing.
	eval[bool](tb, `(window.__frames = 0, window.__maxGap = 0, (function tick(last) { requestAnimationFrame(t => { window.__frames++; if (last) window.__maxGap = Math.max(window.__maxGap, t - last); tick(t); }); })(0), true)`)
	tb.drop([]string{dir})
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan ended in state %s: %s", s, eval[string](tb, `document.getElementById("error").textContent`))
	}
	tb.checkResponsive()
	t.Logf("animation frames during the scan: %d, longest gap %.0f ms", eval[int](tb, `window.__frames`), eval[float64](tb, `window.__maxGap`))
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "B40f") || !strings.Contains(chosen, "30") {
		t.Errorf("chosen series row %q, want A0002-B40f", chosen)
	}
	summary := eval[string](tb, `document.getElementById("files-summary").textContent`)
	if !strings.Contains(summary, "30 files in the series used") {
		t.Errorf("files summary %q", summary)
	}
	reasons := eval[string](tb, `document.getElementById("files-reasons").innerText`)
	for _, want := range []string{"damaged", "truncated", "not DICOM", "not CT", "localizer"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("the reasons do not mention %q:\n%s", want, reasons)
		}
	}
	// Each rejected file is listed with its own reason.
	list := eval[string](tb, `[...document.querySelectorAll("#files-list li")].map(li => li.textContent).join("\\n")`)
	for _, want := range []string{"GH179B.dcm: malformed DICOM", "GH626.dcm: truncated"} {
		if !strings.Contains(list, want) {
			t.Errorf("the file list lacks %q", want)
		}
	}
	tb.screenshot("03-mixed")
	tb.checkRequests()
}

func TestCancel(t *testing.T) {
	dir := mixedFolder(t)
	tb := newTab(t)
	tb.open()
	tb.drop([]string{dir})
	tb.waitFor(`document.documentElement.dataset.state === "working" && document.querySelector("#stages li.active, #stages li.done") !== null`, time.Minute)
	clicked := eval[float64](tb, `(() => { const t = performance.now(); document.getElementById("cancel").click(); return t; })()`)
	tb.waitFor(`document.documentElement.dataset.state !== "working"`, 10*time.Second)
	state := eval[string](tb, `document.documentElement.dataset.state`)
	at := eval[string](tb, `document.documentElement.dataset.stateAt`)
	var stopped float64
	fmt.Sscan(at, &stopped)
	t.Logf("cancel took %.0f ms (state %s)", stopped-clicked, state)
	if state != "idle" {
		t.Fatalf("after Cancel the state is %q, want idle", state)
	}
	if stopped-clicked > 1000 {
		t.Errorf("Cancel took %.0f ms, more than 1 s", stopped-clicked)
	}
	if !eval[bool](tb, `document.getElementById("report").hidden`) {
		t.Error("results shown after Cancel")
	}
	tb.screenshot("04-cancelled")
	// The reader works again at once.
	tb.pick(filesUnder(t, needTestdata(t, "chest-ct/A0002-B40f")))
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan after Cancel ended in state %s", s)
	}
	tb.checkRequests()
}

// TestPrintReport checks the printable report: the controls are left out,
// the images, series, files and warnings stay, and the browser prints it to
// PDF.
func TestPrintReport(t *testing.T) {
	dir := needTestdata(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	tb.open()
	tb.pick(filesUnder(t, dir))
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan ended in state %s", s)
	}
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	shown := func(sel string) bool {
		return eval[bool](tb, `(() => { const e = document.querySelector("`+sel+`"); return !!e && getComputedStyle(e).display !== "none" && e.getClientRects().length > 0; })()`)
	}
	for _, sel := range []string{"#open", "#export", ".view-controls", "#series-more", "#files-details", "button"} {
		if shown(sel) {
			t.Errorf("%s is printed", sel)
		}
	}
	for _, sel := range []string{"#report", "#series-table", "#coronal", "#files-summary", ".badge", "#model-statement"} {
		if !shown(sel) {
			t.Errorf("%s is not printed", sel)
		}
	}
	tb.screenshot("09-print")
	pdf, err := chromedp.Run(tb.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF") || len(pdf) < 10000 {
		t.Errorf("PDF of %d bytes", len(pdf))
	}
	if err := os.WriteFile(filepath.Join(root, "out", "screenshots", "report.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}
