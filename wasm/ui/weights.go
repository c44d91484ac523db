//go:build js && wasm

package main

import (
	"syscall/js"

	"sscscore/wasm/internal/protocol"
)

// weightsSeq numbers the page's requests to use a weights folder.
var weightsSeq int

// bindWeights wires the advanced option that runs a weights folder chosen
// from disk in this tab: its files go to the worker, which checks them
// whole (cascade.FromWeightsFiles) before using them.
func (a *app) bindWeights() {
	in := a.input("weights-input")
	on(a.byID("pick-weights").Value, "click", func(js.Value) { in.Click() })
	on(in.BasicHTMLElement.Value, "change", func(js.Value) {
		list := in.Get("files")
		if list.Length() == 0 {
			return
		}
		files := make([]any, 0, list.Length())
		for i := range list.Length() {
			files = append(files, list.Index(i))
		}
		weightsSeq++
		a.byID("weights-status").SetTextContent("Checking the weights folder…")
		a.post(&protocol.Msg{Kind: protocol.UseWeights, Job: weightsSeq}, files)
		in.Set("value", "")
	})
}

// onWeights reports the worker's answer to a weights folder: refused with
// the reason (the networks in use stay), or in use (the scan on screen,
// made by the previous networks, is cleared).
func (a *app) onWeights(m *protocol.Msg) {
	st := a.byID("weights-status")
	switch m.Kind {
	case protocol.Error:
		st.SetTextContent("Refused: " + m.Error + ". The networks in use are unchanged.")
	case protocol.Done:
		a.resetReport()
		hide(a.byID("work"))
		a.setState("idle")
		name := "the chosen weights"
		if a.ready != nil && a.ready.Model != nil {
			for _, f := range a.ready.Model.Fields {
				if f[0] == "Weights" {
					name = f[1]
				}
			}
		}
		st.SetTextContent("In use in this tab: " + name + ". Open a scan (or the demo) to score it with them.")
	}
}
