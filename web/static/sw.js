// sw.js: the service worker that keeps the app available offline. On the
// first visit it stores every file of this build in a cache named after the
// build; afterwards pages and files are answered from that cache, so no
// network is needed. A new build (a changed sw.js) installs a new cache and
// deletes the old one. The server fills in the build and the file list.
"use strict";
var BUILD = "__SSCSCORE_BUILD__";
var CACHE = "sscscore-" + BUILD;
var ASSETS = [/*__SSCSCORE_ASSETS__*/];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) {
        return cache.addAll(ASSETS.map(function (u) { return new Request(u, { cache: "reload" }); }));
      })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (keys) {
        return Promise.all(keys.filter(function (k) {
          return k.indexOf("sscscore-") === 0 && k !== CACHE;
        }).map(function (k) { return caches.delete(k); }));
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var req = event.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) {
    return; // a PACS, or a store request: let the browser handle it
  }
  if (url.pathname.indexOf("/dicom-web/") === 0) {
    return; // the server's proxy to a PACS: never from the cache
  }
  event.respondWith(
    caches.open(CACHE).then(function (cache) {
      return cache.match(req, { ignoreSearch: true }).then(function (hit) {
        return hit || fetch(req);
      });
    })
  );
});
