package e2e

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sscscore/model/cascade"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/shareddata"
	"sscscore/model/sr"
)

// The PACS tests run a real Orthanc (model/dicomweb/orthanctest) and a
// server started with its DICOMweb flags, and drive the page's PACS panel:
// search, series, Open (the worker retrieves the series), scores equal to
// the native tool's, the SR stored back and read from Orthanc with every
// number equal to the page's CSV; cancel mid-retrieval; a wrong address,
// refused credentials, a server answering garbage and one stopping
// mid-stream. Every request the page and its worker make is recorded and
// must go to the page's own server or the configured PACS.
//
// Orthanc 1.10 sends no CORS headers, so a page cannot call it from
// another origin. The direct mode (serve -dicomweb URL) is tested through
// pacsFront, a small reverse proxy in front of Orthanc that adds the CORS
// headers a PACS configured for this page would send (and counts the
// requests it sees); the proxy mode (serve -dicomweb-proxy URL) talks to
// Orthanc as it is.

// server is a serve process started by a test.
type server struct {
	URL string
	log syncBuffer
}

// startServer starts the server binary with extra flags; it is stopped
// when the test ends.
func startServer(t testing.TB, args ...string) *server {
	t.Helper()
	needBrowser(t)
	s := &server{}
	cmd := exec.Command(serverBin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = &s.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("cmd.StdoutPipe: got error %v, want nil", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting serve %v: got error %v, want nil", args, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	// The line "sscscore: serving http://HOST:PORT/ ..." gives the address
	// (lines before it may name the PACS).
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("serve %v: got error %v before its address, want it started; log: %s", args, err, s.log.String())
		}
		if strings.Contains(line, "serving") {
			s.URL = regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
			if s.URL == "" {
				t.Fatalf("no address in %q, got %v, want != %q", line, s.URL, "")
			}
			go io.Copy(io.Discard, r)
			return s
		}
	}
}

// pacsFront is a reverse proxy in front of a PACS that answers CORS as a
// PACS set up for the page would, records the requests it serves, and
// can send slowly (for the cancel test).
type pacsFront struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
	// slow, when set, delays every write of a response body.
	slow time.Duration
}

func newPACSFront(t testing.TB, target string) *pacsFront {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("url.Parse: got error %v, want nil", err)
	}
	f := &pacsFront{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.Path)
		slow := f.slow
		f.mu.Unlock()
		cors(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if slow > 0 {
			w = &slowWriter{ResponseWriter: w, delay: slow}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// cors answers as a PACS that lets any page in (without cookies).
func cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Accept, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
}

// requests returns the requests served (method and path), excluding CORS
// preflights.
func (f *pacsFront) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs {
		if !strings.HasPrefix(r, "OPTIONS ") {
			out = append(out, r)
		}
	}
	return out
}

// slowWriter sends a response slowly, in small flushed pieces.
type slowWriter struct {
	http.ResponseWriter
	delay time.Duration
}

func (s *slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 16<<10)
		m, err := s.ResponseWriter.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		s.ResponseWriter.(http.Flusher).Flush()
		time.Sleep(s.delay)
		p = p[k:]
	}
	return n, nil
}

func (s *slowWriter) Flush() { s.ResponseWriter.(http.Flusher).Flush() }

