//go:build js && wasm

package main

import (
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// bindControls wires the display options, the exports and Cancel.
func (a *app) bindControls() {
	for _, r := range a.doc.QuerySelectorAll(`input[name="window"]`) {
		in := r.(*dom.HTMLInputElement)
		in.AddEventListener("change", false, func(dom.Event) {
			if in.Checked() {
				a.window = view.WindowByName(in.Value())
				a.lut = a.window.LUT()
				a.redrawImages()
			}
		})
	}
	a.byID("show-outline").AddEventListener("change", false, func(dom.Event) {
		for _, av := range a.axials {
			a.drawAxial(av)
		}
	})
	a.byID("rounded").AddEventListener("change", false, func(dom.Event) { a.renderScores() })
	a.byID("include-patient").AddEventListener("change", false, func(dom.Event) { a.renderPatient() })
	a.byID("cancel").AddEventListener("click", false, func(dom.Event) { a.cancel() })
	dom.GetWindow().AddEventListener("keydown", false, func(ev dom.Event) {
		if ev.(*dom.KeyboardEvent).Key() == "Escape" && a.running {
			a.cancel()
		}
	})
	for _, f := range []string{"csv", "json"} {
		a.byID("export-"+f).AddEventListener("click", false, func(dom.Event) {
			if a.result == nil {
				return
			}
			a.post(&protocol.Msg{Kind: protocol.Export, Job: a.job, Format: f,
				Patient: a.byID("include-patient").(*dom.HTMLInputElement).Checked()}, nil)
		})
	}
	a.byID("print").AddEventListener("click", false, func(dom.Event) {
		a.byID("print-footer").SetTextContent("Printed " + time.Now().Format("2006-01-02 15:04") +
			" by sscscore " + a.byID("version").TextContent() +
			", computed in the browser. Research use only; not a medical device.")
		js.Global().Call("print")
	})
	a.updateExportButtons()
}

// download saves an export through a Blob URL: the file is made on this
// computer and never leaves it.
func download(e *protocol.ExportInfo) {
	if e == nil {
		return
	}
	g := js.Global()
	blob := g.Get("Blob").New([]any{e.Text}, map[string]any{"type": e.Type})
	url := g.Get("URL").Call("createObjectURL", blob)
	doc := g.Get("document")
	link := doc.Call("createElement", "a")
	link.Set("href", url)
	link.Set("download", e.Name)
	link.Set("hidden", true)
	doc.Get("body").Call("appendChild", link)
	link.Call("click")
	link.Call("remove")
	time.AfterFunc(time.Minute, func() { g.Get("URL").Call("revokeObjectURL", url) })
}
