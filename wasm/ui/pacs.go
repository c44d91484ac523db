//go:build js && wasm

package main

import (
	"fmt"
	"strconv"
	"strings"
	"syscall/js"

	"sscscore/wasm/internal/protocol"
	"sscscore/wasm/internal/view"
)

// The PACS panel: the DICOMweb address (remembered in localStorage,
// prefilled from what the server was started with), the log-in (kept in
// memory only), a study search, the chosen study's series, and Open, which
// has the worker retrieve the series and read it like dropped files. The
// worker does every request; the page only sends the address and log-in
// with each.

// pacsURLKey is the localStorage key of the last DICOMweb address used.
const pacsURLKey = "sscscore.pacs.url"

// allSeries stands in the series table for every CT series of the study.
const allSeries = "*"

// pacsState is the panel's state.
type pacsState struct {
	seq     int // last PACS task sent (search, series, store)
	search  int // seq of the search whose answer is awaited
	series  int // seq of the series list awaited
	store   int // seq of the store awaited
	studies []protocol.StudyInfo
	study   string // UID of the study whose series are listed
	found   *protocol.FoundInfo
	chosen  string // series to open
}

// bindPACS wires the PACS panel and the store and SR buttons.
func (a *app) bindPACS() {
	a.pacsConfigured()
	for _, r := range queryAll(`input[name="pacs-auth"]`) {
		on(r.Value, "change", func(js.Value) { a.showAuthFields() })
	}
	a.showAuthFields()
	on(a.byID("pacs-form").Value, "submit", func(ev js.Value) {
		ev.Call("preventDefault") // the page never navigates
		a.pacsSearch()
	})
	on(a.byID("pacs-open").Value, "click", func(js.Value) { a.pacsOpen() })
	on(a.byID("pacs-store").Value, "click", func(js.Value) { a.pacsStore() })
	on(a.byID("export-sr").Value, "click", func(js.Value) {
		if a.result != nil {
			a.post(&protocol.Msg{Kind: protocol.Export, Job: a.job, Format: protocol.FormatSR, Patient: a.input("include-patient").Checked()}, nil)
		}
	})
}

// pacsConfigured fills the address box: the address last used in this
// browser, else the first the server lists in <meta name=sscscore-dicomweb>
// (set by serve -dicomweb), which are also offered in its list.
func (a *app) pacsConfigured() {
	var urls []string
	if m := document.Call("querySelector", `meta[name="sscscore-dicomweb"]`); m.Truthy() {
		urls = strings.Fields(m.Call("getAttribute", "content").String())
	}
	list := a.byID("pacs-urls")
	for _, u := range urls {
		o := create("option")
		o.SetAttribute("value", absoluteURL(u))
		list.AppendChild(o)
	}
	in := a.input("pacs-url")
	if saved := localStorage("getItem", pacsURLKey); saved != "" {
		in.SetValue(saved)
	} else if len(urls) > 0 {
		in.SetValue(absoluteURL(urls[0]))
	}
}

