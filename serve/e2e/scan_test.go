package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sscscore/model/cascade"
	"sscscore/model/shareddata"
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
			t.Fatalf("filepath.WalkDir: got error %v, want nil", err)
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
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
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
	type measure struct {
		Name string  `json:"name"`
		MS   float64 `json:"ms"`
	}
	var slow []string
	for _, m := range eval[[]measure](tb, `performance.getEntriesByType("measure").filter(m => m.name.startsWith("sscscore ")).map(m => ({name: m.name, ms: m.duration}))`) {
		slow = append(slow, fmt.Sprintf("%s %.0f ms", strings.TrimPrefix(m.Name, "sscscore "), m.MS))
	}
	if len(slow) > 0 {
		tb.t.Logf("page events handled in 16 ms or more: %s", strings.Join(slow, ", "))
	}
	if longest > 200 {
		tb.t.Errorf("a main-thread task took %.0f ms (over 200 ms) during the scan: %v, want <= 200", longest, lt)
	}
}

// scoredAs checks the page after a scan of the folder dir was scored:
// five level lines, and the score table and the JSON export match the
// native tool's result for the same folder. It returns the browser's
// result.
func (tb *tab) scoredAs(dir string) *cascade.Result {
	tb.t.Helper()
	t := tb.t.(*testing.T)
	want := cliResult(t, dir)
	if n := eval[int](tb, `document.querySelectorAll("#level-lines .level-line").length`); n != 5 {
		t.Errorf("%d level lines, want 5", n)
	}
	tb.checkTable(want)
	_, got := tb.exportedResult()
	compareResults(t, got, want)
	return got
}