// openAt loads the app from a server and waits until it is ready.
func (tb *tab) openAt(base string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(base+"/")); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.documentElement.dataset.state + " | " + document.getElementById("app-status").textContent`))
		if err == nil && strings.HasPrefix(st, "idle") {
			return
		}
		if time.Now().After(deadline) {
			tb.mu.Lock()
			defer tb.mu.Unlock()
			tb.t.Fatalf("the page at %s: got status %q (err %v), want it ready; console %q", base, st, err, tb.console) // see the server log
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// setField sets an input's value as typing would.
func (tb *tab) setField(id, value string) {
	tb.t.Helper()
	b, _ := json.Marshal(value)
	eval[bool](tb, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %s;
	  e.dispatchEvent(new Event("input", {bubbles: true})); e.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, id, b))
}

// click clicks an element by id.
func (tb *tab) click(id string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		tb.t.Fatalf("clicking #%s: got error %v, want nil", id, err)
	}
}

// text returns an element's text.
func (tb *tab) text(id string) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`document.getElementById(%q).textContent`, id))
}

// pacsLogin chooses the log-in of the PACS panel: none, or basic with user
// and password.
func (tb *tab) pacsLogin(user, password string) {
	tb.t.Helper()
	kind := "none"
	if user != "" {
		kind = "basic"
	}
	eval[bool](tb, fmt.Sprintf(`(() => { const r = document.querySelector('input[name="pacs-auth"][value="%s"]'); r.checked = true;
	  r.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`, kind))
	if user != "" {
		tb.setField("pacs-user", user)
		tb.setField("pacs-password", password)
	}
}

// pacsSearch searches the PACS at base for a patient ID and waits for the
// answer: the studies listed, or the panel's message (returned).
func (tb *tab) pacsSearch(base, patientID string) string {
	tb.t.Helper()
	if base != "" {
		tb.setField("pacs-url", base)
	}
	tb.setField("pacs-pid", patientID)
	eval[bool](tb, `(() => { document.getElementById("pacs-status").textContent = ""; return true; })()`)
	tb.click("pacs-search")
	tb.waitFor(`(s => s !== "" && !s.startsWith("Searching"))(document.getElementById("pacs-status").textContent)`, time.Minute)
	return tb.text("pacs-status")
}

// pacsOpen opens the series proposed for the only study found, and
// returns when the job has started.
func (tb *tab) pacsOpen() {
	tb.t.Helper()
	tb.waitFor(`!document.getElementById("pacs-series-box").hidden && !document.getElementById("pacs-open").disabled`, time.Minute)
	tb.click("pacs-open")
	tb.waitFor(`document.documentElement.dataset.state === "working"`, 30*time.Second)
}

// checkPACSRequests fails the test unless every request the page and its
// workers made went to the page's server or one of the PACS origins, and
// unless the worker's requests to the PACS were recorded (n of them at
// least, when n > 0).
func (tb *tab) checkPACSRequests(page string, pacs []string, n int) {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	allowed := map[string]bool{}
	for _, o := range append([]string{page}, pacs...) {
		u, err := url.Parse(o)
		if err != nil {
			tb.t.Fatalf("url.Parse: got error %v, want nil", err)
		}
		allowed[u.Scheme+"://"+u.Host] = true
	}
	toPACS := 0
	for _, r := range tb.requests {
		u, err := url.Parse(r.URL)
		if err != nil {
			tb.t.Errorf("request URL %q: got parse error %v, want nil", r.URL, err)
			continue
		}
		if u.Scheme == "blob" || u.Scheme == "data" {
			continue
		}
		origin := u.Scheme + "://" + u.Host
		if !allowed[origin] {
			tb.t.Errorf("request to %s (%s %s, worker %v): want only %v", origin, r.Method, r.URL, r.Worker, allowed)
		}
		if r.Worker && strings.Contains(u.Path, "/dicom-web/") {
			toPACS++
		}
	}
	if tb.workers == 0 {
		tb.t.Errorf("no worker target was attached: the worker's requests were not recorded: got %v, want != 0", tb.workers)
	}
	if toPACS < n {
		tb.t.Errorf("%d of the worker's DICOMweb requests recorded, want at least %d", toPACS, n)
	}
	tb.t.Logf("%d requests recorded (%d of them the worker's to DICOMweb)", len(tb.requests), toPACS)
}

// TestPACSDirect: the page talks to the PACS directly (serve -dicomweb,
// the PACS answering CORS): search, series, Open, the same levels and
// scores as the native tool on the folder, the SR stored back and read
// from Orthanc with every number equal to the page's CSV, the SR
// downloaded; every request to the page's server or the PACS; no CSP
// violation.
func TestPACSDirect(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	needBrowser(t)
	orth := orthanctest.Start(t, orthanctest.Options{})
	orth.Upload(t, dir, shareddata.Path(t, "chest-ct/C3N-00247-B70f"))
	front := newPACSFront(t, orth.Root)
	pacs := front.URL + "/dicom-web"
	srv := startServer(t, "-dicomweb", pacs)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", srv.log.String())
		}
	})
	tb := newTab(t)
	tb.openAt(srv.URL)

	// serve's CSP lets the page reach the PACS, and the page offers it.
	csp := eval[string](tb, `document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`)
	if !strings.Contains(csp, "connect-src 'self' "+front.URL) {
		t.Errorf("the page's CSP: got %q, want it to let the page connect to %s", csp, front.URL)
	}
	if got := eval[string](tb, `document.getElementById("pacs-url").value`); got != pacs {
		t.Errorf("PACS address prefilled %q, want %q (from serve -dicomweb)", got, pacs)
	}
	tb.elementScreenshot("#pacs", "pacs-panel-empty")

	if msg := tb.pacsSearch("", "Lung_Dx-A0002"); !strings.Contains(msg, "1 study found") {
		t.Fatalf("search: got %q, want %q", msg, "1 study found")
	}
	tb.waitFor(`document.querySelectorAll("#pacs-series tbody tr").length > 0`, time.Minute)
	why := tb.text("pacs-series-why")
	if !strings.Contains(why, "only CT series") {
		t.Errorf("series choice: got %q, want %q", why, "only CT series")
	}
	rows := eval[[]string](tb, `[...document.querySelectorAll("#pacs-series tbody tr")].map(r => r.innerText)`)
	if len(rows) != 1 || !strings.Contains(rows[0], "B40f") || !strings.Contains(rows[0], "30") {
		t.Errorf("series rows %q, want the B40f series of 30 images", rows)
	}
	tb.elementScreenshot("#pacs", "pacs-panel")
	tb.pacsOpen()
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("retrieval ended in state %s: %s, want %q", s, tb.text("error"), "done")
	}
	if got := tb.text("files-summary"); got != "30 files read; 30 files in the series used." {
		t.Errorf("files summary %q, want %q", got, "30 files read; 30 files in the series used.")
	}
	if dl := eval[string](tb, `document.querySelector('#stages li[data-stage="download"] .stage-count').textContent`); !strings.Contains(dl, "30") {
		t.Logf("download progress shown last: %q", dl)
	}
	tb.scoredAs(dir)
	csvText := tb.export("export-csv").Text

	// Store the SR, read it back from Orthanc.
	tb.click("pacs-store")
	tb.waitFor(`["ok", "error"].some(c => document.getElementById("pacs-store-status").classList.contains(c))`, time.Minute)
	if msg := tb.text("pacs-store-status"); !strings.HasPrefix(msg, "Stored in the PACS") {
		t.Fatalf("store: got %q, want %q at the start", msg, "Stored in the PACS")
	}
	uid := eval[string](tb, `document.documentElement.dataset.storedUid`)
	back := readSR(t, orth, uid)
	checkSRAgainstCSV(t, back, csvText)
	if back.Statement == "" || !strings.Contains(strings.ToLower(back.Statement+back.Note), "synthetic") {
		t.Errorf("SR statement %q, note %q: want the synthetic-data statement", back.Statement, back.Note)
	}

	// The same SR, downloaded.
	d := tb.export("export-sr")
	if !strings.HasSuffix(d.Name, ".dcm") {
		t.Errorf("SR download name: got %q, want one ending in .dcm", d.Name)
	}
	tb.screenshot("pacs-scored")

	tb.checkPACSRequests(srv.URL, []string{front.URL}, 3)
	if v := evalNoFail[[]string](tb, `window.__violations || []`); len(v) > 0 {
		t.Errorf("CSP violations: got %q, want none", v)
	}
	// The PACS saw the searches, the retrieval and the store, and nothing
	// else.
	seen := front.requests()
	want := []string{"GET /dicom-web/studies", "GET /dicom-web/studies/", "POST /dicom-web/studies"}
	for _, w := range want {
		if !containsPrefix(seen, w) {
			t.Errorf("the PACS saw %q, want a request %q", seen, w)
		}
	}
	for _, r := range seen {
		if !strings.HasPrefix(r, "GET /dicom-web/studies") && r != "POST /dicom-web/studies" {
			t.Errorf("the PACS saw: got %q, want only searches and the store", r)
		}
	}
}

func containsPrefix(list []string, p string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// readSR finds the instance uid in Orthanc and reads it as an SR.
func readSR(t *testing.T, orth *orthanctest.Server, uid string) *sr.Report {
	t.Helper()
	if uid == "" {
		t.Fatalf("the page reported no stored SOP Instance UID: got %v, want != %q", uid, "")
	}
	req, _ := http.NewRequest(http.MethodPost, orth.Root+"/tools/lookup", strings.NewReader(uid))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
	}
	defer resp.Body.Close()
	var found []struct{ ID, Type string }
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil || len(found) != 1 || found[0].Type != "Instance" {
		t.Fatalf("Orthanc lookup of %s: got error %v and %+v, want one Instance", uid, err, found)
	}
	b, err := orth.Get(context.Background(), "/instances/"+found[0].ID+"/file")
	if err != nil {
		t.Fatalf("orth.Get: got error %v, want nil", err)
	}
	rep, err := sr.Read(b)
	if err != nil {
		t.Fatalf("the stored SR cannot be read: got error %v, want nil", err)
	}
	if rep.SOPInstanceUID != uid {
		t.Errorf("SR instance %s, want %s", rep.SOPInstanceUID, uid)
	}
	return rep
}

// checkSRAgainstCSV checks that the SR's levels (position, TOT, GG, RET)
// written in the CSV's layout are the page's CSV row, cell for cell.
func checkSRAgainstCSV(t *testing.T, rep *sr.Report, csvText string) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(csvText)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("page CSV: got error %v and this, want nil and 2 rows:\n%s", err, csvText)
	}
	res := &cascade.Result{}
	for _, l := range rep.Levels {
		res.Levels = append(res.Levels, cascade.LevelResult{Name: l.Name, ZMM: l.ZMM, TOT: l.TOT, GG: l.GG, RET: l.RET})
	}
	got := res.CSVRecord(rows[1][0])
	if len(got) != len(rows[1]) {
		t.Fatalf("SR as CSV: got %d cells, want the page's %d", len(got), len(rows[1]))
	}
	numbers := 0
	for i := range got {
		if got[i] != rows[1][i] {
			t.Errorf("%s: got %q in the SR, want %q as in the page CSV", rows[0][i], got[i], rows[1][i])
		}
		if _, err := strconv.ParseFloat(got[i], 64); err == nil {
			numbers++
		}
	}
	t.Logf("SR read back from the PACS: %d numbers equal to the page's CSV", numbers)
	if numbers < 10 {
		t.Errorf("only %d numbers compared, want >= 10", numbers)
	}
}

// TestPACSProxy: a PACS without CORS (Orthanc as it is) through serve's
// same-origin proxy, with the JPEG-LS transcode of A0002: the page only
// ever talks to its own server, and scores the compressed series as the
// native tool scores the folder.
func TestPACSProxy(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f-jpegls")
	needBrowser(t)
	orth := orthanctest.Start(t, orthanctest.Options{})
	orth.Upload(t, dir)
	srv := startServer(t, "-dicomweb-proxy", orth.DICOMweb)
	tb := newTab(t)
	tb.openAt(srv.URL)
	if got := eval[string](tb, `document.getElementById("pacs-url").value`); got != srv.URL+"/dicom-web" {
		t.Errorf("PACS address prefilled %q, want the proxy %s/dicom-web", got, srv.URL)
	}
	if msg := tb.pacsSearch("", "Lung_Dx-A0002"); !strings.Contains(msg, "1 study found") {
		t.Fatalf("search through the proxy: got %q, want %q", msg, "1 study found")
	}
	tb.pacsOpen()
	if s := tb.scanEnd(); s != "done" {
		t.Fatalf("retrieval ended in state %s: %s, want %q", s, tb.text("error"), "done")
	}
	tb.scoredAs(dir)
	tb.checkPACSRequests(srv.URL, nil, 3)
	for _, line := range strings.Split(srv.log.String(), "\n") {
		if strings.Contains(line, "/dicom-web/") && !strings.Contains(line, `GET "/dicom-web/studies`) {
			t.Errorf("the proxy served: got %s, want only study searches", line)
		}
	}
}

