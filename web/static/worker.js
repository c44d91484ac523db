// worker.js: the Web Worker that does the heavy work (reading DICOM files,
// finding levels, scoring) in Go WebAssembly (worker.wasm), so that the page
// never freezes. Messages that arrive before the Go program is ready wait in
// self.sscPending; the Go side takes them over with self.onmessage.
"use strict";
importScripts("wasm_exec.js");
self.sscPending = [];
self.onmessage = function (e) { self.sscPending.push(e); };
(async function () {
  var go = new Go();
  var result;
  try {
    result = await WebAssembly.instantiateStreaming(fetch("worker.wasm"), go.importObject);
  } catch (e) {
    var resp = await fetch("worker.wasm");
    if (!resp.ok) throw new Error("worker.wasm: HTTP " + resp.status);
    result = await WebAssembly.instantiate(await resp.arrayBuffer(), go.importObject);
  }
  self.sscInstance = result.instance; // for the memory report
  await go.run(result.instance);
  self.postMessage({ type: "fatal", message: "the worker stopped unexpectedly" });
})().catch(function (e) {
  self.postMessage({ type: "fatal", message: "the worker could not start: " + e });
});
