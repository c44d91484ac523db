package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
	"sscscore/model/shareddata"
)

// The browser runs the cascade compiled to WebAssembly, the command-line
// tool the same Go code natively, with the same embedded weights. Both
// read the same DICOM files the same way, so they agree up to the last
// bits of floating-point arithmetic: WebAssembly SIMD and the native
// kernels (AVX, or scalar) sum in different orders, and float32 results
// differ in the last bits. Through two networks that becomes at most a few
// thousandths of a score point or a millimetre. The tolerances below (0.05
// score points, 0.1 mm, 0.01 confidence) are far below anything a reader
// could see (scores are read in steps of 5) yet catch any real difference
// (another slice, another preprocessing, other weights).
const (
	tolScore = 0.05 // score points
	tolMM    = 0.1  // mm
	tolConf  = 0.01
	// tolCSV allows for the CSV's one decimal: two values within tolScore
	// can round to neighbouring tenths.
	tolCSV = 0.1 + 1e-9
)

var (
	cliMu    sync.Mutex
	cliCache = map[string][]byte{}
)

// runCLI runs the native `sscscore` with args and returns its standard
// output (cached: the tool is deterministic).
func runCLI(t testing.TB, args ...string) []byte {
	t.Helper()
	if cliErr != nil {
		t.Fatalf("got error %v, want nil", cliErr)
	}
	key := strings.Join(args, "\x00")
	cliMu.Lock()
	defer cliMu.Unlock()
	if out, ok := cliCache[key]; ok {
		return out
	}
	cmd := exec.Command(cliBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sscscore %s: got error %v, want nil\n%s", strings.Join(args, " "), err, stderr.String())
	}
	cliCache[key] = out
	return out
}

// cliResult runs `sscscore score --json args...`.
func cliResult(t *testing.T, args ...string) *cascade.Result {
	t.Helper()
	var r cascade.Result
	if err := json.Unmarshal(runCLI(t, append([]string{"score", "--json", "-q"}, args...)...), &r); err != nil {
		t.Fatalf("json.Unmarshal: got error %v, want nil", err)
	}
	return &r
}

// downloadHook records the files the page offers for download (the
// anchor it clicks carries the Blob URL and the file name; the Blob is
// kept when its URL is made), so the test can read what the user would
// save. (The page's CSP lets nothing fetch a blob: URL.)
const downloadHook = `(() => {
  if (window.__downloads) return true;
  window.__downloads = [];
  window.__blobs = {};
  const make = URL.createObjectURL;
  URL.createObjectURL = function (b) { const u = make.call(URL, b); window.__blobs[u] = b; return u; };
  const click = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function () {
    if (this.download) window.__downloads.push({name: this.download, href: this.href});
    return click.call(this);
  };
  return true;
})()`

// download is a file the page offered.
type download struct {
	Name string `json:"name"`
	Href string `json:"href"`
	Text string `json:"text"`
}

// export clicks an export button and returns the file it offers.
func (tb *tab) export(button string) download {
	tb.t.Helper()
	eval[bool](tb, downloadHook)
	n := eval[int](tb, `window.__downloads.length`)
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID(button))); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(fmt.Sprintf(`window.__downloads.length > %d`, n), 30*time.Second)
	d := eval[download](tb, fmt.Sprintf(`(async () => { const d = window.__downloads[%d]; return {name: d.name, href: d.href, text: await window.__blobs[d.href].text()}; })()`, n))
	if !strings.HasPrefix(d.Href, "blob:") {
		tb.t.Errorf("download %s: got it from %s, want a local blob: URL", d.Name, d.Href)
	}
	return d
}

// exportedResult exports the JSON report and returns it with its result.
func (tb *tab) exportedResult() (map[string]json.RawMessage, *cascade.Result) {
	tb.t.Helper()
	d := tb.export("export-json")
	if !strings.HasSuffix(d.Name, ".json") {
		tb.t.Errorf("JSON export: got name %q, want *.json", d.Name)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(d.Text), &doc); err != nil {
		tb.t.Fatalf("JSON export: got error %v, want nil\n%s", err, d.Text)
	}
	var res cascade.Result
	if err := json.Unmarshal(doc["result"], &res); err != nil {
		tb.t.Fatalf("JSON export's result: got error %v, want nil", err)
	}
	return doc, &res
}

