//go:build js && wasm

package main

import (
	"context"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
	"sscscore/model/phantom"
)

// newCascade returns the trained cascade of this build (model/cascade with
// the weights embedded by model/weights, the same as the command-line
// tool's), or nil and the reason it could not be built.
func newCascade() (*cascade.Cascade, string) {
	if c, served, why := servedCascade(); served { // serve -weights
		return c, why
	}
	c, err := cascade.Default()
	if err != nil {
		return nil, "the scoring networks could not be loaded: " + err.Error()
	}
	return c, ""
}

// demoFiles returns the source of the built-in demo scan: the phantom's
// demo case, rendered here as DICOM files in memory and then read through
// the same ingestion as dropped files.
func demoFiles() func(ctx context.Context, progress func(done, total int)) ([]ingest.File, error) {
	return func(ctx context.Context, progress func(done, total int)) ([]ingest.File, error) {
		pf, err := phantom.DemoFiles(ctx, progress)
		if err != nil {
			return nil, err
		}
		files := make([]ingest.File, len(pf))
		for i, f := range pf {
			files[i] = ingest.BytesFile("demo/"+f.Name, f.Data)
		}
		return files, nil
	}
}