// TestDropA0002 drops the real CT A0002-B40f on the page: the series is
// read, the reformat shown, the five levels found within the reading
// tolerance of levels.csv, scores and exports equal to the native tool's;
// a level line moved with the keyboard is rescored to the cascade's value
// at its new slice; heat maps and windows redraw the images.
func TestDropA0002(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	tb.open()
	tb.drop([]string{dir})
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan ended in state %s: %s, want %q", s, eval[string](tb, `document.getElementById("error").textContent`), "done")
	}
	tb.checkResponsive()
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "B40f") || !strings.Contains(chosen, "30") {
		t.Errorf("chosen series row: got %q, want B40f with 30 slices", chosen)
	}
	if got := eval[string](tb, `document.getElementById("files-summary").textContent`); got != "30 files read; 30 files in the series used." {
		t.Errorf("files summary %q, want %q", got, "30 files read; 30 files in the series used.")
	}
	// The coronal reformat: 512 columns, 232 mm tall at 0.6465 mm a row.
	w, h := eval[int](tb, `document.getElementById("coronal").width`), eval[int](tb, `document.getElementById("coronal").height`)
	if w != 512 || h < 355 || h > 362 {
		t.Errorf("coronal canvas %dx%d, want 512x~360", w, h)
	}
	lungMean, lungStd := tb.canvasStats("coronal")
	if lungStd < 20 {
		t.Errorf("coronal reformat looks blank: grey std %.1f, want >= 20", lungStd)
	}
	if n := eval[int](tb, `document.querySelectorAll("#axials figure.axial").length`); n != 5 {
		t.Errorf("%d axial level slices, want 5", n)
	}
	tb.screenshot("02-a0002")

	got := tb.scoredAs(dir)
	// The levels where a reader put them (levels.csv), within the reader's
	// tolerance (8 mm); the CSV below must equal the native tool's.
	ref, tol := referenceLevels(t, "A0002-B40f")
	for i, l := range got.Levels {
		if l.ZMM == nil {
			t.Errorf("A0002 %s: got %s (%s), want it inside the scan (the reader placed it at z %.0f)", l.Name, l.Status, l.Message, ref[i])
			continue
		}
		d := *l.ZMM - ref[i]
		t.Logf("A0002 %s at z %.1f mm, the reader's %.0f mm: %+.1f mm", l.Name, *l.ZMM, ref[i], d)
		if math.Abs(d) > tol {
			t.Errorf("A0002 %s: got z %.1f mm (off by %+.1f mm), want the reader's %.0f ± %.0f mm", l.Name, *l.ZMM, d, ref[i], tol)
		}
	}
	// CSV as the native tool writes it (PatID: the series UID, the patient
	// not being asked for).
	csvOut := tb.export("export-csv")
	compareCSV(t, csvOut.Text, string(runCLI(t, "score", "--csv", "-q", "--patid", got.SeriesUID, dir)))

	// The mediastinal window shows the lungs black: the mean grey drops.
	if err := chromedp.Do(tb.ctx, chromedp.Click(`input[name="window"][value="mediastinum"]`)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	medMean, _ := tb.canvasStats("coronal")
	if medMean >= lungMean-10 {
		t.Errorf("mean grey %.1f in the mediastinal window, %.1f in the lung window, want < %v", medMean, lungMean, lungMean-10)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(`input[name="window"][value="lung"]`)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.checkHeatToggle()
	tb.checkOcclusion(got)

	// Move a scored level one slice down with the keyboard.
	lvl := -1
	for i, l := range got.Levels {
		if l.Status == cascade.StatusScored && *l.Slice+1 < 30 {
			lvl = i
			break
		}
	}
	if lvl < 0 {
		t.Fatalf("no scored level to move: got %v, want >= 0", lvl)
	}
	k := *got.Levels[lvl].Slice + 1
	name := got.Levels[lvl].Name
	seq := eval[string](tb, `document.documentElement.dataset.resultSeq`)
	if err := chromedp.Do(tb.ctx, chromedp.Focus("#level-"+name)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	if err := chromedp.Do(tb.ctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(fmt.Sprintf(`document.documentElement.dataset.resultSeq !== %q && document.getElementById("score-%s").textContent.includes("slice %d,")`, seq, name, k+1), 30*time.Second)
	tb.waitFor(fmt.Sprintf(`document.querySelector("#axial-%d figcaption").textContent.includes("slice %d,")`, lvl+1, k+1), 30*time.Second)
	if v := eval[string](tb, `document.getElementById("level-`+name+`").getAttribute("aria-valuenow")`); v != strconv.Itoa(k+1) {
		t.Errorf("%s line at %s after the move, want %d", name, v, k+1)
	}
	want := nativeRescore(t, dir, lvl, k)
	tb.setRounded(false)
	shown := tb.pageScores()[name]
	for i, w := range []*float64{want.TOT, want.GG, want.RET} {
		if w == nil || math.Abs(shown[i]-*w) > 0.05+tolScore {
			t.Errorf("%s moved to slice %d: got %v shown, want the cascade's Rescore %s/%s/%s", name, k, shown, fmtP(want.TOT), fmtP(want.GG), fmtP(want.RET))
			break
		}
	}
	_, moved := tb.exportedResult()
	ml := moved.Levels[lvl]
	if !ml.ReaderPlaced || ml.Slice == nil || *ml.Slice != k || !near(ml.TOT, want.TOT, tolScore) || !near(ml.GG, want.GG, tolScore) || !near(ml.RET, want.RET, tolScore) {
		t.Errorf("exported %s after the move: got %+v, want reader-placed at slice %d with Rescore's %s/%s/%s", name, ml, k, fmtP(want.TOT), fmtP(want.GG), fmtP(want.RET))
	}
	tb.screenshot("10-moved")
	tb.checkRequests()
}

// checkOcclusion asks for the occlusion map of a scored level, stops it,
// then lets it run to the end: it is shown, with its method chosen.
func (tb *tab) checkOcclusion(res *cascade.Result) {
	tb.t.Helper()
	level := 0
	for i, l := range res.Levels {
		if l.Status == cascade.StatusScored {
			level = i + 1
			break
		}
	}
	fig := fmt.Sprintf("#axial-%d", level)
	status := fig + " .explain-status"
	start := func() {
		if err := chromedp.Do(tb.ctx, chromedp.Click(fig+` button[data-method="occlusion"]`)); err != nil {
			tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
		}
	}
	start()
	tb.waitFor(`document.querySelector("`+status+`").textContent.includes("windows")`, time.Minute)
	clicked := eval[float64](tb, `(() => { const t = performance.now(); document.querySelector("`+fig+` .explain button:not([data-method])").click(); return t; })()`)
	tb.waitFor(`document.querySelector("`+status+`").textContent === "Stopped."`, 10*time.Second)
	stopped := eval[float64](tb, `performance.now()`)
	tb.t.Logf("occlusion map of L%d stopped in %.0f ms or less", level, stopped-clicked)
	if stopped-clicked > 1000 {
		tb.t.Errorf("stopping the occlusion map took %.0f ms, want <= 1000", stopped-clicked)
	}
	start()
	tb.waitFor(`document.querySelector("`+status+`").textContent === "Done."`, 3*time.Minute)
	if m := eval[string](tb, `document.getElementById("heat-method").value`); m != "occlusion" {
		tb.t.Errorf("heat map method %q after the occlusion map, want occlusion", m)
	}
	if eval[string](tb, `document.querySelector("`+fig+`").dataset.heat`) != "true" {
		tb.t.Error("occlusion map: got it hidden, want it shown")
	}
	tb.screenshot("11-occlusion")
	// Back to the fast map.
	if err := chromedp.Do(tb.ctx, chromedp.SetValue("#heat-method", "gradient")); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	eval[bool](tb, `(document.getElementById("heat-method").dispatchEvent(new Event("change")), true)`)
}

// checkHeatToggle checks the heat map overlay: with it on, the level
// slices' overlays hold more coloured pixels than the lung outline alone;
// off, only the outline; and the legend follows.
func (tb *tab) checkHeatToggle() {
	tb.t.Helper()
	painted := func() int {
		return eval[int](tb, `[...document.querySelectorAll("#axials canvas.overlay")].reduce((n, c) => {
		  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
		  return n; }, 0)`)
	}
	if eval[bool](tb, `document.getElementById("show-heat").disabled`) {
		tb.t.Fatal("heat map box: got disabled, want enabled (heat maps present)")
	}
	if !eval[bool](tb, `document.getElementById("show-heat").checked`) {
		tb.t.Error("heat map box: got unticked, want heat maps shown by default")
	}
	on := painted()
	if eval[bool](tb, `document.getElementById("heat-legend").hidden`) {
		tb.t.Error("heat maps shown: got the legend hidden, want it shown")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("show-heat"))); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	off := painted()
	if !eval[bool](tb, `document.getElementById("heat-legend").hidden`) {
		tb.t.Error("heat maps hidden: got the legend shown, want it hidden")
	}
	tb.t.Logf("overlay pixels: %d with heat maps, %d without (the outline)", on, off)
	if off < 500 || on <= off {
		tb.t.Errorf("overlay pixels: got %d with heat maps, %d without; want >= 500 without and more with", on, off)
	}
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("show-heat"))); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
}