func near(a, b *float64, tol float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return math.Abs(*a-*b) <= tol
}

func fmtP(v *float64) string {
	if v == nil {
		return "nil"
	}
	return strconv.FormatFloat(*v, 'f', 4, 64)
}

// compareResults fails the test unless got (the browser's) matches want
// (the native tool's) within the tolerances.
func compareResults(t *testing.T, got, want *cascade.Result) {
	t.Helper()
	if got.SeriesUID != want.SeriesUID || got.Model != want.Model || got.Note != want.Note {
		t.Errorf("provenance: got %s %+v (browser), want %s %+v (CLI)", got.SeriesUID, got.Model, want.SeriesUID, want.Model)
	}
	if len(got.Levels) != len(want.Levels) {
		t.Fatalf("levels: got %d (browser), want %d (CLI)", len(got.Levels), len(want.Levels))
	}
	for i, g := range got.Levels {
		w := want.Levels[i]
		if g.Name != w.Name || g.Status != w.Status || g.Outside != w.Outside || (g.Slice == nil) != (w.Slice == nil) ||
			(g.Slice != nil && *g.Slice != *w.Slice) || fmt.Sprint(g.Slices) != fmt.Sprint(w.Slices) || g.ReaderPlaced != w.ReaderPlaced {
			t.Errorf("%s: got %s slice %v (%v) (browser), want %s slice %v (%v) (CLI)", g.Name, g.Status, g.Slice, g.Slices, w.Status, w.Slice, w.Slices)
		}
		if !near(g.ZMM, w.ZMM, tolMM) || math.Abs(g.EstimateZMM-w.EstimateZMM) > tolMM || math.Abs(g.Confidence-w.Confidence) > tolConf {
			t.Errorf("%s: got z %s estimate %.3f conf %.3f (browser), want z %s estimate %.3f conf %.3f (CLI)", g.Name,
				fmtP(g.ZMM), g.EstimateZMM, g.Confidence, fmtP(w.ZMM), w.EstimateZMM, w.Confidence)
		}
		if !near(g.TOT, w.TOT, tolScore) || !near(g.GG, w.GG, tolScore) || !near(g.RET, w.RET, tolScore) {
			t.Errorf("%s: got TOT/GG/RET %s/%s/%s (browser), want %s/%s/%s (CLI)", g.Name, fmtP(g.TOT), fmtP(g.GG), fmtP(g.RET), fmtP(w.TOT), fmtP(w.GG), fmtP(w.RET))
		}
	}
	if got.Mean.Levels != want.Mean.Levels || !near(got.Mean.TOT, want.Mean.TOT, tolScore) || !near(got.Mean.GG, want.Mean.GG, tolScore) || !near(got.Mean.RET, want.Mean.RET, tolScore) {
		t.Errorf("whole lung: got %d levels %s/%s/%s (browser), want %d levels %s/%s/%s (CLI)", got.Mean.Levels, fmtP(got.Mean.TOT), fmtP(got.Mean.GG), fmtP(got.Mean.RET),
			want.Mean.Levels, fmtP(want.Mean.TOT), fmtP(want.Mean.GG), fmtP(want.Mean.RET))
	}
	if strings.Join(got.Warnings, "|") != strings.Join(want.Warnings, "|") {
		t.Errorf("warnings: got %q (browser), want %q (CLI)", got.Warnings, want.Warnings)
	}
	// The source (the study, the level slices' SOP instances: what a DICOM
	// SR of the result refers to) is the same.
	g, _ := json.Marshal(got.Source)
	w, _ := json.Marshal(want.Source)
	if string(g) != string(w) || got.Source == nil {
		t.Errorf("source: got %s (browser), want %s (CLI)", g, w)
	}
}

