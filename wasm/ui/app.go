//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"

	"sscscore/model/buildinfo"
	"sscscore/wasm/internal/jsconv"
	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// cancelGrace is how long the page waits for the worker to confirm a cancel
// before it terminates the worker and starts a fresh one, so that Cancel
// always stops the work within a second.
const cancelGrace = 700 * time.Millisecond

// app is the page's state.
type app struct {
	el map[string]*dom.BasicHTMLElement

	worker    js.Value
	workerFns []js.Func
	ready     *protocol.ReadyInfo

	job     int  // the job running, or whose scan is on screen
	jobs    int  // jobs started: job numbers are never reused
	running bool // job is running

	stageOrder []protocol.Stage
	inv        *protocol.InventoryInfo
	// seriesUnusable counts the series that cannot be scored (hidden
	// until asked for).
	seriesUnusable int
	coronal        *coronalView
	axials         map[int]*axialView // by level
	result         *protocol.ResultInfo
	resultSeq      int // results received, for tests
	window         view.Window
	lut            *[65536]uint8

	// heat holds the heat maps by level, then by method and score;
	// heatMethod and heatScore choose the one shown; task is the slow
	// heat map being computed.
	heat       map[int]map[string]*heatView
	heatRange  map[string]float64 // colour scale by method/score
	heatMethod string
	heatScore  string
	task       *heatTask

	// moveTimer delays the rescoring of a moved level line.
	moveTimer *time.Timer

	// pacs is the PACS panel's state. shownJob is the job whose scan is
	// on screen (0: none, or the worker was restarted); keeping is set
	// while a retrieval from the PACS runs that has not replaced it yet.
	pacs     pacsState
	shownJob int
	keeping  bool
}

func newApp() *app {
	return &app{
		el:         map[string]*dom.BasicHTMLElement{},
		axials:     map[int]*axialView{},
		heat:       map[int]map[string]*heatView{},
		heatRange:  map[string]float64{},
		heatScore:  protocol.ScoreTOT,
		stageOrder: []protocol.Stage{protocol.StageDownload, protocol.StageRead, protocol.StageDecode, protocol.StageLevels, protocol.StageScore, protocol.StageMaps},
		window:     view.Lung,
		lut:        view.Lung.LUT(),
	}
}

func (a *app) start() {
	a.setState("starting")
	a.bindInput()
	a.bindControls()
	a.bindPACS()
	a.bindWeights()
	a.startWorker()
	a.status("Starting the scan reader…")
}

// now returns the page's clock (ms).
func now() float64 { return js.Global().Get("performance").Call("now").Float() }

// setState records the page's state on <html data-state> (starting, idle,
// working, done, error) and when it changed (data-state-at, page ms), for
// tests and styling.
func (a *app) setState(s string) {
	ds := document.Get("documentElement").Get("dataset")
	ds.Set("state", s)
	ds.Set("stateAt", fmt.Sprintf("%.1f", now()))
}

func (a *app) status(s string) { a.byID("app-status").SetTextContent(s) }

func (a *app) showError(msg string) {
	e := a.byID("error")
	e.SetTextContent(msg)
	show(e)
}

func (a *app) clearError() { hide(a.byID("error")) }

// startWorker (re)starts the worker. Until it reports ready, the inputs
// stay disabled.
func (a *app) startWorker() {
	a.stopWorker()
	a.ready = nil
	a.shownJob = 0 // a new worker holds no scan
	a.pacs.store = 0
	a.setInputsEnabled(false)
	w := js.Global().Get("Worker").New("worker.js", map[string]any{"name": "sscscore"})
	onMsg := js.FuncOf(func(this js.Value, args []js.Value) any {
		a.onWorkerMessage(args[0].Get("data"))
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "the scan reader failed"
		if m := args[0].Get("message"); m.Truthy() {
			msg += ": " + m.String()
		}
		a.fatal(msg)
		return nil
	})
	w.Set("onmessage", onMsg)
	w.Set("onerror", onErr)
	a.worker, a.workerFns = w, []js.Func{onMsg, onErr}
}

