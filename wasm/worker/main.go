//go:build js && wasm

// Command worker is the Web Worker's WebAssembly program
// (web/static/worker.wasm, started by worker.js): it reads the files the
// page hands it, and scores the scan, off the page's thread. The protocol is
// described in wasm/internal/protocol; the work itself is done by
// wasm/internal/engine, and this program only moves messages between the
// browser and the engine.
package main

import (
	"context"
	"fmt"
	"syscall/js"

	"sscscore/model/ingest"
	"sscscore/wasm/internal/engine"
	"sscscore/wasm/internal/jsfile"
	"sscscore/wasm/internal/protocol"
)

func main() {
	w := newWorker()
	self := js.Global()
	handler := js.FuncOf(func(this js.Value, args []js.Value) any {
		w.onMessage(args[0].Get("data"))
		return nil
	})
	self.Set("onmessage", handler)
	// Messages that came while the wasm was loading.
	if pending := self.Get("sscPending"); pending.Truthy() {
		for i := range pending.Length() {
			w.onMessage(pending.Index(i).Get("data"))
		}
	}
	self.Set("sscPending", js.Null())
	w.send(&protocol.Msg{Kind: protocol.Ready, Ready: w.eng.Ready()}, nil)
	w.run()
}

// worker serialises the jobs and owns the engine.
type worker struct {
	eng    *engine.Engine
	queue  chan func()
	job    int                // the job running or queued last
	cancel context.CancelFunc // cancels it
	// cancelTask cancels the running or queued heat map request.
	cancelTask context.CancelFunc
	yield      func()
}

func newWorker() *worker {
	w := &worker{queue: make(chan func(), 64), cancel: func() {}, cancelTask: func() {}}
	w.yield = newYield()
	c, why := newCascade()
	w.eng = engine.New(engine.Options{
		Cascade:   c,
		NoScoring: why,
		Demo:      demoFiles(),
		Yield:     w.yield,
		Memory:    wasmMemory,
		// Reads wait for the browser: several at once overlap the waits.
		Parallel: 8,
		HTTP:     fetchDoer{},
	})
	return w
}

// wasmMemory returns the size of the worker's WebAssembly memory (its peak:
// it never shrinks); worker.js keeps the instance as self.sscInstance.
func wasmMemory() int64 {
	inst := js.Global().Get("sscInstance")
	if !inst.Truthy() {
		return 0
	}
	return int64(inst.Get("exports").Get("mem").Get("buffer").Get("byteLength").Float())
}

// run executes the queued jobs one after the other.
func (w *worker) run() {
	for f := range w.queue {
		f()
	}
}

// newYield returns a function that lets the browser's event loop run (so
// that a cancel message is delivered) and then returns: it posts a message
// to itself on a MessageChannel and waits for it.
func newYield() func() {
	mc := js.Global().Get("MessageChannel").New()
	wake := make(chan struct{}, 1)
	mc.Get("port1").Set("onmessage", js.FuncOf(func(this js.Value, args []js.Value) any {
		select {
		case wake <- struct{}{}:
		default:
		}
		return nil
	}))
	port := mc.Get("port2")
	return func() {
		port.Call("postMessage", nil)
		<-wake
	}
}

