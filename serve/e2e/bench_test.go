package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sscscore/wasm/benchdata"
)

// The browser benchmarks (./build.sh bench) measure, in headless Chromium
// against the real server: the time to interactive (page load until the
// worker is ready), and from handing the files to the page until the job is
// done, stage by stage as the worker timed them, plus the worker's peak
// WebAssembly memory. Metrics are per iteration; each iteration is a fresh
// browser context (no cache, no service worker).

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

// benchScan picks the files in each iteration and reports the stage times.
func benchScan(b *testing.B, files []string) {
	sums := map[string]float64{}
	for b.Loop() {
		tb := benchTab(b)
		tb.open()
		tb.pick(files)
		if s := tb.scanEnd(); s != "done" {
			b.Fatalf("scan ended in state %s: %s", s, eval[string](tb, `document.getElementById("error").textContent`))
		}
		for _, k := range []string{"tRead", "tDecode", "tLevels", "tScore", "tTotal"} {
			sums[k] += datasetNum(tb, k)
		}
		sums["pageTotal"] += datasetNum(tb, "stateAt") - datasetNum(tb, "jobAt")
		sums["memory"] = max(sums["memory"], datasetNum(tb, "memory"))
		sums["longest"] = max(sums["longest"], maxOf(tb.longTasks(datasetNum(tb, "jobAt"))))
	}
	n := float64(b.N)
	for k, unit := range map[string]string{"tRead": "read-ms", "tDecode": "decode-ms", "tLevels": "levels-ms",
		"tScore": "score-ms", "tTotal": "worker-total-ms", "pageTotal": "drop-to-done-ms"} {
		if sums[k] > 0 {
			b.ReportMetric(sums[k]/n, unit)
		}
	}
	b.ReportMetric(sums["memory"]/1e6, "worker-peak-MB")
	b.ReportMetric(sums["longest"], "longest-main-task-ms")
}

func maxOf(x []float64) float64 {
	m := 0.0
	for _, v := range x {
		m = max(m, v)
	}
	return m
}

func BenchmarkScanA0002(b *testing.B) {
	dir := filepath.Join(testdata, "chest-ct", "A0002-B40f")
	if _, err := os.Stat(dir); err != nil {
		b.Skip(err)
	}
	benchScan(b, listFiles(b, dir))
}

func BenchmarkScanPhantom300(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := benchdata.Phantom300(ctx)
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, listFiles(b, dir))
	// The int16 volume the memory target is measured against.
	b.ReportMetric(float64(benchdata.Phantom300Slices*512*512*2)/1e6, "int16-volume-MB")
}

func listFiles(b testing.TB, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
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
