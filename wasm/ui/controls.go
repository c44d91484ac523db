//go:build js && wasm

package main

import (
	"syscall/js"
	"time"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// bindControls wires the display options, the exports and Cancel.
func (a *app) bindControls() {
	for _, r := range queryAll(`input[name="window"]`) {
		on(r.Value, "change", func(js.Value) {
			if r.Get("checked").Bool() {
				a.window = view.WindowByName(r.Get("value").String())
				a.lut = a.window.LUT()
				a.redrawImages()
			}
		})
	}
	on(a.byID("show-outline").Value, "change", func(js.Value) { a.redrawOverlays() })
	on(a.byID("show-heat").Value, "change", func(js.Value) { a.redrawOverlays() })
	for _, r := range queryAll(`input[name="heat-score"]`) {
		on(r.Value, "change", func(js.Value) {
			if r.Get("checked").Bool() {
				a.heatScore = r.Get("value").String()
				a.redrawOverlays()
			}
		})
	}
	on(a.byID("heat-method").Value, "change", func(js.Value) {
		a.heatMethod = a.byID("heat-method").Get("value").String()
		a.redrawOverlays()
	})
	on(a.byID("rounded").Value, "change", func(js.Value) { a.renderScores() })
	on(a.byID("include-patient").Value, "change", func(js.Value) { a.renderPatient() })
	on(a.byID("cancel").Value, "click", func(js.Value) { a.cancel() })
	on(a.byID("series-more").Value, "click", func(js.Value) {
		a.setSeriesCompact(!a.byID("series-table").Class().Contains("compact"))
	})
	on(js.Global(), "keydown", func(ev js.Value) {
		if ev.Get("key").String() == "Escape" && a.running {
			a.cancel()
		}
	})
	for _, f := range []string{"csv", "json"} {
		on(a.byID("export-"+f).Value, "click", func(js.Value) {
			if a.result == nil {
				return
			}
			a.post(&protocol.Msg{Kind: protocol.Export, Job: a.job, Format: f,
				Patient: a.input("include-patient").Checked()}, nil)
		})
	}
	on(a.byID("print").Value, "click", func(js.Value) { js.Global().Call("print") })
	// However printing starts (the button or the browser's menu), the
	// report says when and by what it was made.
	on(js.Global(), "beforeprint", func(js.Value) {
		a.byID("print-footer").SetTextContent("Printed " + time.Now().Format("2006-01-02 15:04") +
			" by sscscore " + a.buildText() +
			", computed in this browser. Research use only; not a medical device.")
	})
	a.updateExportButtons()
}

// download saves an export through a Blob URL: the file is made on this
// computer and never leaves it.
func download(e *protocol.ExportInfo, buf js.Value) {
	if e == nil {
		return
	}
	g := js.Global()
	var part any = e.Text
	if e.Binary && buf.Truthy() {
		part = buf
	}
	blob := g.Get("Blob").New([]any{part}, map[string]any{"type": e.Type})
	url := g.Get("URL").Call("createObjectURL", blob)
	link := document.Call("createElement", "a")
	link.Set("href", url)
	link.Set("download", e.Name)
	link.Set("hidden", true)
	document.Get("body").Call("appendChild", link)
	link.Call("click")
	link.Call("remove")
	time.AfterFunc(time.Minute, func() { g.Get("URL").Call("revokeObjectURL", url) })
}