func (a *app) stopWorker() {
	if a.worker.Truthy() {
		a.worker.Call("terminate")
	}
	for _, f := range a.workerFns {
		f.Release()
	}
	a.worker, a.workerFns = js.Undefined(), nil
}

// fatal reports a worker failure and starts a fresh worker.
func (a *app) fatal(msg string) {
	a.running = false
	a.showError("Something went wrong: " + msg + ". The reader was restarted; please try again.")
	hide(a.byID("work"))
	a.setState("error")
	a.startWorker()
}

// post sends a request to the worker, with File objects when given.
func (a *app) post(m *protocol.Msg, files []any) {
	obj := map[string]any{"json": jsconv.Marshal(m)}
	if files != nil {
		obj["files"] = files
	}
	a.worker.Call("postMessage", obj)
}

// newJob starts a job with the given request (open, demo or choose).
func (a *app) newJob(m *protocol.Msg, files []any) {
	if a.ready == nil {
		return
	}
	a.jobs++
	a.job = a.jobs
	m.Job = a.job
	a.running = true
	a.clearError()
	a.resetProgress()
	show(a.byID("work"))
	a.button("cancel").SetDisabled(false)
	// A retrieval from the PACS keeps the scan on screen until the series
	// has arrived (see onWorkerMessage).
	a.keeping = m.Kind == protocol.PACSOpen && a.shownJob != 0
	dl := query(nil, `#stages li[data-stage="`+string(protocol.StageDownload)+`"]`)
	if m.Kind == protocol.PACSOpen {
		show(dl)
	} else {
		hide(dl)
	}
	switch {
	case a.keeping:
	case m.Kind == protocol.Choose:
		a.resetResult()
	default:
		a.resetReport()
	}
	a.setState("working")
	ds := document.Get("documentElement").Get("dataset")
	ds.Set("jobAt", fmt.Sprintf("%.1f", now()))
	ds.Delete("scoresAt")
	a.status("Working…")
	a.post(m, files)
}

// cancel asks the worker to stop the running job; if it has not confirmed
// within cancelGrace, the worker is terminated and replaced.
func (a *app) cancel() {
	if !a.running {
		return
	}
	job := a.job
	a.post(&protocol.Msg{Kind: protocol.Cancel, Job: job}, nil)
	a.byID("work-status").SetTextContent("Cancelling…")
	a.button("cancel").SetDisabled(true)
	time.AfterFunc(cancelGrace, func() {
		if a.running && a.job == job {
			a.startWorker()
			a.finishJob(true)
		}
	})
}

// finishJob updates the page when a job has ended.
func (a *app) finishJob(cancelled bool) {
	a.running = false
	hide(a.byID("work"))
	if a.keeping {
		// The retrieval ended before its series replaced the scan on
		// screen: that scan stays, and so does the worker's.
		a.keeping = false
		if a.shownJob != 0 {
			a.job = a.shownJob
			a.updateExportButtons()
			if cancelled {
				a.status("Cancelled; the scan on screen is unchanged.")
				a.setState("idle")
			} else {
				a.status("Stopped: see the message below. The scan on screen is unchanged.")
				a.setState("error")
			}
			return
		}
	}
	switch {
	case cancelled:
		a.status("Cancelled. Drop a scan or try the demo to start again.")
		a.resetReport()
		a.setState("idle")
	case a.byID("error").HasAttribute("hidden"):
		a.status("Done.")
		a.setState("done")
	default:
		a.status("Stopped: see the message below.")
		a.setState("error")
	}
}