// onMessage handles one request from the page. It runs in a JavaScript
// callback and must not block.
func (w *worker) onMessage(data js.Value) {
	m, err := decode(data.Get("json").String())
	if err != nil {
		w.send(&protocol.Msg{Kind: protocol.Error, Error: err.Error()}, nil)
		return
	}
	switch m.Kind {
	case protocol.Cancel:
		if m.Job == w.job {
			w.cancel()
			w.cancelTask()
		}
	case protocol.Open, protocol.Demo, protocol.Choose, protocol.PACSOpen:
		w.cancel() // a new scan replaces the running one
		w.cancelTask()
		ctx, cancel := context.WithCancel(context.Background())
		w.job, w.cancel = m.Job, cancel
		var files []ingest.File
		if m.Kind == protocol.Open {
			files, err = w.files(data.Get("files"), m.Paths)
			if err != nil {
				w.send(&protocol.Msg{Kind: protocol.Error, Job: m.Job, Error: err.Error()}, nil)
				w.send(&protocol.Msg{Kind: protocol.Done, Job: m.Job}, nil)
				return
			}
		}
		w.enqueue(func() {
			defer cancel()
			switch m.Kind {
			case protocol.Open:
				w.eng.Open(ctx, m.Job, files, w.send)
			case protocol.Demo:
				w.eng.Demo(ctx, m.Job, w.send)
			case protocol.Choose:
				w.eng.Choose(ctx, m.Job, m.Series, w.send)
			case protocol.PACSOpen:
				w.eng.PACSOpen(ctx, m.Job, m.PACS, m.Study, m.Series, m.Total, w.send)
			}
		})
	case protocol.PACSSearch:
		// Searches only wait for the PACS: they run beside the queued
		// jobs, never behind a scan.
		go w.eng.PACSSearch(context.Background(), m.Job, m.PACS, m.Query, w.send)
	case protocol.PACSSeries:
		go w.eng.PACSSeries(context.Background(), m.Job, m.PACS, m.Study, w.send)
	case protocol.Store:
		w.enqueue(func() { w.eng.Store(context.Background(), m.Job, m.PACS, w.send) })
	case protocol.UseWeights:
		w.cancel() // the scan in use is dropped with the old networks
		w.cancelTask()
		list := data.Get("files")
		w.enqueue(func() { w.useWeights(m.Job, list) })
	case protocol.Move:
		w.enqueue(func() { w.eng.Move(context.Background(), m.Job, m.Level, m.Slice, w.send) })
	case protocol.Export:
		w.enqueue(func() { w.eng.Export(m.Job, m.Format, m.Patient, w.send) })
	case protocol.Heatmap:
		w.cancelTask() // one heat map at a time
		ctx, cancel := context.WithCancel(context.Background())
		w.cancelTask = cancel
		w.enqueue(func() {
			defer cancel()
			w.eng.Heatmap(ctx, m.Job, m.Level, m.Method, w.send)
		})
	default:
		w.send(&protocol.Msg{Kind: protocol.Error, Job: m.Job, Error: fmt.Sprintf("unknown request %q", m.Kind)}, nil)
	}
}

func (w *worker) enqueue(f func()) {
	select {
	case w.queue <- f:
	default:
		w.send(&protocol.Msg{Kind: protocol.Error, Error: "too many requests at once; please wait"}, nil)
	}
}

// files wraps the File objects of an open request; nothing is read yet.
func (w *worker) files(list js.Value, paths []string) ([]ingest.File, error) {
	if !list.Truthy() {
		return nil, fmt.Errorf("no files in the request")
	}
	n := list.Length()
	out := make([]ingest.File, 0, n)
	for i := range n {
		f := list.Index(i)
		r := jsfile.New(f)
		p := f.Get("name").String()
		if i < len(paths) && paths[i] != "" {
			p = paths[i]
		}
		out = append(out, ingest.File{Path: p, Size: r.Size(), R: r})
	}
	return out, nil
}

// send posts an event to the page; the binary part (pixels, heat map
// values) travels in a transferred ArrayBuffer.
func (w *worker) send(m *protocol.Msg, data []byte) {
	obj := js.Global().Get("Object").New()
	obj.Set("json", encode(m))
	if data == nil {
		js.Global().Call("postMessage", obj)
		return
	}
	buf := js.Global().Get("ArrayBuffer").New(len(data))
	if len(data) > 0 {
		js.CopyBytesToJS(js.Global().Get("Uint8Array").New(buf), data)
	}
	obj.Set("buf", buf)
	js.Global().Call("postMessage", obj, []any{buf})
}