// localStorage calls getItem(key) or setItem(key, value), and returns ""
// when storage is not available (private windows may refuse it).
func localStorage(method, key string, value ...any) (s string) {
	defer func() {
		if recover() != nil {
			s = ""
		}
	}()
	st := js.Global().Get("localStorage")
	if !st.Truthy() {
		return ""
	}
	v := st.Call(method, append([]any{key}, value...)...)
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

// absoluteURL resolves u against the page's address (a proxy path such as
// /dicomweb becomes http://this-server/dicomweb); it returns u unchanged
// when it is not a URL.
func absoluteURL(u string) (s string) {
	defer func() {
		if recover() != nil {
			s = u
		}
	}()
	return js.Global().Get("URL").New(u, js.Global().Get("location").Get("href")).Get("href").String()
}

func (a *app) authKind() string {
	for _, r := range queryAll(`input[name="pacs-auth"]`) {
		if r.Get("checked").Bool() {
			return r.Get("value").String()
		}
	}
	return "none"
}

// showAuthFields shows the fields of the chosen log-in.
func (a *app) showAuthFields() {
	kind := a.authKind()
	for id, k := range map[string]string{"pacs-basic": "basic", "pacs-bearer": "token"} {
		if kind == k {
			show(a.byID(id))
		} else {
			hide(a.byID(id))
		}
	}
}

// pacsServer returns the server and log-in of the panel, or "" and why not.
func (a *app) pacsServer() (*protocol.PACS, string) {
	u := strings.TrimSpace(a.input("pacs-url").Value())
	if u == "" {
		return nil, "Enter the DICOMweb address of the PACS (for example http://pacs.example:8042/dicom-web)."
	}
	abs := absoluteURL(u)
	if !strings.HasPrefix(abs, "http://") && !strings.HasPrefix(abs, "https://") {
		return nil, "The DICOMweb address must start with http:// or https://."
	}
	p := &protocol.PACS{URL: strings.TrimRight(abs, "/")}
	switch a.authKind() {
	case "basic":
		p.User, p.Password = a.input("pacs-user").Value(), a.input("pacs-password").Value()
		if p.User == "" {
			return nil, "Enter the user name, or choose no log-in."
		}
	case "token":
		p.Token = strings.TrimSpace(a.input("pacs-token").Value())
		if p.Token == "" {
			return nil, "Paste the token, or choose no log-in."
		}
	}
	return p, ""
}

// pacsSay shows a message of the panel (kind "", "error" or "ok").
func (a *app) pacsSay(id, msg, kind string) {
	e := a.byID(id)
	e.SetTextContent(msg)
	e.Class().Remove("error")
	e.Class().Remove("ok")
	if kind != "" {
		e.Class().Add(kind)
	}
}

// pacsTask sends a PACS task and returns its number.
func (a *app) pacsTask(m *protocol.Msg) int {
	a.pacs.seq++
	m.Job = a.pacs.seq
	a.post(m, nil)
	return m.Job
}

// pacsDate turns an <input type=date> value (YYYY-MM-DD) into a DICOM date.
func pacsDate(v string) string { return strings.ReplaceAll(v, "-", "") }

func (a *app) pacsSearch() {
	if a.ready == nil {
		return
	}
	p, why := a.pacsServer()
	if p == nil {
		a.pacsSay("pacs-status", why, "error")
		return
	}
	q := &protocol.StudyQuery{
		PatientID: strings.TrimSpace(a.input("pacs-pid").Value()), PatientName: strings.TrimSpace(a.input("pacs-name").Value()),
		Accession: strings.TrimSpace(a.input("pacs-acc").Value()),
		DateFrom:  pacsDate(a.input("pacs-from").Value()), DateTo: pacsDate(a.input("pacs-to").Value()),
		Modality: a.byID("pacs-modality").Get("value").String(),
	}
	localStorage("setItem", pacsURLKey, strings.TrimSpace(a.input("pacs-url").Value()))
	a.pacs.search = a.pacsTask(&protocol.Msg{Kind: protocol.PACSSearch, PACS: p, Query: q})
	a.pacs.series = 0
	hide(a.byID("pacs-series-box"))
	a.pacsSay("pacs-status", "Searching "+p.URL+"…", "")
}

// onPACS handles the answer to a PACS task.
func (a *app) onPACS(m *protocol.Msg) {
	switch m.Task {
	case protocol.PACSSearch, protocol.PACSSeries:
		want, failed, done := a.pacs.search, "The search failed: ", a.showStudies
		if m.Task == protocol.PACSSeries {
			want, failed, done = a.pacs.series, "The series could not be listed: ", a.showPACSSeries
		}
		if m.Job != want {
			return // an earlier request's answer
		}
		if m.Kind == protocol.Error {
			hide(a.byID("pacs-series-box"))
			a.pacsSay("pacs-status", failed+m.Error, "error")
			return
		}
		done(m.Found)
	case protocol.Store:
		if m.Job != a.pacs.store {
			return
		}
		a.pacs.store = 0
		a.updateExportButtons()
		if m.Kind == protocol.Error {
			a.pacsSay("pacs-store-status", "The report was not stored: "+m.Error, "error")
			return
		}
		s := m.Stored
		a.pacsSay("pacs-store-status", fmt.Sprintf("Stored in the PACS (%s): %s, %.1f kB, as a new series of this study.",
			s.URL, strings.Join(s.Files, " and "), float64(s.Bytes)/1e3), "ok")
		document.Get("documentElement").Get("dataset").Set("storedUid", strings.Join(s.SOPInstanceUIDs, " "))
	}
}

// showStudies lists the studies found; choosing one lists its series.
func (a *app) showStudies(f *protocol.FoundInfo) {
	a.pacs.studies = f.Studies
	tbody := query(nil, "#pacs-studies tbody")
	empty(tbody)
	n := len(f.Studies)
	if n == 0 {
		hide(a.byID("pacs-studies-box"))
		a.pacsSay("pacs-status", "No study matches this search.", "")
		return
	}
	msg := view.Plural(n, "study", "studies") + " found: choose one to see its series."
	if f.Limit > 0 {
		msg = fmt.Sprintf("The first %d studies found (there may be more: narrow the search). Choose one to see its series.", n)
	}
	a.pacsSay("pacs-status", msg, "")
	frag := wrap(document.Call("createDocumentFragment"))
	for _, s := range f.Studies {
		tr := create("tr")
		td := create("td")
		uid := s.UID
		radio := newRadio("pacs-study", uid, fmt.Sprintf("Study of %s on %s: %s", orDash(s.PatientName), dicomDate(s.Date), orDash(s.Description)),
			false, false, func() { a.pacsListSeries(uid) })
		// A click anywhere on the row chooses it.
		on(tr.Value, "click", func(ev js.Value) {
			if !radio.Checked() {
				radio.SetChecked(true)
				a.pacsListSeries(uid)
			}
		})
		td.AppendChild(radio)
		tr.AppendChild(td)
		for _, c := range []string{orDash(s.PatientName), orDash(s.PatientID), dicomDate(s.Date), orDash(s.Accession),
			orDash(s.Description), countOrDash(s.Series), countOrDash(s.Instances)} {
			tr.AppendChild(text("td", c))
		}
		tr.SetAttribute("data-uid", s.UID)
		frag.AppendChild(tr)
	}
	tbody.AppendChild(frag)
	show(a.byID("pacs-studies-box"))
	if n == 1 {
		query(tbody, "input").Set("checked", true)
		a.pacsListSeries(f.Studies[0].UID)
	}
}

func countOrDash(n int) string {
	if n <= 0 {
		return "–"
	}
	return strconv.Itoa(n)
}

// dicomDate writes a DICOM date (YYYYMMDD) as YYYY-MM-DD.
func dicomDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return orDash(d)
}

