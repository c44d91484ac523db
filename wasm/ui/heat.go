//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"unsafe"

	"honnef.co/go/js/dom/v2"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// heatView is one heat map of a level slice.
type heatView struct {
	info *protocol.HeatmapInfo
	h    view.Heat
}

// heatTask is a slow heat map being computed.
type heatTask struct {
	level  int
	method string
}

func heatKey(method, score string) string { return method + "/" + score }

// float32s returns the float32 values in an ArrayBuffer.
func float32s(buf js.Value, n int) []float32 {
	if n == 0 {
		return nil
	}
	b := make([]byte, 4*n)
	js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(buf, 0, 4*n))
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

// onHeatmap keeps a heat map and redraws its level's overlay.
func (a *app) onHeatmap(info *protocol.HeatmapInfo, buf js.Value) {
	if info.Width <= 0 || info.Height <= 0 || !buf.Truthy() || buf.Get("byteLength").Int() < 4*info.Width*info.Height {
		return
	}
	if av := a.axials[info.Level]; av == nil || av.info.Slice != info.Slice {
		return // the level has moved since
	}
	m := a.heat[info.Level]
	if m == nil {
		m = map[string]*heatView{}
		a.heat[info.Level] = m
	}
	before := a.heatScale()
	m[heatKey(info.Method, info.Score)] = &heatView{info: info, h: view.Heat{
		W: info.Width, H: info.Height, Values: float32s(buf, info.Width*info.Height),
		X0: info.X0, Y0: info.Y0, StepX: info.StepX, StepY: info.StepY,
	}}
	// The worker sends the scale shared by the levels' maps so far with
	// each map: the latest holds.
	a.heatRange[heatKey(info.Method, info.Score)] = info.Max
	methodChanged := false
	if a.heatMethod == "" || (a.task != nil && a.task.level == info.Level && a.task.method == info.Method) {
		methodChanged = a.heatMethod != info.Method
		a.heatMethod = info.Method
	}
	a.updateHeatControls()
	switch {
	case methodChanged || a.heatScale() != before:
		// The scale shared by the levels changed: redraw them all.
		for _, av := range a.axials {
			a.drawOverlay(av)
		}
	case info.Method == a.heatMethod && info.Score == a.heatScore:
		a.drawOverlay(a.axials[info.Level])
	}
}

// dropHeat forgets the heat maps of a level (it moved).
func (a *app) dropHeat(level int) {
	delete(a.heat, level)
	a.updateHeatControls()
}

// currentHeat returns the heat map of a level for the chosen method and
// score, or nil.
func (a *app) currentHeat(level int) *heatView {
	return a.heat[level][heatKey(a.heatMethod, a.heatScore)]
}

// heatScale returns the range of the colour scale of the chosen method and
// score, shared by the levels.
func (a *app) heatScale() float64 {
	return a.heatRange[heatKey(a.heatMethod, a.heatScore)]
}

// methodInfo returns the build's description of a heat map method.
func (a *app) methodInfo(name string) *protocol.HeatmapMethod {
	if a.ready == nil {
		return nil
	}
	for i := range a.ready.HeatmapMethods {
		if a.ready.HeatmapMethods[i].Name == name {
			return &a.ready.HeatmapMethods[i]
		}
	}
	return nil
}

// updateHeatControls enables the heat map controls once there is a map,
// lists the methods that have maps, and redraws the legend.
func (a *app) updateHeatControls() {
	have := map[string]bool{}
	for _, hm := range a.heat {
		for _, h := range hm {
			have[h.info.Method] = true
		}
	}
	box := a.byID("show-heat")
	some := len(have) > 0
	box.Set("disabled", !some)
	a.byID("heat-score").Set("disabled", !some)
	sel := a.byID("heat-method")
	empty(sel)
	if a.ready != nil {
		for _, m := range a.ready.HeatmapMethods {
			if !have[m.Name] {
				continue
			}
			o := text("option", m.Label)
			o.Set("value", m.Name)
			o.Set("selected", m.Name == a.heatMethod)
			sel.AppendChild(o)
		}
	}
	if len(have) > 1 {
		show(a.byID("heat-method-box"))
	} else {
		hide(a.byID("heat-method-box"))
	}
	a.renderLegend()
}

// renderLegend shows the colour scale of the heat maps on display.
func (a *app) renderLegend() {
	leg := a.byID("heat-legend")
	scale := a.heatScale()
	if !a.input("show-heat").Checked() || scale <= 0 {
		hide(leg)
		return
	}
	var info *protocol.HeatmapInfo
	for _, hm := range a.heat {
		if h := hm[heatKey(a.heatMethod, a.heatScore)]; h != nil {
			info = h.info
			break
		}
	}
	if info == nil {
		hide(leg)
		return
	}
	show(leg)
	names := map[string]string{protocol.ScoreTOT: "total extent (TOT)", protocol.ScoreGG: "ground glass (GG)", protocol.ScoreRET: "reticulation (RET)"}
	label := info.Method
	doc := ""
	if m := a.methodInfo(info.Method); m != nil {
		label, doc = m.Label, m.Doc
	}
	a.byID("legend-title").SetTextContent(fmt.Sprintf("Heat map: %s, %s, in %s", label, names[info.Score], info.Unit))
	a.byID("legend-doc").SetTextContent(doc + " Shown inside the lungs only; one scale for the five levels.")
	a.byID("legend-min").SetTextContent(view.ScaleLabel(-scale))
	a.byID("legend-max").SetTextContent("+" + view.ScaleLabel(scale))
	bar := a.canvas("legend-bar")
	rgba := make([]byte, 4*256)
	view.LegendRGBA(256, 1, rgba)
	paint(bar, rgba, 256, 1)
	bar.SetAttribute("aria-label", fmt.Sprintf("Colour scale from %s to +%s %s: warm colours where disease raises the score, blue where lung lowers it",
		view.ScaleLabel(-scale), view.ScaleLabel(scale), info.Unit))
}