// drop drops files and folders (paths on disk) on the page, as a drag from
// the file manager would.
func (tb *tab) drop(paths []string) {
	tb.t.Helper()
	data := &input.DragData{Files: paths, DragOperationsMask: 1, Items: []*input.DragDataItem{}}
	for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
		if _, err := chromedp.Call(tb.ctx, input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: 400, Y: 250, Data: data}); err != nil {
			tb.t.Fatalf("drag %s: got error %v, want nil", typ, err)
		}
	}
}

// mixedFolder makes a folder that holds the robustness corpus and
// A0002-B40f (hard links when the file system allows, copies otherwise; in a
// temporary directory, never in the repository). Chromium does not follow
// symbolic links inside a dropped folder.
func mixedFolder(t *testing.T) string {
	t.Helper()
	corpus := shareddata.Path(t, "robustness")
	a := shareddata.Path(t, "chest-ct/A0002-B40f")
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
			t.Fatalf("filepath.WalkDir: got error %v, want nil", err)
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
		t.Fatalf("scan ended in state %s: %s, want %q", s, eval[string](tb, `document.getElementById("error").textContent`), "done")
	}
	tb.checkResponsive()
	t.Logf("animation frames during the scan: %d, longest gap %.0f ms", eval[int](tb, `window.__frames`), eval[float64](tb, `window.__maxGap`))
	chosen := eval[string](tb, `document.querySelector("#series-table tr.chosen").innerText`)
	if !strings.Contains(chosen, "B40f") || !strings.Contains(chosen, "30") {
		t.Errorf("chosen series row %q, want A0002-B40f", chosen)
	}
	summary := eval[string](tb, `document.getElementById("files-summary").textContent`)
	if !strings.Contains(summary, "30 files in the series used") {
		t.Errorf("files summary: got %q, want \"30 files in the series used\"", summary)
	}
	reasons := eval[string](tb, `document.getElementById("files-reasons").innerText`)
	for _, want := range []string{"damaged", "truncated", "not DICOM", "not CT", "localizer"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons: got\n%s\nwant %q in them", reasons, want)
		}
	}
	// Each rejected file is listed with its own reason.
	list := eval[string](tb, `[...document.querySelectorAll("#files-list li")].map(li => li.textContent).join("\\n")`)
	for _, want := range []string{"GH179B.dcm: malformed DICOM", "GH626.dcm: truncated"} {
		if !strings.Contains(list, want) {
			t.Errorf("file list: got %q, want %q in it", list, want)
		}
	}
	// A0002 is scored as when dropped alone.
	tb.scoredAs(shareddata.Path(t, "chest-ct/A0002-B40f"))
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
	tb.checkCancelled(clicked, "while reading")
	tb.screenshot("04-cancelled")
	// The reader works again at once.
	tb.pick(filesUnder(t, shareddata.Path(t, "chest-ct/A0002-B40f")))
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan after Cancel ended in state %s, want %q", s, "done")
	}
	tb.checkRequests()
}