// pacsListSeries asks for the series of a study.
func (a *app) pacsListSeries(study string) {
	p, why := a.pacsServer()
	if p == nil {
		a.pacsSay("pacs-status", why, "error")
		return
	}
	for _, tr := range queryAll("#pacs-studies tbody tr") {
		if tr.GetAttribute("data-uid") == study {
			tr.Class().Add("chosen")
		} else {
			tr.Class().Remove("chosen")
		}
	}
	a.pacs.study = study
	a.pacs.chosen = ""
	a.button("pacs-open").SetDisabled(true)
	a.pacs.series = a.pacsTask(&protocol.Msg{Kind: protocol.PACSSeries, PACS: p, Study: study})
	empty(query(nil, "#pacs-series tbody"))
	a.byID("pacs-series-why").SetTextContent("Listing the series of the study…")
	show(a.byID("pacs-series-box"))
}

// showPACSSeries lists the study's series with the proposed one chosen.
func (a *app) showPACSSeries(f *protocol.FoundInfo) {
	a.pacs.found = f
	a.pacs.chosen = f.Chosen
	a.byID("pacs-series-why").SetTextContent(f.Why)
	tbody := query(nil, "#pacs-series tbody")
	empty(tbody)
	frag := wrap(document.Call("createDocumentFragment"))
	rows := f.Series
	usable, images := 0, 0
	for _, s := range f.Series {
		if s.Usable {
			usable++
			images += s.Instances
		}
	}
	if usable > 1 {
		// Several CT series: by default all are retrieved and the usual
		// choice is made among them, as for a dropped folder.
		all := protocol.PACSSeriesInfo{UID: allSeries, Description: fmt.Sprintf("All %d CT series", usable),
			Instances: images, Usable: true, Reason: "sscscore chooses among them as among a dropped folder's series"}
		rows = append([]protocol.PACSSeriesInfo{all}, rows...)
		a.pacs.chosen = allSeries
		a.byID("pacs-series-why").SetTextContent(fmt.Sprintf("Open retrieves the %d CT series of this study (%d images) and chooses among them by the usual rules (the choice and its reason appear under Series). To retrieve less, choose one series: %s",
			usable, images, f.Why))
	}
	for _, s := range rows {
		tr := create("tr")
		if !s.Usable {
			tr.Class().Add("unusable")
		}
		if s.UID == a.pacs.chosen {
			tr.Class().Add("chosen")
		}
		td := create("td")
		desc := s.Description
		if desc == "" {
			desc = "(no description)"
		}
		uid := s.UID
		td.AppendChild(newRadio("pacs-series", uid, "Use series "+desc, uid == a.pacs.chosen, !s.Usable, func() {
			a.pacs.chosen = uid
			for _, r := range queryAll("#pacs-series tbody tr") {
				r.Class().Remove("chosen")
			}
			tr.Class().Add("chosen")
			a.byID("pacs-series-why").SetTextContent("You chose “" + desc + "”.")
		}))
		tr.AppendChild(td)
		for _, c := range []string{countOrDash(s.Number), desc, orDash(s.Modality), strconv.Itoa(s.Instances), s.Reason} {
			tr.AppendChild(text("td", c))
		}
		frag.AppendChild(tr)
	}
	tbody.AppendChild(frag)
	show(a.byID("pacs-series-box"))
	a.button("pacs-open").SetDisabled(a.pacs.chosen == "" || a.ready == nil)
}

