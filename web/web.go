// Package web holds the browser app's static files: the page, its style
// sheet, the JavaScript bootstrap, the service worker, and (after
// ./build.sh wasm) the WebAssembly binaries and Go's wasm_exec.js.
//
// The files live in web/static and are embedded here so that one server
// binary (see serve/) carries the whole app; go:embed cannot reach a parent
// directory, hence this small package.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Static returns the files served at the root of the site (the contents of
// web/static).
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic("web: " + err.Error()) // "static" is a valid, embedded path
	}
	return sub
}
