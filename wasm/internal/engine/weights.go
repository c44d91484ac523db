package engine

import (
	"sscscore/model/cascade"
	"sscscore/wasm/internal/protocol"
)

// UseWeights replaces the cascade with the networks of a weights folder
// (file name to content), checked whole by cascade.FromWeightsFiles: on
// success the scan in use and its result are dropped (they were made by
// other networks) and a ready event carries the new model card, then a
// done event; otherwise an error event says why and nothing changes.
// Both events carry job and the task protocol.UseWeights.
func (e *Engine) UseWeights(job int, files map[string][]byte, send Send) {
	c, err := cascade.FromWeightsFiles(files, "loaded in this page")
	if err != nil {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Task: protocol.UseWeights, Error: err.Error()}, nil)
		return
	}
	e.opt.Cascade, e.opt.NoScoring = c, ""
	e.inv, e.invInfo, e.src, e.series, e.result, e.maps = nil, nil, nil, nil, nil, nil
	send(&protocol.Msg{Kind: protocol.Ready, Ready: e.Ready()}, nil)
	send(&protocol.Msg{Kind: protocol.Done, Job: job, Task: protocol.UseWeights}, nil)
}