// TestCancelScoring cancels while the networks run: as soon as the page
// shows a stage of the cascade (finding levels, scoring) active, a script
// in the page clicks Cancel.
func TestCancelScoring(t *testing.T) {
	a := filesUnder(t, shareddata.Path(t, "chest-ct/A0002-B40f"))
	for _, stage := range []string{"levels", "score"} {
		tb := newTab(t)
		tb.open()
		eval[bool](tb, `(window.__cancelAt = 0, new MutationObserver(function (ms, obs) {
		  const li = document.querySelector('#stages li[data-stage="`+stage+`"]');
		  if (li && li.classList.contains("active") && !window.__cancelAt) {
		    window.__cancelAt = performance.now(); document.getElementById("cancel").click(); obs.disconnect();
		  }
		}).observe(document.getElementById("stages"), {subtree: true, attributes: true}), true)`)
		tb.pick(a)
		tb.waitFor(`window.__cancelAt > 0 || ["done", "error"].includes(document.documentElement.dataset.state)`, 2*time.Minute)
		clicked := eval[float64](tb, `window.__cancelAt`)
		if clicked == 0 {
			t.Fatalf("the scan ended before the %s stage was seen active, got %v, want != 0", stage, clicked)
		}
		tb.checkCancelled(clicked, "in the "+stage+" stage")
		if n := eval[int](tb, `document.querySelectorAll("#score-table tbody tr").length`); n != 0 {
			t.Errorf("cancel in the %s stage: %d score rows shown, want 0", stage, n)
		}
	}
}

// checkCancelled waits for the page to stop working after Cancel was
// clicked at page time clicked (ms), and checks it did within 1 s.
func (tb *tab) checkCancelled(clicked float64, when string) {
	tb.t.Helper()
	tb.waitFor(`document.documentElement.dataset.state !== "working"`, 10*time.Second)
	state := eval[string](tb, `document.documentElement.dataset.state`)
	var stopped float64
	fmt.Sscan(eval[string](tb, `document.documentElement.dataset.stateAt`), &stopped)
	tb.t.Logf("cancel %s took %.0f ms (state %s)", when, stopped-clicked, state)
	if state != "idle" {
		tb.t.Fatalf("after Cancel %s the state is %q, want idle", when, state)
	}
	if stopped-clicked > 1000 {
		tb.t.Errorf("Cancel %s took %.0f ms, more than 1 s, want <= 1000", when, stopped-clicked)
	}
	if !eval[bool](tb, `document.getElementById("report").hidden`) {
		tb.t.Errorf("after Cancel %s: got the results shown, want them hidden", when)
	}
}

// TestPrintReport checks the printable report: the controls are left out,
// the images, series, files and warnings stay, and the browser prints it to
// PDF.
func TestPrintReport(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	tb := newTab(t)
	tb.open()
	tb.pick(filesUnder(t, dir))
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("scan ended in state %s, want %q", s, "done")
	}
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatalf("chromedp.Call: got error %v, want nil", err)
	}
	shown := func(sel string) bool {
		return eval[bool](tb, `(() => { const e = document.querySelector("`+sel+`"); return !!e && getComputedStyle(e).display !== "none" && e.getClientRects().length > 0; })()`)
	}
	for _, sel := range []string{"#open", "#export", ".view-controls", "#series-more", "#files-details", "button"} {
		if shown(sel) {
			t.Errorf("print: got %s printed, want it hidden", sel)
		}
	}
	for _, sel := range []string{"#report", "#series-table", "#coronal", "#files-summary", ".badge", "#model-statement",
		"#score-table", "#axials canvas", "#heat-legend", "#level-lines .level-line"} {
		if !shown(sel) {
			t.Errorf("print: got %s hidden, want it printed", sel)
		}
	}
	tb.screenshot("09-print")
	pdf, err := chromedp.Run(tb.ctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4), chromedp.PDFPrintBackground()))
	if err != nil {
		t.Fatalf("chromedp.Run: got error %v, want nil", err)
	}
	if !strings.HasPrefix(string(pdf), "%PDF") || len(pdf) < 10000 {
		t.Errorf("PDF: got %d bytes (%.8q...), want %%PDF and at least 10000 bytes", len(pdf), pdf)
	}
	if err := os.WriteFile(filepath.Join(root, "out", "screenshots", "report.pdf"), pdf, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
}