// onWorkerMessage handles an event from the worker.
func (a *app) onWorkerMessage(data js.Value) {

	if data.Get("type").String() == "fatal" { // from worker.js itself
		a.fatal(data.Get("message").String())
		return
	}
	m := new(protocol.Msg)
	if err := jsconv.Unmarshal(data.Get("json").String(), m); err != nil {
		a.showError(err.Error())
		return
	}
	if m.Kind == protocol.Ready {
		a.onReady(m.Ready)
		return
	}
	switch m.Task {
	case protocol.PACSSearch, protocol.PACSSeries, protocol.Store:
		a.onPACS(m) // tasks beside the scan jobs, numbered apart
		return
	case protocol.UseWeights:
		a.onWeights(m)
		return
	}
	if m.Job != a.job {
		return // a cancelled or replaced job
	}
	// Handling an event that takes a noticeable time is recorded as a
	// User Timing measure ("sscscore image"...), visible in the browser's
	// performance tools and to the tests.
	t0 := now()
	defer func() {
		if t := now(); t-t0 >= 16 {
			js.Global().Get("performance").Call("measure", "sscscore "+m.Kind, map[string]any{"start": t0, "end": t})
		}
	}()
	switch m.Kind {
	case protocol.Progress:
		if m.Progress.Stage == protocol.StageHeatmap {
			a.onTaskProgress(m.Progress)
			return
		}
		a.onProgress(m.Progress)
	case protocol.Inventory:
		if a.keeping {
			a.keeping = false // the new series replaces the scan on screen
			a.resetReport()
		}
		a.shownJob = a.job
		a.onInventory(m.Inventory)
	case protocol.Image:
		a.onImage(m.Image, data.Get("buf"))
	case protocol.Result:
		a.onResult(m.Result)
	case protocol.Heatmap:
		if m.Heatmap != nil {
			a.onHeatmap(m.Heatmap, data.Get("buf"))
		}
	case protocol.Exported:
		download(m.Export, data.Get("buf"))
	case protocol.Error:
		a.showError(m.Error)
	case protocol.Done:
		if m.Task != "" {
			a.onTaskDone(m)
			return
		}
		if !a.keeping { // a failed retrieval leaves the scan on screen and its timings
			a.showTimings(m)
		}
		if a.running {
			a.finishJob(m.Cancelled)
		}
	}
}

func (a *app) onReady(r *protocol.ReadyInfo) {
	first := a.byID("version").TextContent() == ""
	a.ready = r
	a.showBuild(r)
	a.setInputsEnabled(true)
	a.renderModel()
	if first {
		a.status("Ready: drop a scan, choose files, or try the demo scan.")
		a.setState("idle")
		js.Global().Get("performance").Call("mark", "sscscore-interactive")
		document.Get("documentElement").Get("dataset").Set("readyMs", fmt.Sprintf("%.0f", now()))
		later(warmUp)
	}
}

// showBuild names the build that computes the results (the worker's):
// its version and abbreviated commit in the page's footer, the full commit
// in its tooltip and both in its data-version and data-commit attributes.
// A page whose own build differs (a stale cache) says so.
func (a *app) showBuild(r *protocol.ReadyInfo) {
	worker := buildinfo.Info{Version: r.Version, Commit: r.Commit}
	text := worker.String()
	if page := buildinfo.Get(); page.Version != worker.Version || page.Commit != worker.Commit {
		text += "; this page is from build " + page.String() + ": reload to update it"
	}
	v := a.byID("version")
	v.SetTextContent(text)
	v.SetAttribute("title", "commit "+r.Commit)
	v.SetAttribute("data-version", r.Version)
	v.SetAttribute("data-commit", r.Commit)
}

// buildText names the build for the printed report: the worker's version
// and full commit (the page's own before the worker is ready).
func (a *app) buildText() string {
	b := buildinfo.Get()
	if a.ready != nil {
		b = buildinfo.Info{Version: a.ready.Version, Commit: a.ready.Commit}
	}
	return b.Version + " (commit " + b.Commit + ")"
}