// compareCSV fails the test unless two CSV files in the paper's layout
// have the same header and cells (numbers within tolCSV).
func compareCSV(t *testing.T, got, want string) {
	t.Helper()
	g, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("browser CSV: got error %v, want nil\n%s", err, got)
	}
	w, err := csv.NewReader(strings.NewReader(want)).ReadAll()
	if err != nil {
		t.Fatalf("CLI CSV: got error %v, want nil\n%s", err, want)
	}
	if len(g) != len(w) || len(g) != 2 || strings.Join(g[0], ",") != strings.Join(w[0], ",") || len(g[1]) != len(w[1]) {
		t.Fatalf("CSV layout: got (browser)\n%s\nwant (CLI)\n%s", got, want)
	}
	for i := range g[1] {
		a, b := g[1][i], w[1][i]
		if a == b {
			continue
		}
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if err1 != nil || err2 != nil || math.Abs(x-y) > tolCSV {
			t.Errorf("CSV column %s: got %q (browser), want %q (CLI)", g[0][i], a, b)
		}
	}
}

// pageScores reads the score table as shown (raw, one decimal) by level
// ("L1".."L5", "Whole lung"): TOT, GG, RET, NaN for a dash.
func (tb *tab) pageScores() map[string][3]float64 {
	tb.t.Helper()
	rows := eval[[][]string](tb, `[...document.querySelectorAll("#score-table tbody tr, #score-table tfoot tr")].map(tr => [...tr.children].map(c => c.textContent))`)
	out := map[string][3]float64{}
	for _, r := range rows {
		if len(r) != 5 {
			tb.t.Fatalf("score row %q, got %v, want 5", r, len(r))
		}
		var v [3]float64
		for i, c := range r[2:] {
			x, err := strconv.ParseFloat(c, 64)
			if err != nil {
				x = math.NaN()
			}
			v[i] = x
		}
		out[r[0]] = v
	}
	return out
}

// setRounded ticks or unticks "Round to steps of 5".
func (tb *tab) setRounded(on bool) {
	tb.t.Helper()
	if eval[bool](tb, `document.getElementById("rounded").checked`) != on {
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("rounded"))); err != nil {
			tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
		}
	}
}

// checkTable fails the test unless the score table (raw, one decimal)
// shows res within the display's rounding.
func (tb *tab) checkTable(res *cascade.Result) {
	tb.t.Helper()
	tb.setRounded(false)
	shown := tb.pageScores()
	check := func(name string, tot, gg, ret *float64) {
		got, ok := shown[name]
		if !ok {
			tb.t.Errorf("score table: got no %s row, want one", name)
			return
		}
		for i, w := range []*float64{tot, gg, ret} {
			if w == nil {
				if !math.IsNaN(got[i]) {
					tb.t.Errorf("%s: got %v for a score not computed, want a dash", name, got[i])
				}
				continue
			}
			if math.Abs(got[i]-*w) > 0.05+tolScore {
				tb.t.Errorf("%s: got %v shown, want %.3f ± %v (the result)", name, got[i], *w, 0.05+tolScore)
			}
		}
	}
	for _, l := range res.Levels {
		check(l.Name, l.TOT, l.GG, l.RET)
	}
	check("Whole lung", res.Mean.TOT, res.Mean.GG, res.Mean.RET)
	tb.setRounded(true)
	rounded := tb.pageScores()
	for _, l := range res.Levels {
		if l.Rounded != nil && rounded[l.Name] != [3]float64{float64(l.Rounded.TOT), float64(l.Rounded.GG), float64(l.Rounded.RET)} {
			tb.t.Errorf("%s rounded: got %v shown, want %+v (the result)", l.Name, rounded[l.Name], *l.Rounded)
		}
	}
}

