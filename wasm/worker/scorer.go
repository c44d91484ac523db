//go:build js && wasm

package main

import (
	"context"

	"sscscore/model/ingest"
	"sscscore/wasm/internal/engine"
)

// newScorer returns the trained cascade of this build, or nil and the
// reason there is none. The cascade (model/cascade) and its trained weights
// are not part of the build yet, so the page says that scoring is not
// available and never shows levels or scores.
func newScorer() (engine.Scorer, string) {
	return nil, "the trained scoring networks are not part of this build yet."
}

// demoFiles returns the source of the built-in demo scan, or nil when the
// build has none (the phantom's demo case is not part of the build yet).
func demoFiles() func(ctx context.Context, progress func(done, total int)) ([]ingest.File, error) {
	return nil
}
