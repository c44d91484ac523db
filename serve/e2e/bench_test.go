package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sscscore/model/shareddata"
	"sscscore/wasm/benchdata"
)

// The browser benchmarks (./build.sh bench) measure, in headless Chromium
// against the real server: the time to interactive (page load until the
// worker is ready), and from handing the files to the page until the
// scores are shown (drop-to-scores) and until the job is done (the level
// slices' images and fast heat maps come after the scores), stage by stage
// as the worker timed them (read: the files' headers; decode: the one pass
// over the slices that decodes them, fills the levels network's grid and
// the reformat; levels: the levels network; score: the score network on
// the level slices and their neighbours; maps: level images and heat
// maps), plus the worker's peak WebAssembly memory and the longest task on
// the page's main thread. Beside them, cli-ms is the native command-line
// tool (`sscscore score`, built with the SIMD kernels) on the same files,
// wall time including its start. Metrics are per iteration; each iteration
// is a fresh browser context (no cache, no service worker).
//
// On a machine shared with other work the wall times above grow with the
// load; worker-cpu-ms (and worker-cpu-to-scores-ms, up to the scores) is
// the CPU time of the worker's thread, about what its wall time would be
// on an idle machine, and chromium-cpu-ms that of every Chromium thread
// (the page, the browser's own compilation of the WebAssembly as it runs
// hot, the file reads).

// datasetMS reads a <html data-*> number.
func datasetNum(tb *tab, key string) float64 {
	v, _ := strconv.ParseFloat(eval[string](tb, `document.documentElement.dataset.`+key+` || "0"`), 64)
	return v
}

// fileSize returns the size of web/static/name, or 0.
func fileSize(name string) int64 {
	fi, err := os.Stat(filepath.Join(root, "web", "static", name))
	if err != nil {
		return 0
	}
	return fi.Size()
}

func reportDownload(b *testing.B) {
	br := fileSize("ui.wasm.br") + fileSize("worker.wasm.br")
	raw := fileSize("ui.wasm") + fileSize("worker.wasm")
	b.ReportMetric(float64(br)/1e6, "download-MB-br")
	b.ReportMetric(float64(raw)/1e6, "wasm-MB-raw")
}

func BenchmarkTimeToInteractive(b *testing.B) {
	var sum float64
	for b.Loop() {
		tb := benchTab(b)
		tb.open()
		sum += datasetNum(tb, "readyMs")
	}
	b.ReportMetric(sum/float64(b.N), "tti-ms")
	reportDownload(b)
}

// benchScan picks the files in each iteration and reports the stage times;
// cliArgs, when set, are the arguments of the native tool's run on the
// same scan.
func benchScan(b *testing.B, files []string, cliArgs ...string) {
	sums := map[string]float64{}
	for b.Loop() {
		tb := benchTab(b)
		tb.open()
		cpu0 := chromiumCPU()
		tb.pick(files)
		tb.waitFor(`document.documentElement.dataset.scoresAt !== undefined || ["done", "error"].includes(document.documentElement.dataset.state)`, 5*time.Minute)
		cpuScores := chromiumCPU()
		if s := tb.scanEnd(); s != "done" {
			b.Fatalf("scan ended in state %s: %s, want %q", s, eval[string](tb, `document.getElementById("error").textContent`), "done")
		}
		cpu1 := chromiumCPU()
		tb.addStages(sums)
		sums["cpuWorkerScores"] += cpuScores.worker - cpu0.worker
		sums["cpuWorker"] += cpu1.worker - cpu0.worker
		sums["cpuAll"] += cpu1.all - cpu0.all
	}
	benchReport(b, sums)
	benchCLI(b, cliArgs...)
}

// addStages adds a finished scan's timings to sums.
func (tb *tab) addStages(sums map[string]float64) {
	for _, k := range []string{"tDemo", "tRead", "tDecode", "tLevels", "tScore", "tMaps", "tTotal"} {
		sums[k] += datasetNum(tb, k)
	}
	sums["pageTotal"] += datasetNum(tb, "stateAt") - datasetNum(tb, "jobAt")
	if at := datasetNum(tb, "scoresAt"); at > 0 {
		sums["scores"] += at - datasetNum(tb, "jobAt")
	}
	sums["memory"] = max(sums["memory"], datasetNum(tb, "memory"))
	sums["longest"] = max(sums["longest"], maxOf(tb.longTasks(datasetNum(tb, "jobAt"))))
}

// benchReport reports the mean of sums over the iterations.
func benchReport(b *testing.B, sums map[string]float64) {
	n := float64(b.N)
	for k, unit := range map[string]string{"tDemo": "demo-make-ms", "tRead": "read-ms", "tDecode": "decode-ms", "tLevels": "levels-ms",
		"tScore": "score-ms", "tMaps": "maps-ms", "tTotal": "worker-total-ms", "pageTotal": "drop-to-done-ms", "scores": "drop-to-scores-ms",
		"cpuWorkerScores": "worker-cpu-to-scores-ms", "cpuWorker": "worker-cpu-ms", "cpuAll": "chromium-cpu-ms"} {
		if sums[k] > 0 {
			b.ReportMetric(sums[k]/n, unit)
		}
	}
	b.ReportMetric(sums["memory"]/1e6, "worker-peak-MB")
	b.ReportMetric(sums["longest"], "longest-main-task-ms")
}