// pacsOpen starts the retrieval of the chosen series: a scan job whose
// report replaces the one on screen only once the series has arrived.
func (a *app) pacsOpen() {
	if a.pacs.chosen == "" || a.pacs.found == nil {
		return
	}
	p, why := a.pacsServer()
	if p == nil {
		a.pacsSay("pacs-status", why, "error")
		return
	}
	series, total := a.pacs.chosen, 0
	for _, s := range a.pacs.found.Series {
		if s.UID == series || (series == allSeries && s.Usable) {
			total += s.Instances
		}
	}
	if series == allSeries {
		series = ""
	}
	a.pacsSay("pacs-store-status", "", "")
	a.newJob(&protocol.Msg{Kind: protocol.PACSOpen, PACS: p, Study: a.pacs.study, Series: series, Total: total}, nil)
}

// pacsStore has the worker build the SR of the result and store it.
func (a *app) pacsStore() {
	if a.result == nil || a.pacs.store != 0 {
		return
	}
	p, why := a.pacsServer()
	if p == nil {
		a.pacsSay("pacs-store-status", why+" (in the PACS panel above)", "error")
		return
	}
	a.pacs.store = a.pacsTask(&protocol.Msg{Kind: protocol.Store, PACS: p})
	a.updateExportButtons()
	a.pacsSay("pacs-store-status", "Storing the report in "+p.URL+"…", "")
}

// downloadProgress words a download's progress: "12 / 30 images, 5.1 MB".
func downloadProgress(p *protocol.ProgressInfo) string {
	return fmt.Sprintf("%s, %.1f MB", view.Count(p.Done, p.Total, p.Unit), float64(p.Bytes)/1e6)
}
