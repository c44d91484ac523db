// boot.js: the page's only hand-written JavaScript. It starts the Go
// WebAssembly UI (ui.wasm), which runs the page and starts the worker
// (worker.js + worker.wasm) that reads and scores the scan, and registers the
// service worker that keeps the app available offline.
"use strict";
(function () {
  var status = document.getElementById("app-status");
  function fail(msg) {
    status.textContent = msg;
    status.classList.add("error");
  }
  if (typeof WebAssembly !== "object" || typeof Worker !== "function" || typeof Go !== "function") {
    fail("This browser cannot run the app: it needs WebAssembly and Web Workers " +
      "(a current Chrome, Edge, Firefox or Safari has both).");
    return;
  }
  // instantiate loads a wasm binary, falling back to a plain download when
  // the server does not label it application/wasm.
  async function instantiate(url, imports) {
    try {
      return await WebAssembly.instantiateStreaming(fetch(url), imports);
    } catch (e) {
      var resp = await fetch(url);
      if (!resp.ok) throw new Error(url + ": HTTP " + resp.status);
      return WebAssembly.instantiate(await resp.arrayBuffer(), imports);
    }
  }
  var go = new Go();
  instantiate("ui.wasm", go.importObject)
    .then(function (r) { return go.run(r.instance); })
    .then(function () { fail("The app stopped unexpectedly; reload the page."); })
    .catch(function (e) { fail("The app could not start: " + e); });

  if ("serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("sw.js").catch(function () {
        // Without a service worker the app still works, only not offline.
      });
    });
  }
})();