// scoreA0002 drops A0002 on the page and waits until it is scored: the
// scan on screen that a failed retrieval must keep.
func (tb *tab) scoreA0002() []string {
	tb.t.Helper()
	tb.pick(listFiles(tb.t, shareddata.Path(tb.t, "chest-ct/A0002-B40f")))
	if s := tb.scanEnd(); s != "done" {
		tb.t.Fatalf("A0002 ended in state %s, want %q", s, "done")
	}
	return tb.scoreRows()
}

// scoreRows returns the score table's rows as shown.
func (tb *tab) scoreRows() []string {
	return eval[[]string](tb, `[...document.querySelectorAll("#score-table tbody tr, #score-table tfoot tr")].map(r => r.innerText)`)
}

// TestPACSCancel cancels a retrieval mid-stream (C3N-00247, sent slowly):
// the page stops within a second and the scan on screen stays, still
// exportable.
func TestPACSCancel(t *testing.T) {
	needBrowser(t)
	orth := orthanctest.Start(t, orthanctest.Options{})
	orth.Upload(t, shareddata.Path(t, "chest-ct/C3N-00247-B70f"))
	front := newPACSFront(t, orth.Root)
	front.slow = 10 * time.Millisecond
	srv := startServer(t, "-dicomweb", front.URL+"/dicom-web")
	tb := newTab(t)
	tb.openAt(srv.URL)
	before := tb.scoreA0002()

	if msg := tb.pacsSearch("", "C3N-00247"); !strings.Contains(msg, "1 study found") {
		t.Fatalf("search: got %q, want %q", msg, "1 study found")
	}
	for _, key := range []string{"click", "Escape"} {
		tb.pacsOpen()
		tb.waitFor(`(s => /^[1-9]\d* \/ 99 images/.test(s))(document.querySelector('#stages li[data-stage="download"] .stage-count').textContent)`, time.Minute)
		got := tb.text("work")
		var t0 float64
		if key == "click" {
			t0 = eval[float64](tb, `(() => { const t = performance.now(); document.getElementById("cancel").click(); return t; })()`)
		} else {
			t0 = eval[float64](tb, `performance.now()`)
			if err := chromedp.Do(tb.ctx, chromedp.KeyEvent("\u001b")); err != nil {
				t.Fatalf("chromedp.Do: got error %v, want nil", err)
			}
		}
		tb.waitFor(`document.documentElement.dataset.state === "idle"`, 5*time.Second)
		took := eval[float64](tb, `Number(document.documentElement.dataset.stateAt)`) - t0
		t.Logf("cancel by %s during %q: stopped in %.0f ms", key, strings.Join(strings.Fields(got), " "), took)
		if took > 1000 {
			t.Errorf("cancel by %s took %.0f ms, want under a second", key, took)
		}
		if st := tb.text("app-status"); !strings.Contains(st, "unchanged") {
			t.Errorf("status after cancel: got %q, want it to say %q", st, "unchanged")
		}
		if after := tb.scoreRows(); strings.Join(after, "|") != strings.Join(before, "|") {
			t.Errorf("the scores on screen: got %q, want %q as before", after, before)
		}
		if d := tb.export("export-csv"); !strings.Contains(d.Text, "L1_pos") {
			t.Errorf("CSV export after the cancel: got %q, want the scan on screen (L1_pos)", d.Text)
		}
	}
	tb.checkPACSRequests(srv.URL, []string{front.URL}, 2)
}