// redrawOverlays repaints every level slice's overlay and the legend.
func (a *app) redrawOverlays() {
	for _, av := range a.axials {
		a.drawOverlay(av)
	}
	a.renderLegend()
}

// slowMethods lists the heat maps made on request.
func (a *app) slowMethods() []protocol.HeatmapMethod {
	var out []protocol.HeatmapMethod
	if a.ready != nil {
		for _, m := range a.ready.HeatmapMethods {
			if m.Slow {
				out = append(out, m)
			}
		}
	}
	return out
}

// addExplain gives a level slice's figure the buttons that compute its
// slow heat maps, with a progress bar and a cancel button while one runs.
func (a *app) addExplain(av *axialView) {
	slow := a.slowMethods()
	if len(slow) == 0 || av.explain != nil {
		return
	}
	level := av.info.Level
	box := create("div")
	box.Class().Add("explain")
	box.Class().Add("noprint")
	for _, m := range slow {
		b := &dom.HTMLButtonElement{BasicHTMLElement: text("button", m.Label)}
		b.SetAttribute("type", "button")
		b.Class().Add("small")
		b.SetAttribute("title", m.Doc)
		b.SetAttribute("aria-label", fmt.Sprintf("%s for L%d", m.Label, level))
		b.Get("dataset").Set("method", m.Name)
		method := m.Name
		on(b.BasicHTMLElement.Value, "click", func(js.Value) { a.startTask(level, method) })
		box.AppendChild(b.BasicHTMLElement)
	}
	prog := &dom.HTMLProgressElement{BasicHTMLElement: create("progress")}
	prog.SetAttribute("aria-label", fmt.Sprintf("Heat map of L%d", level))
	hide(prog.BasicHTMLElement)
	box.AppendChild(prog.BasicHTMLElement)
	st := create("span")
	st.Class().Add("explain-status")
	box.AppendChild(st)
	stop := &dom.HTMLButtonElement{BasicHTMLElement: text("button", "Stop")}
	stop.SetAttribute("type", "button")
	stop.Class().Add("small")
	stop.SetAttribute("aria-label", fmt.Sprintf("Stop the heat map of L%d", level))
	hide(stop.BasicHTMLElement)
	on(stop.BasicHTMLElement.Value, "click", func(js.Value) {
		if a.task != nil {
			a.post(&protocol.Msg{Kind: protocol.Cancel, Job: a.job}, nil)
		}
	})
	box.AppendChild(stop.BasicHTMLElement)
	av.fig.AppendChild(box)
	av.explain = box
}

// startTask asks the worker for a slow heat map of a level.
func (a *app) startTask(level int, method string) {
	if a.running || a.task != nil || a.result == nil {
		return
	}
	a.task = &heatTask{level: level, method: method}
	a.setTaskUI(level, true, "Starting…")
	a.post(&protocol.Msg{Kind: protocol.Heatmap, Job: a.job, Level: level, Method: method}, nil)
}

// setTaskUI shows or hides a level's heat map progress.
func (a *app) setTaskUI(level int, running bool, status string) {
	for _, av := range a.axials {
		if av.explain == nil {
			continue
		}
		for _, b := range queryAllIn(av.explain, "button[data-method]") {
			b.Set("disabled", running)
		}
		mine := av.info.Level == level
		prog := query(av.explain, "progress")
		stop := query(av.explain, "button:not([data-method])")
		if running && mine {
			show(prog)
			show(stop)
		} else {
			hide(prog)
			hide(stop)
		}
		if mine {
			query(av.explain, ".explain-status").SetTextContent(status)
		}
	}
}

// onTaskProgress shows a slow heat map's progress.
func (a *app) onTaskProgress(p *protocol.ProgressInfo) {
	if a.task == nil {
		return
	}
	av := a.axials[a.task.level]
	if av == nil || av.explain == nil {
		return
	}
	prog := &dom.HTMLProgressElement{BasicHTMLElement: query(av.explain, "progress")}
	prog.SetMax(float64(max(p.Total, 1)))
	prog.SetValue(float64(p.Done))
	s := view.Count(p.Done, p.Total, p.Unit)
	if ms, ok := view.Remaining(p.ElapsedMS, p.Done, p.Total); ok {
		s += ", " + view.Duration(ms) + " left"
	}
	query(av.explain, ".explain-status").SetTextContent(s)
}

// onTaskDone ends a slow heat map request.
func (a *app) onTaskDone(m *protocol.Msg) {
	if a.task == nil {
		return
	}
	status := "Done."
	if m.Cancelled {
		status = "Stopped."
	} else if ms, ok := m.Timings["total"]; ok {
		// How long it took, for the benchmarks.
		document.Get("documentElement").Get("dataset").Set("tTask", fmt.Sprintf("%.1f", ms))
	}
	a.setTaskUI(a.task.level, false, status)
	a.task = nil
}

// queryAllIn returns the elements under root matching a CSS selector.
func queryAllIn(root *dom.BasicHTMLElement, sel string) []*dom.BasicHTMLElement {
	list := root.Call("querySelectorAll", sel)
	out := make([]*dom.BasicHTMLElement, list.Length())
	for i := range out {
		out[i] = wrap(list.Index(i))
	}
	return out
}