// cpuTimes are CPU times (ms) of Chromium's threads.
type cpuTimes struct{ worker, all float64 }

// chromiumCPU returns the CPU time used so far by Chromium's dedicated
// worker threads (the scan's worker) and by all of its threads, from
// /proc (Linux; zero elsewhere). On a machine shared with other work, the
// worker's CPU time is what its wall time would be alone: the worker runs
// on one thread and hardly waits (the files are in the page cache).
func chromiumCPU() cpuTimes {
	var c cpuTimes
	stats, _ := filepath.Glob("/proc/[0-9]*/task/[0-9]*/stat")
	tick := 1000.0 / 100 // ms per clock tick (USER_HZ is 100 on Linux)
	for _, p := range stats {
		pdir := filepath.Dir(filepath.Dir(filepath.Dir(p)))
		comm, err := os.ReadFile(filepath.Join(pdir, "comm"))
		if err != nil || !strings.HasPrefix(string(comm), "chromium") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i, j := strings.Index(s, "("), strings.LastIndex(s, ")")
		if i < 0 || j < 0 || j+2 >= len(s) {
			continue
		}
		f := strings.Fields(s[j+2:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		ms := (ut + st) * tick
		c.all += ms
		if strings.HasPrefix(s[i+1:j], "DedicatedWorker") {
			c.worker += ms
		}
	}
	return c
}

// benchCLI times the native tool on the same scan (best of three runs,
// after one to warm the file cache).
func benchCLI(b *testing.B, args ...string) {
	if len(args) == 0 {
		return
	}
	if cliErr != nil {
		b.Logf("no native tool: %v", cliErr)
		return
	}
	best := 0.0
	for i := range 4 {
		t0 := time.Now()
		cmd := exec.Command(cliBin, append([]string{"score", "-q", "--json"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sscscore %v: got error %v, want nil\n%s", args, err, out)
		}
		ms := float64(time.Since(t0).Microseconds()) / 1000
		if i == 1 || (i > 1 && ms < best) {
			best = ms
		}
	}
	b.ReportMetric(best, "cli-ms")
}

func maxOf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func BenchmarkScanA0002(b *testing.B) {
	dir := shareddata.Path(b, "chest-ct/A0002-B40f")
	benchScan(b, listFiles(b, dir), dir)
}

// BenchmarkDemo runs the built-in demo scan: the phantom made in the
// worker (demo-make-ms), then read and scored like dropped files.
func BenchmarkDemo(b *testing.B) {
	sums := map[string]float64{}
	for b.Loop() {
		tb := benchTab(b)
		tb.open()
		if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID("demo"))); err != nil {
			b.Fatalf("chromedp.Do: got error %v, want nil", err)
		}
		tb.waitFor(`document.documentElement.dataset.state === "working"`, time.Minute)
		if s := tb.scanEnd(); s != "done" {
			b.Fatalf("demo ended in state %s, want %q", s, "done")
		}
		tb.addStages(sums)
	}
	benchReport(b, sums)
	benchCLI(b, "--demo")
}

// BenchmarkOcclusionA0002 computes the paper's occlusion map of one level
// slice of A0002 in the worker, on request after the scan (occlusion-ms,
// as the worker timed it, and click-to-shown-ms on the page).
func BenchmarkOcclusionA0002(b *testing.B) {
	dir := shareddata.Path(b, "chest-ct/A0002-B40f")
	files := listFiles(b, dir)
	var worker, page float64
	for b.Loop() {
		tb := benchTab(b)
		tb.open()
		tb.pick(files)
		if s := tb.scanEnd(); s != "done" {
			b.Fatalf("scan ended in state %s, want %q", s, "done")
		}
		btn := `document.querySelector("#axials figure.axial button[data-method=occlusion]")`
		t0 := eval[float64](tb, `(() => { const t = performance.now(); `+btn+`.click(); return t; })()`)
		tb.waitFor(`document.documentElement.dataset.tTask !== undefined`, 5*time.Minute)
		page += eval[float64](tb, `performance.now()`) - t0
		worker += datasetNum(tb, "tTask")
	}
	b.ReportMetric(worker/float64(b.N), "occlusion-ms")
	b.ReportMetric(page/float64(b.N), "click-to-shown-ms")
}

func BenchmarkScanPhantom300(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := benchdata.Phantom300(ctx)
	if err != nil {
		b.Fatalf("benchdata.Phantom300: got error %v, want nil", err)
	}
	benchScan(b, listFiles(b, dir), dir)
	// The int16 volume the memory target is measured against.
	b.ReportMetric(float64(benchdata.Phantom300Slices*512*512*2)/1e6, "int16-volume-MB")
}

func listFiles(b testing.TB, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatalf("os.ReadDir: got error %v, want nil", err)
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// benchTab opens a tab for a benchmark iteration.
func benchTab(b *testing.B) *tab {
	b.Helper()
	if setupErr != nil {
		b.Skip(setupErr)
	}
	return newTab(b)
}
