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

// checkLevels is the model card's advice on the level lines, for the
// shipped weights (phantoms only) or a weights folder.
func checkLevels(info cascade.ModelInfo) string {
	who := "a network that has seen phantoms only; on real scans it"
	if info.Weights != "" {
		who = "the network of the weights " + info.Weights + " (see their model card for what they were validated on); it"
	}
	return "the level lines are found by " + who + " can place a level a slice or two away from where a reader would. Look at the lines on the coronal view and move any that sit wrong: that level is scored again at once"
}
