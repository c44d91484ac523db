//go:build js && wasm

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"sscscore/model/cascade"
)

// servedWeights is where serve -weights puts a site's weights folder
// (serve/weights.go).
const servedWeights = "weights/"

// servedCascade fetches the weights folder the server offers, if any, and
// builds its cascade with every check of cascade.FromWeightsFiles (the
// checksums, the specs, the networks). served is false when the server
// offers none (the embedded weights are then used); when it offers some
// that fail, c is nil and why says why: the page then scores nothing
// rather than run other weights than announced.
func servedCascade() (c *cascade.Cascade, served bool, why string) {
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
	if status == http.StatusNotFound {
		return nil, false, ""
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
