//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"

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
	doc dom.Document
	el  map[string]dom.HTMLElement

	worker    js.Value
	workerFns []js.Func
	ready     *protocol.ReadyInfo
	started   time.Time

	job     int  // last job started
	running bool // job is running

	stageOrder []string
	inv        *protocol.InventoryInfo
	coronal    *coronalView
	axials     map[int]*axialView // by level
	result     *protocol.ResultInfo
	window     view.Window
	lut        *[65536]uint8

	// Level line being moved with the keyboard, and the pending move.
	moveTimer *time.Timer
}

func newApp() *app {
	return &app{
		doc:        dom.GetWindow().Document(),
		el:         map[string]dom.HTMLElement{},
		axials:     map[int]*axialView{},
		stageOrder: []string{protocol.StageRead, protocol.StageDecode, protocol.StageLevels, protocol.StageScore},
		window:     view.Lung,
		lut:        view.Lung.LUT(),
	}
}

// byID returns the element with the given id (cached).
func (a *app) byID(id string) dom.HTMLElement {
	if e, ok := a.el[id]; ok {
		return e
	}
	e, ok := a.doc.GetElementByID(id).(dom.HTMLElement)
	if !ok || e == nil {
		panic("ui: index.html has no element #" + id)
	}
	a.el[id] = e
	return e
}

func (a *app) start() {
	a.started = time.Now()
	a.setState("starting")
	a.bindInput()
	a.bindControls()
	a.startWorker()
	a.status("Starting the scan reader…")
}

// setState records the page's state on <html data-state>, for tests and
// styling: starting, idle, working, done, error.
func (a *app) setState(s string) {
	js.Global().Get("document").Get("documentElement").Get("dataset").Set("state", s)
}

func (a *app) status(s string) { a.byID("app-status").SetTextContent(s) }

func (a *app) showError(msg string) {
	e := a.byID("error")
	e.SetTextContent(msg)
	e.RemoveAttribute("hidden")
}

func (a *app) clearError() { a.byID("error").SetAttribute("hidden", "") }

// startWorker (re)starts the worker. Until it reports ready, the inputs
// stay disabled.
func (a *app) startWorker() {
	a.stopWorker()
	a.ready = nil
	a.setInputsEnabled(false)
	w := js.Global().Get("Worker").New("worker.js", map[string]any{"name": "sscscore"})
	onMsg := js.FuncOf(func(this js.Value, args []js.Value) any {
		a.onWorkerMessage(args[0].Get("data"))
		return nil
	})
	onErr := js.FuncOf(func(this js.Value, args []js.Value) any {
		ev := args[0]
		msg := "the scan reader failed"
		if m := ev.Get("message"); m.Truthy() {
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
	a.byID("work").SetAttribute("hidden", "")
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
	a.job++
	m.Job = a.job
	a.running = true
	a.clearError()
	a.resetProgress()
	a.byID("work").RemoveAttribute("hidden")
	a.byID("cancel").(*dom.HTMLButtonElement).SetDisabled(false)
	if m.Kind != protocol.Choose {
		a.resetReport()
	} else {
		a.resetResult()
	}
	a.setState("working")
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
	a.byID("cancel").(*dom.HTMLButtonElement).SetDisabled(true)
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
	a.byID("work").SetAttribute("hidden", "")
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
	if m.Job != a.job {
		return // a cancelled or replaced job
	}
	switch m.Kind {
	case protocol.Progress:
		a.onProgress(m.Progress)
	case protocol.Inventory:
		a.onInventory(m.Inventory)
	case protocol.Image:
		a.onImage(m.Image, data.Get("buf"))
	case protocol.Result:
		a.onResult(m.Result)
	case protocol.Exported:
		download(m.Export)
	case protocol.Error:
		a.showError(m.Error)
	case protocol.Done:
		if a.running {
			a.finishJob(m.Cancelled)
		}
	}
}

func (a *app) onReady(r *protocol.ReadyInfo) {
	first := a.ready == nil && a.byID("version").TextContent() == ""
	a.ready = r
	a.byID("version").SetTextContent(r.Version)
	a.setInputsEnabled(true)
	a.renderModel()
	if first {
		a.status("Ready: drop a scan, choose files, or try the demo scan.")
		a.setState("idle")
		perf := js.Global().Get("performance")
		perf.Call("mark", "sscscore-interactive")
		js.Global().Get("document").Get("documentElement").Get("dataset").Set("readyMs",
			fmt.Sprintf("%.0f", perf.Call("now").Float()))
	}
}

// setInputsEnabled enables or disables the ways to open a scan (the demo
// only when the build has it).
func (a *app) setInputsEnabled(on bool) {
	for _, id := range []string{"pick-files", "pick-folder"} {
		a.byID(id).(*dom.HTMLButtonElement).SetDisabled(!on)
	}
	demo := on && a.ready != nil && a.ready.Demo
	a.byID("demo").(*dom.HTMLButtonElement).SetDisabled(!demo)
	note := a.byID("demo-note")
	if on && a.ready != nil && !a.ready.Demo {
		note.SetTextContent(a.ready.NoDemo)
		note.RemoveAttribute("hidden")
	} else {
		note.SetAttribute("hidden", "")
	}
}

// resetProgress clears the stage bars.
func (a *app) resetProgress() {
	for _, li := range a.doc.QuerySelectorAll("#stages li") {
		li.Class().Remove("active")
		li.Class().Remove("done")
		p := li.QuerySelector("progress").(*dom.HTMLProgressElement)
		p.SetMax(1)
		p.SetValue(0)
		li.QuerySelector(".stage-count").SetTextContent("")
		li.QuerySelector(".stage-eta").SetTextContent("")
	}
	a.byID("work-status").SetTextContent("")
}

func (a *app) onProgress(p *protocol.ProgressInfo) {
	reached := false
	for i := len(a.stageOrder) - 1; i >= 0; i-- {
		st := a.stageOrder[i]
		li := a.doc.QuerySelector(`#stages li[data-stage="` + st + `"]`)
		if li == nil {
			continue
		}
		if st == p.Stage {
			reached = true
			li.Class().Add("active")
			prog := li.QuerySelector("progress").(*dom.HTMLProgressElement)
			prog.SetMax(float64(max(p.Total, 1)))
			prog.SetValue(float64(p.Done))
			li.QuerySelector(".stage-count").SetTextContent(view.Count(p.Done, p.Total, p.Unit))
			eta := ""
			if p.Done >= p.Total && p.Total > 0 {
				li.Class().Remove("active")
				li.Class().Add("done")
			} else if ms, ok := view.Remaining(p.ElapsedMS, p.Done, p.Total); ok {
				eta = view.Duration(ms) + " left"
			}
			li.QuerySelector(".stage-eta").SetTextContent(eta)
			continue
		}
		if reached { // earlier stages are complete
			li.Class().Remove("active")
			li.Class().Add("done")
		}
	}
}

// plainList returns s joined for a sentence: "a, b and c".
func plainList(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
