//go:build js && wasm

package main

import (
	"context"

	"sscscore/model/ingest"
	"sscscore/model/phantom"
	"sscscore/wasm/internal/engine"
)

// newScorer returns the trained cascade of this build, or nil and the
// reason there is none. The cascade (model/cascade) and its trained weights
// are not part of the build yet, so the page says that scoring is not
// available and never shows levels or scores.
func newScorer() (engine.Scorer, string) {
	return nil, "the trained scoring networks are not part of this build yet."
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