// setInputsEnabled enables or disables the ways to open a scan (the demo
// only when the build has it).
func (a *app) setInputsEnabled(on bool) {
	for _, id := range []string{"pick-files", "pick-folder", "pacs-search"} {
		a.button(id).SetDisabled(!on)
	}
	a.button("pacs-open").SetDisabled(!on || a.pacs.chosen == "")
	demo := on && a.ready != nil && a.ready.Demo
	a.button("demo").SetDisabled(!demo)
	note := a.byID("demo-note")
	if on && a.ready != nil && !a.ready.Demo {
		note.SetTextContent(a.ready.NoDemo)
		show(note)
	} else {
		hide(note)
	}
}

// resetProgress clears the stage bars.
func (a *app) resetProgress() {
	for _, li := range queryAll("#stages li") {
		li.Class().Remove("active")
		li.Class().Remove("done")
		p := &dom.HTMLProgressElement{BasicHTMLElement: query(li, "progress")}
		p.SetMax(1)
		p.SetValue(0)
		query(li, ".stage-count").SetTextContent("")
		query(li, ".stage-eta").SetTextContent("")
	}
	a.byID("work-status").SetTextContent("")
}

func (a *app) onProgress(p *protocol.ProgressInfo) {
	reached := false
	for i := len(a.stageOrder) - 1; i >= 0; i-- {
		st := a.stageOrder[i]
		li := query(nil, `#stages li[data-stage="`+string(st)+`"]`)
		if li == nil {
			continue
		}
		if st == p.Stage {
			reached = true
			li.Class().Add("active")
			prog := &dom.HTMLProgressElement{BasicHTMLElement: query(li, "progress")}
			prog.SetMax(float64(max(p.Total, 1)))
			prog.SetValue(float64(p.Done))
			count := view.Count(p.Done, p.Total, p.Unit)
			if st == protocol.StageDownload {
				count = downloadProgress(p)
			}
			query(li, ".stage-count").SetTextContent(count)
			eta := ""
			if p.Done >= p.Total && p.Total > 0 {
				li.Class().Remove("active")
				li.Class().Add("done")
			} else if ms, ok := view.Remaining(p.ElapsedMS, p.Done, p.Total); ok {
				eta = view.Duration(ms) + " left"
			}
			query(li, ".stage-eta").SetTextContent(eta)
			continue
		}
		if reached { // earlier stages are complete
			li.Class().Remove("active")
			li.Class().Add("done")
		}
	}
}

// showTimings says how long the job's stages took, and records them (and
// the worker's memory) on <html data-t-*> for the benchmarks.
func (a *app) showTimings(m *protocol.Msg) {
	ds := document.Get("documentElement").Get("dataset")
	for _, st := range append([]protocol.Stage{protocol.StageTotal, protocol.StageDemo}, a.stageOrder...) {
		key := "t" + strings.ToUpper(string(st[:1])) + string(st[1:])
		if ms, ok := m.Timings[st]; ok {
			ds.Set(key, fmt.Sprintf("%.1f", ms))
		} else {
			ds.Delete(key)
		}
	}
	ds.Set("memory", fmt.Sprintf("%d", m.Memory))
	if m.Cancelled || m.Timings[protocol.StageTotal] == 0 {
		a.byID("timings").SetTextContent("")
		return
	}
	names := map[protocol.Stage]string{protocol.StageDemo: "making the demo scan", protocol.StageDownload: "receiving from the PACS", protocol.StageRead: "reading", protocol.StageDecode: "decoding",
		protocol.StageLevels: "finding levels", protocol.StageScore: "scoring", protocol.StageMaps: "level images"}
	var parts []string
	for _, st := range append([]protocol.Stage{protocol.StageDemo}, a.stageOrder...) {
		if ms, ok := m.Timings[st]; ok {
			parts = append(parts, fmt.Sprintf("%s %.1f s", names[st], ms/1000))
		}
	}
	a.byID("timings").SetTextContent(fmt.Sprintf("Computed in this browser in %.1f s (%s).", m.Timings[protocol.StageTotal]/1000, strings.Join(parts, ", ")))
}