// referenceLevels returns the z (mm) of the five levels of a series read
// by eye (chest-ct/levels.csv) and the reading tolerance.
func referenceLevels(t *testing.T, series string) ([5]float64, float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(shareddata.Path(t, "chest-ct"), "levels.csv"))
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("csv.NewReader(f).ReadAll: got error %v, want nil", err)
	}
	for _, r := range rows[1:] {
		if r[0] != series {
			continue
		}
		var z [5]float64
		for i := range z {
			z[i], _ = strconv.ParseFloat(r[1+i], 64)
		}
		tol, _ := strconv.ParseFloat(r[6], 64)
		return z, tol
	}
	t.Fatalf("levels.csv: got no row for %s, want one", series)
	return [5]float64{}, 0
}

// nativeRescore scores level (0-4) at slice k of the chosen series of dir
// natively, as the browser's move does.
func nativeRescore(t *testing.T, dir string, level, k int) cascade.LevelResult {
	t.Helper()
	log.SetOutput(io.Discard)
	defer log.SetOutput(os.Stderr)
	files, err := ingest.DiskFiles(dir)
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
	c, err := cascade.Default()
	if err != nil {
		t.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	lr, err := c.Rescore(context.Background(), lv, level, k)
	if err != nil {
		t.Fatalf("c.Rescore: got error %v, want nil", err)
	}
	return lr
}

// buildJSON is the build as `sscscore version --json` prints it.
type buildJSON struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// cliBuild runs `sscscore version --json`.
func cliBuild(t testing.TB) buildJSON {
	t.Helper()
	var b buildJSON
	if err := json.Unmarshal(runCLI(t, "version", "--json"), &b); err != nil {
		t.Fatalf("sscscore version --json: got error %v, want nil", err)
	}
	if b.Version == "" || b.Commit == "" {
		t.Fatalf("sscscore version --json = %+v, want a version and a commit", b)
	}
	return b
}

// checkBuild checks that the page names the build `sscscore version`
// names (version and commit): in its footer, and in the model card.
func (tb *tab) checkBuild() {
	tb.t.Helper()
	want := cliBuild(tb.t)
	got := eval[buildJSON](tb, `(() => { const v = document.getElementById("version"); return {version: v.dataset.version, commit: v.dataset.commit}; })()`)
	if got != want {
		tb.t.Errorf("the page's build = %+v, want %+v (sscscore version; rebuild the wasm with ./build.sh wasm if the tree changed)", got, want)
	}
	text := eval[string](tb, `document.getElementById("version").textContent`)
	if short := want.Commit[:min(12, len(want.Commit))]; !strings.Contains(text, want.Version) || !strings.Contains(text, short) {
		tb.t.Errorf("the page's footer names build %q, want %s and %s", text, want.Version, short)
	}
	card := eval[string](tb, `document.getElementById("model-card").textContent`)
	if !strings.Contains(card, want.Version) || !strings.Contains(card, want.Commit) {
		tb.t.Errorf("model card %q, want build %s, commit %s", card, want.Version, want.Commit)
	}
}

// checkReportBuild checks that the JSON export (its app and the result's
// model) and the printed report name the build `sscscore version` names.
func (tb *tab) checkReportBuild(doc map[string]json.RawMessage, res *cascade.Result) {
	tb.t.Helper()
	want := cliBuild(tb.t)
	var app buildJSON
	if err := json.Unmarshal(doc["app"], &app); err != nil {
		tb.t.Fatalf("JSON export's app: got error %v, want nil", err)
	}
	if app != want {
		tb.t.Errorf("JSON export's app = %+v, want %+v (sscscore version)", app, want)
	}
	if got := (buildJSON{res.Model.Build.Version, res.Model.Build.Commit}); got != want {
		tb.t.Errorf("JSON export's result.model.build = %+v, want %+v (sscscore version)", got, want)
	}
	footer := eval[string](tb, `window.dispatchEvent(new Event("beforeprint")), document.getElementById("print-footer").textContent`)
	if !strings.Contains(footer, want.Version) || !strings.Contains(footer, want.Commit) {
		tb.t.Errorf("printed report's footer %q, want build %s, commit %s", footer, want.Version, want.Commit)
	}
}
