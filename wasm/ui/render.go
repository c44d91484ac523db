//go:build js && wasm

package main

import (
	"fmt"
	"strconv"
	"syscall/js"
	"unsafe"

	"honnef.co/go/js/dom/v2"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// maxCoronalRows bounds the display height of the coronal reformat.
const maxCoronalRows = 2048

// coronalView is the coronal reformat: its pixels as received and resampled
// to square display pixels.
type coronalView struct {
	info  *protocol.ImageInfo
	rowZ  []float64 // patient z of each image row
	disp  []int16   // display pixels, rows x info.Width
	rows  int
	rgba  []byte
	lines map[int]*dom.BasicHTMLElement // level line elements by level
}

// axialView is one level slice.
type axialView struct {
	info    *protocol.ImageInfo
	hu      []int16
	rgba    []byte
	mask    []bool  // the lungs
	outline []int32 // the lungs' edge
	over    []byte  // the overlay's pixels
	fig     *dom.BasicHTMLElement
	canvas  *dom.HTMLCanvasElement
	overC   *dom.HTMLCanvasElement
	tag     *dom.BasicHTMLElement
	cap     *dom.BasicHTMLElement
	explain *dom.BasicHTMLElement // the slow heat map's controls, if any
}

// resetReport hides and empties the results of the previous scan.
func (a *app) resetReport() {
	a.inv = nil
	hide(a.byID("report"))
	empty(query(nil, "#series-table tbody"))
	empty(a.byID("files-reasons"))
	empty(a.byID("files-list"))
	a.byID("series-reason").SetTextContent("")
	a.byID("files-summary").SetTextContent("")
	hide(a.byID("patient"))
	hide(a.byID("warnings"))
	empty(a.byID("warnings-list"))
	a.resetResult()
}

// resetResult empties the images and scores (a new series is being read).
func (a *app) resetResult() {
	a.coronal = nil
	a.axials = map[int]*axialView{}
	a.result = nil
	a.heat = map[int]map[string]*heatView{}
	a.heatRange = map[string]float64{}
	a.heatMethod = ""
	a.task = nil
	c := a.canvas("coronal")
	c.SetWidth(1)
	c.SetHeight(1)
	empty(a.byID("level-lines"))
	empty(a.byID("axials"))
	empty(query(nil, "#score-table tbody"))
	empty(query(nil, "#score-table tfoot"))
	a.byID("coronal-caption").SetTextContent("Coronal reformat")
	a.byID("timings").SetTextContent("")
	hide(a.byID("scores"))
	a.updateScoringStatus()
	a.updateExportButtons()
	a.updateHeatControls()
}

// updateScoringStatus says whether scores can appear in this build.
func (a *app) updateScoringStatus() {
	s := a.byID("scoring-status")
	switch {
	case a.ready == nil || a.ready.Scoring:
		s.SetTextContent("")
	default:
		s.SetTextContent("Scoring is not available in this build: " + a.ready.NoScoring +
			" The series, files and images below are read from your scan; no levels or scores are shown.")
	}
}

// text makes an element holding text.
func text(tag, s string) *dom.BasicHTMLElement {
	e := create(tag)
	e.SetTextContent(s)
	return e
}

// renderModel shows the model card summary, or says there is none.
func (a *app) renderModel() {
	card := a.byID("model-card")
	empty(card)
	stmt := a.byID("model-statement")
	if a.ready == nil || a.ready.Model == nil {
		card.AppendChild(text("p", "This build holds no trained model, so it finds no levels and computes no scores."))
		stmt.SetTextContent("Research use only. Not a medical device.")
		a.updateScoringStatus()
		return
	}
	m := a.ready.Model
	dl := create("dl")
	add := func(k, v string) {
		dl.AppendChild(text("dt", k))
		dl.AppendChild(text("dd", v))
	}
	add("Model", m.Name)
	for _, f := range m.Fields {
		add(f[0], f[1])
	}
	card.AppendChild(dl)
	s := m.Statement
	if s == "" {
		s = "Research use only. Not a medical device."
	}
	stmt.SetTextContent(s)
	a.updateScoringStatus()
}

func (a *app) onInventory(inv *protocol.InventoryInfo) {
	a.inv = inv
	show(a.byID("report"))
	a.updateScoringStatus()

	// Series table: built off the document, inserted once.
	tbody := query(nil, "#series-table tbody")
	empty(tbody)
	frag := wrap(document.Call("createDocumentFragment"))
	chosenDesc := ""
	unusable := 0
	for _, s := range inv.Series {
		tr := create("tr")
		if s.UID == inv.Chosen {
			tr.Class().Add("chosen")
			chosenDesc = s.Description
		}
		if !s.Usable {
			tr.Class().Add("unusable")
			unusable++
		}
		td := create("td")
		desc := s.Description
		if desc == "" {
			desc = "(no description)"
		}
		uid := s.UID
		td.AppendChild(newRadio("series", uid, "Use series "+desc, uid == inv.Chosen, !s.Usable, func() {
			if a.inv == nil || uid != a.inv.Chosen {
				a.newJob(&protocol.Msg{Kind: protocol.Choose, Series: uid}, nil)
			}
		}))
		tr.AppendChild(td)
		notes := s.Reason
		for _, is := range s.Issues {
			if notes != "" {
				notes += "; "
			}
			notes += is
		}
		for _, cell := range []string{desc, strconv.Itoa(s.Slices), view.Millimetres(s.Thickness),
			view.Millimetres(s.Spacing), s.Kernel, notes} {
			tr.AppendChild(text("td", cell))
		}
		frag.AppendChild(tr)
	}
	tbody.AppendChild(frag)
	a.seriesUnusable = unusable
	a.setSeriesCompact(true)
	why := inv.Why
	if inv.Manual {
		why = "You chose “" + chosenDesc + "”."
	}
	a.byID("series-reason").SetTextContent(why)

	// Files.
	notUsed := inv.Files - inv.Used
	sum := fmt.Sprintf("%s read; %s in the series used.", view.Plural(inv.Files, "file", "files"), view.Plural(inv.Used, "file", "files"))
	if notUsed > 0 {
		sum += fmt.Sprintf(" %s not used:", view.Plural(notUsed, "file was", "files were"))
	}
	a.byID("files-summary").SetTextContent(sum)
	reasons := a.byID("files-reasons")
	list := a.byID("files-list")
	empty(reasons)
	empty(list)
	rf := wrap(document.Call("createDocumentFragment"))
	lf := wrap(document.Call("createDocumentFragment"))
	for _, g := range inv.Groups {
		rf.AppendChild(text("li", g.Text))
		for i, p := range g.Paths {
			r := g.Text
			if i < len(g.Reasons) && g.Reasons[i] != "" {
				r = g.Reasons[i]
			}
			lf.AppendChild(text("li", p+": "+r))
		}
	}
	reasons.AppendChild(rf)
	list.AppendChild(lf)
	if len(inv.Groups) == 0 {
		hide(a.byID("files-details"))
	} else {
		show(a.byID("files-details"))
	}
	a.renderWarnings()
	a.renderPatient()
}

// setSeriesCompact hides (or shows) the series that cannot be scored.
func (a *app) setSeriesCompact(compact bool) {
	table := a.byID("series-table")
	more := a.byID("series-more")
	if a.seriesUnusable == 0 {
		table.Class().Remove("compact")
		hide(more)
		return
	}
	show(more)
	if compact {
		table.Class().Add("compact")
		more.SetTextContent(fmt.Sprintf("Show the %s that cannot be scored", view.Plural(a.seriesUnusable, "series", "series")))
		more.SetAttribute("aria-expanded", "false")
	} else {
		table.Class().Remove("compact")
		more.SetTextContent("Hide the series that cannot be scored")
		more.SetAttribute("aria-expanded", "true")
	}
}

// renderWarnings lists the inventory's and the result's warnings.
func (a *app) renderWarnings() {
	var ws []string
	if a.inv != nil {
		ws = append(ws, a.inv.Warnings...)
	}
	if a.result != nil {
		ws = append(ws, a.result.Warnings...)
	}
	list := a.byID("warnings-list")
	empty(list)
	for _, w := range ws {
		list.AppendChild(text("li", w))
	}
	if len(ws) == 0 {
		hide(a.byID("warnings"))
	} else {
		show(a.byID("warnings"))
	}
}

// renderPatient shows the patient's name and ID only when the user ticked
// the box.
func (a *app) renderPatient() {
	p := a.byID("patient")
	if !a.input("include-patient").Checked() || a.inv == nil || a.inv.Patient == nil {
		p.SetTextContent("")
		hide(p)
		return
	}
	pt := a.inv.Patient
	s := "Patient: " + orDash(pt.Name) + " · ID " + orDash(pt.ID)
	if pt.StudyDate != "" {
		s += " · study " + pt.StudyDate
	}
	p.SetTextContent(s)
	show(p)
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// int16s returns the int16 pixels in an ArrayBuffer.
func int16s(buf js.Value, n int) []int16 {
	if n == 0 {
		return nil
	}
	b := make([]byte, 2*n)
	js.CopyBytesToGo(b, js.Global().Get("Uint8Array").New(buf, 0, 2*n))
	return unsafe.Slice((*int16)(unsafe.Pointer(&b[0])), n)
}

// paint draws RGBA pixels into a canvas of size w x h.
func paint(c *dom.HTMLCanvasElement, rgba []byte, w, h int) {
	if c.Width() != w || c.Height() != h {
		c.SetWidth(w)
		c.SetHeight(h)
	}
	arr := js.Global().Get("Uint8ClampedArray").New(len(rgba))
	js.CopyBytesToJS(arr, rgba)
	img := js.Global().Get("ImageData").New(arr, w, h)
	c.GetContext("2d").Call("putImageData", img, 0, 0)
}

func (a *app) onImage(info *protocol.ImageInfo, buf js.Value) {
	if info.Width <= 0 || info.Height <= 0 || !buf.Truthy() {
		return
	}
	hu := int16s(buf, info.Width*info.Height)
	switch info.Role {
	case protocol.RoleCoronal:
		a.setCoronal(info, hu)
	case protocol.RoleAxial:
		a.setAxial(info, hu)
	}
}

func (a *app) setCoronal(info *protocol.ImageInfo, hu []int16) {
	cv := &coronalView{info: info, lines: map[int]*dom.BasicHTMLElement{}}
	cv.rowZ = make([]float64, info.Height)
	for r := range cv.rowZ {
		k := r
		if r < len(info.RowSlice) {
			k = info.RowSlice[r]
		}
		if k < len(info.SliceZ) {
			cv.rowZ[r] = info.SliceZ[k]
		}
	}
	rows, lo, hi, frac := view.CoronalRows(cv.rowZ, info.PixelW, maxCoronalRows)
	cv.rows = rows
	cv.disp = view.ResampleRows(hu, info.Width, lo, hi, frac)
	cv.rgba = make([]byte, 4*len(cv.disp))
	a.coronal = cv
	empty(a.byID("level-lines"))
	a.drawCoronal()
	a.byID("coronal-caption").SetTextContent(fmt.Sprintf("Coronal reformat: %d slices from z = %.0f to %.0f mm",
		len(info.SliceZ), first(info.SliceZ), last(info.SliceZ)))
	a.renderLevelLines()
}

func first(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return x[0]
}

func last(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	return x[len(x)-1]
}

func (a *app) drawCoronal() {
	cv := a.coronal
	if cv == nil {
		return
	}
	view.RGBA(cv.disp, a.lut, cv.rgba)
	c := a.canvas("coronal")
	paint(c, cv.rgba, cv.info.Width, cv.rows)
	c.SetAttribute("aria-label", fmt.Sprintf("Coronal reformat of the scan, %s window", a.window.Name))
}

func (a *app) setAxial(info *protocol.ImageInfo, hu []int16) {
	av := a.axials[info.Level]
	if av == nil {
		av = &axialView{fig: create("figure")}
		av.fig.Class().Add("axial")
		av.fig.SetAttribute("id", fmt.Sprintf("axial-%d", info.Level))
		av.canvas = &dom.HTMLCanvasElement{BasicHTMLElement: create("canvas")}
		av.canvas.SetAttribute("role", "img")
		av.overC = &dom.HTMLCanvasElement{BasicHTMLElement: create("canvas")}
		av.overC.Class().Add("overlay")
		av.overC.SetAttribute("aria-hidden", "true")
		av.tag = create("span")
		av.tag.Class().Add("tag")
		av.cap = create("figcaption")
		av.fig.AppendChild(av.canvas)
		av.fig.AppendChild(av.overC)
		av.fig.AppendChild(av.tag)
		av.fig.AppendChild(av.cap)
		a.axials[info.Level] = av
		// Keep the figures in level order.
		box := a.byID("axials")
		var before *dom.BasicHTMLElement
		for l := info.Level + 1; l <= 5; l++ {
			if o := a.axials[l]; o != nil {
				before = o.fig
				break
			}
		}
		if before != nil {
			box.InsertBefore(av.fig, before)
		} else {
			box.AppendChild(av.fig)
		}
	}
	if av.info != nil && av.info.Slice != info.Slice {
		a.dropHeat(info.Level) // the maps were of the old slice
	}
	av.info, av.hu = info, hu
	n := info.Width * info.Height
	if len(av.rgba) != 4*n {
		av.rgba = make([]byte, 4*n)
		av.over = make([]byte, 4*n)
	}
	av.mask = view.MaskFromRuns(info.LungRuns, n)
	av.outline = view.OutlineOfRuns(info.LungRuns, av.mask, info.Width, info.Height)
	label := fmt.Sprintf("L%d", info.Level)
	if info.Level == 0 {
		label = "Slice"
	}
	av.tag.SetTextContent(label)
	name := ""
	if info.Level >= 1 && info.Level <= 5 {
		name = view.LevelNames[info.Level-1] + ", "
	}
	av.cap.SetTextContent(fmt.Sprintf("%s: %sslice %d, z = %.0f mm", label, name, info.Slice+1, info.Z))
	av.canvas.SetAttribute("aria-label", fmt.Sprintf("Axial slice at level %s, z = %.0f mm", label, info.Z))
	a.addExplain(av)
	// The grey image now, the overlay in a task of its own, so that no
	// single task of the page's thread grows long.
	view.RGBA(av.hu, a.lut, av.rgba)
	paint(av.canvas, av.rgba, av.info.Width, av.info.Height)
	later(func() {
		if a.axials[info.Level] == av && av.info == info {
			a.drawOverlay(av)
		}
	})
}

// later runs f in a task of its own, after the browser has handled what
// is pending.
func later(f func()) {
	var cb js.Func
	cb = js.FuncOf(func(this js.Value, args []js.Value) any {
		cb.Release()
		f()
		return nil
	})
	js.Global().Call("setTimeout", cb, 0)
}

func (a *app) drawAxial(av *axialView) {
	view.RGBA(av.hu, a.lut, av.rgba)
	paint(av.canvas, av.rgba, av.info.Width, av.info.Height)
	a.drawOverlay(av)
}

// drawOverlay paints an axial slice's overlay: the heat map inside the
// lungs when asked for, and the lung outline over it.
func (a *app) drawOverlay(av *axialView) {
	w, h := av.info.Width, av.info.Height
	clear(av.over)
	heat := a.currentHeat(av.info.Level)
	if heat != nil && a.input("show-heat").Checked() {
		view.PaintHeat(&heat.h, a.heatScale(), av.mask, w, h, av.over)
	}
	if a.input("show-outline").Checked() {
		view.Outline(av.outline, av.over)
	}
	paint(av.overC, av.over, w, h)
	av.fig.Get("dataset").Set("heat", fmt.Sprint(heat != nil && a.input("show-heat").Checked()))
}

// redrawImages repaints every image (after a window change).
func (a *app) redrawImages() {
	a.drawCoronal()
	for _, av := range a.axials {
		a.drawAxial(av)
	}
}

func (a *app) onResult(r *protocol.ResultInfo) {
	a.result = r
	a.resultSeq++
	ds := document.Get("documentElement").Get("dataset")
	ds.Set("resultSeq", fmt.Sprint(a.resultSeq))
	if a.running {
		// The time from handing over the files to the first scores.
		ds.Set("scoresAt", fmt.Sprintf("%.1f", now()))
	}
	a.renderLevelLines()
	a.renderScores()
	a.renderWarnings()
	a.updateExportButtons()
	if !a.running {
		a.status("Scores updated.")
	}
}

// position says where a level is, for the score table.
func position(l protocol.LevelResult) string {
	switch {
	case l.Status == protocol.StatusOutside:
		return "outside the scan (" + l.Outside + ")"
	case l.Slice == nil || l.Z == nil:
		return "–"
	}
	s := fmt.Sprintf("slice %d, z = %.0f mm", *l.Slice+1, *l.Z)
	switch {
	case l.Moved:
		s += " (placed by you)"
	case l.Confidence > 0:
		s += fmt.Sprintf(" · confidence %.0f%%", 100*l.Confidence)
	}
	if l.Status == protocol.StatusNoLung {
		s += ": no lung to score"
	}
	return s
}

// renderScores fills the score table.
func (a *app) renderScores() {
	r := a.result
	tbody := query(nil, "#score-table tbody")
	tfoot := query(nil, "#score-table tfoot")
	empty(tbody)
	empty(tfoot)
	if r == nil {
		hide(a.byID("scores"))
		return
	}
	show(a.byID("scores"))
	rounded := a.input("rounded").Checked()
	row := func(parent *dom.BasicHTMLElement, head, pos string, raw, rnd *protocol.Scores, id string) *dom.BasicHTMLElement {
		tr := create("tr")
		tr.SetAttribute("id", id)
		th := text("th", head)
		th.SetAttribute("scope", "row")
		tr.AppendChild(th)
		tr.AppendChild(text("td", pos))
		s, decimals := raw, 1
		if rounded {
			s, decimals = rnd, 0
		}
		for _, v := range []func(*protocol.Scores) float64{
			func(s *protocol.Scores) float64 { return s.TOT },
			func(s *protocol.Scores) float64 { return s.GG },
			func(s *protocol.Scores) float64 { return s.RET },
		} {
			cell := "–"
			if s != nil {
				cell = strconv.FormatFloat(v(s), 'f', decimals, 64)
			}
			c := text("td", cell)
			c.Class().Add("num")
			tr.AppendChild(c)
		}
		parent.AppendChild(tr)
		return tr
	}
	for _, l := range r.Levels {
		tr := row(tbody, fmt.Sprintf("L%d", l.Level), position(l), l.Scores, l.Rounded, fmt.Sprintf("score-L%d", l.Level))
		tr.Get("dataset").Set("status", l.Status)
		if l.Moved {
			tr.Class().Add("moved")
		}
	}
	what := "mean of the five levels"
	if r.Mean.Levels < len(r.Levels) {
		what = fmt.Sprintf("mean of the %s scored", view.Plural(r.Mean.Levels, "level", "levels"))
	}
	row(tfoot, "Whole lung", what, r.Mean.Scores, r.Mean.Rounded, "score-mean")
}

// updateExportButtons enables CSV and JSON export once there is a result.
func (a *app) updateExportButtons() {
	has := a.result != nil
	a.button("pacs-store").SetDisabled(!has || a.pacs.store != 0)
	for _, id := range []string{"export-csv", "export-json", "export-sr"} {
		b := a.button(id)
		b.SetDisabled(!has)
		if has {
			b.RemoveAttribute("title")
		} else {
			b.SetAttribute("title", "Available once the scan has been scored")
		}
	}
}

// warmUp runs the page's pixel code once on a small image, while the page
// is idle: the browser compiles WebAssembly functions when they are first
// called (and optimises them as they run), which made handling the first
// level slice of a scan take several times longer than the next.
func warmUp() {
	const n = 64
	hu := make([]int16, n*n)
	runs := []int32{n*20 + 10, 20, n*21 + 10, 20}
	for i := range hu {
		hu[i] = int16(i%2000 - 1000)
	}
	rgba := make([]byte, 4*n*n)
	view.RGBA(hu, view.Lung.LUT(), rgba)
	mask := view.MaskFromRuns(runs, n*n)
	out := view.OutlineOfRuns(runs, mask, n, n)
	h := &view.Heat{W: 8, H: 8, Values: make([]float32, 64), X0: 3.5, Y0: 3.5, StepX: 8, StepY: 8}
	view.PaintHeat(h, 1, mask, n, n, rgba)
	view.Outline(out, rgba)
	rows, lo, hi, frac := view.CoronalRows([]float64{0, -5, -10}, 0.7, 64)
	view.ResampleRows(hu[:3*n], n, lo[:min(rows, len(lo))], hi[:min(rows, len(hi))], frac[:min(rows, len(frac))])
	c := &dom.HTMLCanvasElement{BasicHTMLElement: create("canvas")}
	paint(c, rgba, n, n)
	legend := make([]byte, 4*256)
	view.LegendRGBA(256, 1, legend)
}