// TestPACSErrors: a wrong address, refused credentials, a server
// answering garbage, and one stopping mid-stream: each gives a clear
// message, and the scan on screen stays.
func TestPACSErrors(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	needBrowser(t)
	orth := orthanctest.Start(t, orthanctest.Options{User: "alice", Password: "right"})
	orth.Upload(t, dir)
	front := newPACSFront(t, orth.Root)
	parts := dicomFiles(t, dir)
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cors(w, r)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome to the intranet</body></html>")
	}))
	defer garbage.Close()
	// Answers searches like a PACS with one study of 30 images, then stops
	// the retrieval after two images and a half.
	stop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cors(w, r)
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/studies"):
			w.Header().Set("Content-Type", "application/dicom+json")
			fmt.Fprint(w, `[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"00100020":{"vr":"LO","Value":["STOP"]},"00201208":{"vr":"IS","Value":[30]},"00201206":{"vr":"IS","Value":[1]}}]`)
		case strings.HasSuffix(r.URL.Path, "/series"):
			w.Header().Set("Content-Type", "application/dicom+json")
			fmt.Fprint(w, `[{"0020000D":{"vr":"UI","Value":["1.2.3"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]},"00080060":{"vr":"CS","Value":["CT"]},"00201209":{"vr":"IS","Value":[30]}}]`)
		default:
			// The parts are flushed and given time to arrive before the
			// connection breaks: a reset discards what the browser has
			// not read yet.
			w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=XYZ`)
			for i, p := range parts[:3] {
				if i == 2 {
					p = p[:len(p)/2]
				}
				fmt.Fprintf(w, "--XYZ\r\nContent-Type: application/dicom\r\n\r\n")
				w.Write(p)
				if i < 2 {
					fmt.Fprint(w, "\r\n")
				}
				w.(http.Flusher).Flush()
				time.Sleep(300 * time.Millisecond)
			}
			panic(http.ErrAbortHandler)
		}
	}))
	defer stop.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	wrong := closed.URL + "/dicom-web"
	closed.Close()

	srv := startServer(t, "-dicomweb", front.URL+"/dicom-web", "-dicomweb", garbage.URL+"/dicom-web",
		"-dicomweb", stop.URL+"/dicom-web", "-dicomweb", wrong)
	tb := newTab(t)
	tb.openAt(srv.URL)
	before := tb.scoreA0002()
	keep := func(what string) {
		t.Helper()
		if after := tb.scoreRows(); strings.Join(after, "|") != strings.Join(before, "|") {
			t.Errorf("%s: the scores on screen: got %q, want %q as before", what, after, before)
		}
	}

	for _, tc := range []struct {
		name, url, user, password string
		want                      []string
	}{
		{"wrong address", wrong, "", "", []string{"cannot be reached", "Check the address"}},
		{"refused credentials", front.URL + "/dicom-web", "alice", "wrong", []string{"refused", "401"}},
		{"garbage", garbage.URL + "/dicom-web", "", "", []string{"not DICOMweb", "DICOMweb root"}},
	} {
		tb.pacsLogin(tc.user, tc.password)
		msg := tb.pacsSearch(tc.url, "A0002")
		t.Logf("%s: %s", tc.name, msg)
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: got message %q, want it to say %q", tc.name, msg, w)
			}
		}
		if !eval[bool](tb, `document.getElementById("pacs-status").classList.contains("error")`) {
			t.Errorf("%s: got the message not shown as an error, want it shown as one", tc.name)
		}
		if strings.Contains(msg, "wrong") && tc.password != "" {
			t.Errorf("%s: got message %q showing the password, want it hidden", tc.name, msg)
		}
		keep(tc.name)
	}

	// The right credentials work.
	tb.pacsLogin("alice", "right")
	if msg := tb.pacsSearch(front.URL+"/dicom-web", "Lung_Dx-A0002"); !strings.Contains(msg, "1 study found") {
		t.Errorf("search with the right credentials: got %q, want %q", msg, "1 study found")
	}

	// A retrieval that stops mid-stream.
	tb.pacsLogin("", "")
	if msg := tb.pacsSearch(stop.URL+"/dicom-web", "STOP"); !strings.Contains(msg, "1 study found") {
		t.Fatalf("search of the stopping server: got %q, want %q", msg, "1 study found")
	}
	tb.pacsOpen()
	if s := tb.scanEnd(); s != "error" {
		t.Fatalf("a retrieval stopped mid-stream ended in state %s, want %q", s, "error")
	}
	msg := tb.text("error")
	t.Logf("stopped mid-stream: %s", msg)
	for _, w := range []string{"ended too early", "2 of 30 images", "not scored"} {
		if !strings.Contains(msg, w) {
			t.Errorf("got message %q, want it to say %q", msg, w)
		}
	}
	if st := tb.text("app-status"); !strings.Contains(st, "unchanged") {
		t.Errorf("status: got %q, want it to say %q", st, "unchanged")
	}
	keep("stopped mid-stream")
	if d := tb.export("export-csv"); !strings.Contains(d.Text, "L1_pos") {
		t.Errorf("CSV export after the failure: got %q, want the scan on screen (L1_pos)", d.Text)
	}
	tb.checkPACSRequests(srv.URL, []string{front.URL, garbage.URL, stop.URL, wrong}, 1)
}

// dicomFiles reads the files of dir, in name order.
func dicomFiles(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range listFiles(t, dir) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("os.ReadFile: got error %v, want nil", err)
		}
		out = append(out, b)
	}
	return out
}
