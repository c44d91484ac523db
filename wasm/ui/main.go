//go:build js && wasm

// Command ui is the page's WebAssembly program (web/static/ui.wasm): it
// wires the controls of index.html, hands the dropped or picked files to the
// worker (wasm/worker) and shows what the worker reports: progress, the
// series and files found, the coronal reformat and axial level slices,
// levels and scores, and the exports.
//
// It does rendering only: every file is read, and every volume decoded and
// scored, in the worker, so that no task on the page's thread takes long.
// It must not import the model packages (they would add megabytes of code
// the page never runs); go list -deps ./wasm/ui shows what it links.
package main

import "runtime/debug"

func main() {
	// The page holds a few images (a few MB each while they are made);
	// collecting garbage less often keeps its thread's tasks short.
	debug.SetGCPercent(400)
	a := newApp()
	a.start()
	select {} // the page lives on in event handlers
}
