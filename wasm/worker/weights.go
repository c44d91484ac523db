//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall/js"
	"time"

	"sscscore/model/cascade"
	"sscscore/wasm/internal/jsfile"
	"sscscore/wasm/internal/protocol"
)

// servedCascade fetches the weights folder the server offers, if any (serve
// -weights sets self.sscWeights, its address, in worker.js), and
// builds its cascade with every check of cascade.FromWeightsFiles (the
// checksums, the specs, the networks). served is false when the server
// offers none (the embedded weights are then used); when it offers some
// that fail, c is nil and why says why: the page then scores nothing
// rather than run other weights than announced.
func servedCascade() (c *cascade.Cascade, served bool, why string) {
	prefix := js.Global().Get("sscWeights")
	if prefix.Type() != js.TypeString {
		return nil, false, ""
	}
	servedWeights := prefix.String()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	get := func(name string) ([]byte, int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, servedWeights+name, nil)
		if err != nil {
			return nil, 0, err
		}
		resp, err := fetchDoer{}.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return b, resp.StatusCode, err
	}
	sums, status, err := get(cascade.SumsFile)
	if err != nil {
		return nil, true, "the weights this server offers could not be fetched: " + err.Error()
	}
	if status != http.StatusOK {
		return nil, true, fmt.Sprintf("the weights this server offers could not be fetched: %s%s answered %d", servedWeights, cascade.SumsFile, status)
	}
	files := map[string][]byte{cascade.SumsFile: sums}
	list, err := cascade.ParseSums(sums)
	if err != nil {
		return nil, true, "the weights this server offers were refused: " + err.Error()
	}
	for name := range list {
		b, status, err := get(name)
		if err != nil || status != http.StatusOK {
			return nil, true, fmt.Sprintf("the weights this server offers could not be fetched: %s%s (%d, %v)", servedWeights, name, status, err)
		}
		files[name] = b
	}
	c, err = cascade.FromWeightsFiles(files, "served by this server")
	if err != nil {
		return nil, true, err.Error()
	}
	return c, true, ""
}

// useWeights reads the files of a weights folder the page chose (by their
// names; a folder's sub-folders are not part of it) and has the engine
// check and use them.
func (w *worker) useWeights(job int, list js.Value) {
	files := map[string][]byte{}
	for i := 0; list.Truthy() && i < list.Length(); i++ {
		f := list.Index(i)
		if rp := f.Get("webkitRelativePath").String(); strings.Count(rp, "/") > 1 {
			continue
		}
		r := jsfile.New(f)
		if r.Size() > 64<<20 {
			continue // no network of this build is that large: not part of the weights
		}
		b := make([]byte, r.Size())
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			w.send(&protocol.Msg{Kind: protocol.Error, Job: job, Task: protocol.UseWeights, Error: fmt.Sprintf("%s could not be read: %v", f.Get("name").String(), err)}, nil)
			return
		}
		files[f.Get("name").String()] = b
	}
	w.eng.UseWeights(job, files, w.send)
}
