package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"sscscore/model/dicomweb"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/shareddata"
	"sscscore/model/sr"
	"sscscore/wasm/internal/protocol"
)

// TestPACSOpenA0002 searches a real Orthanc (started by orthanctest,
// loaded with A0002-B40f) for the study, lists its series, retrieves the
// series into the engine and scores it: the same result as the folder
// opened from disk. Then the SR is stored back with STOW-RS, found in
// Orthanc, and its numbers are the result's.
func TestPACSOpenA0002(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	srv := orthanctest.Start(t, orthanctest.Options{})
	srv.Upload(t, dir)
	c := defaultCascade(t)
	want, _ := direct(t, c, diskFiles(t, dir))
	e := New(Options{Cascade: c, HTTP: http.DefaultClient})
	pacs := &protocol.PACS{URL: srv.DICOMweb}
	ctx := context.Background()

	var rec recorder
	e.PACSSearch(ctx, 1, pacs, &protocol.StudyQuery{PatientID: "Lung_Dx-A0002"}, rec.send)
	found := rec.last(protocol.Found)
	if found == nil || len(found.Found.Studies) != 1 {
		t.Fatalf("search: got %+v, want one study", rec.events)
	}
	study := found.Found.Studies[0]
	if found.Task != protocol.PACSSearch || study.Instances != 30 {
		t.Errorf("search answer task %q, %d images; want %q, 30", found.Task, study.Instances, protocol.PACSSearch)
	}

	rec = recorder{}
	e.PACSSeries(ctx, 2, pacs, study.UID, rec.send)
	list := rec.last(protocol.Found)
	if list == nil || len(list.Found.Series) != 1 || list.Found.Chosen == "" {
		t.Fatalf("series: got %+v, want one series chosen", rec.events)
	}
	series := list.Found.Series[0]
	if series.Instances != 30 || !series.Usable || !strings.Contains(list.Found.Why, "only CT series") {
		t.Errorf("series: got %+v, why %q; want 30 usable instances, why saying %q", series, list.Found.Why, "only CT series")
	}

	rec = recorder{}
	e.PACSOpen(ctx, 3, pacs, study.UID, series.UID, series.Instances, rec.send)
	rec.checkEnd(t, 3, false)
	if m := rec.last(protocol.Error); m != nil {
		t.Fatalf("retrieval: got error %s, want none", m.Error)
	}
	var last *protocol.ProgressInfo
	for _, ev := range rec.kind(protocol.Progress) {
		if ev.m.Progress.Stage == protocol.StageDownload {
			last = ev.m.Progress
		}
	}
	if last == nil || last.Done != 30 || last.Total != 30 || last.Bytes < 15e6 {
		t.Errorf("last download progress %+v, want 30 of 30 images, over 15 MB", last)
	}
	inv := rec.last(protocol.Inventory).Inventory
	if inv.Files != 30 || inv.Used != 30 || inv.Chosen != series.UID {
		t.Errorf("inventory: %d files, %d used, chose %s; want 30, 30, %s", inv.Files, inv.Used, inv.Chosen, series.UID)
	}
	if got := e.result.res; jsonOf(t, got.Levels) != jsonOf(t, want.Levels) || jsonOf(t, got.Mean) != jsonOf(t, want.Mean) {
		t.Errorf("levels from the PACS %s\nwant (from the folder) %s", jsonOf(t, got.Levels), jsonOf(t, want.Levels))
	}

	// Store the SR, find it in Orthanc, read it back.
	rec = recorder{}
	e.Store(ctx, 4, pacs, rec.send)
	st := rec.last(protocol.Stored)
	if st == nil {
		t.Fatalf("store: got no Stored event (error %+v), want one", rec.last(protocol.Error))
	}
	if len(st.Stored.SOPInstanceUIDs) != 1 || st.Stored.Bytes == 0 {
		t.Fatalf("stored: got %+v, want 1 SOP Instance UID and some bytes", st.Stored)
	}
	b := findInstance(t, srv, st.Stored.SOPInstanceUIDs[0])
	back, err := sr.Read(b)
	if err != nil {
		t.Fatalf("sr.Read: got error %v, want nil", err)
	}
	checkSR(t, back, e)
}

// findInstance returns the DICOM file of the instance with the given SOP
// Instance UID from Orthanc's REST API.
func findInstance(t *testing.T, srv *orthanctest.Server, uid string) []byte {
	t.Helper()
	ctx := context.Background()
	body := strings.NewReader(uid)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.Root+"/tools/lookup", body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
	}
	defer resp.Body.Close()
	var found []struct {
		ID   string `json:"ID"`
		Type string `json:"Type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&found); err != nil || len(found) != 1 || found[0].Type != "Instance" {
		t.Fatalf("Orthanc lookup of %s: got error %v and %+v, want one Instance", uid, err, found)
	}
	b, err := srv.Get(ctx, "/instances/"+found[0].ID+"/file")
	if err != nil {
		t.Fatalf("srv.Get: got error %v, want nil", err)
	}
	return b
}

// checkSR checks that every number of the SR is the engine's result's.
func checkSR(t *testing.T, back *sr.Report, e *Engine) {
	t.Helper()
	res := e.result.res
	if len(back.Levels) != len(res.Levels) {
		t.Fatalf("SR has %d levels, want %d", len(back.Levels), len(res.Levels))
	}
	for i, l := range res.Levels {
		g := back.Levels[i]
		if !eq(g.TOT, l.TOT) || !eq(g.GG, l.GG) || !eq(g.RET, l.RET) || !eq(g.ZMM, l.ZMM) {
			t.Errorf("%s: SR has TOT %v GG %v RET %v z %v, want %v %v %v %v", l.Name, fmtp(g.TOT), fmtp(g.GG), fmtp(g.RET), fmtp(g.ZMM),
				fmtp(l.TOT), fmtp(l.GG), fmtp(l.RET), fmtp(l.ZMM))
		}
	}
	if !eq(back.Mean.TOT, res.Mean.TOT) || !eq(back.Mean.GG, res.Mean.GG) || !eq(back.Mean.RET, res.Mean.RET) {
		t.Errorf("SR mean %v %v %v, want %v %v %v", fmtp(back.Mean.TOT), fmtp(back.Mean.GG), fmtp(back.Mean.RET),
			fmtp(res.Mean.TOT), fmtp(res.Mean.GG), fmtp(res.Mean.RET))
	}
	if back.ScoredSeriesUID != e.series.UID {
		t.Errorf("SR refers to series %s, want %s", back.ScoredSeriesUID, e.series.UID)
	}
}

func fmtp(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

// TestPACSFailures: a wrong address, refused credentials, a server that
// answers garbage and one that stops mid-stream each end the retrieval
// with a plain message, and the scan in use (scored before) stays.
func TestPACSFailures(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	files := diskFiles(t, dir)
	e := New(Options{Cascade: defaultCascade(t), HTTP: http.DefaultClient})
	var rec recorder
	e.Open(context.Background(), 1, files, rec.send)
	if e.result == nil {
		t.Fatalf("the folder: got no result (error %+v), want it scored", rec.last(protocol.Error))
	}
	before := jsonOf(t, e.result.res)

	parts := partsOf(t, dir)
	stop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Two whole parts, then half of the third, then the connection
		// closes.
		mw := multipart.NewWriter(w)
		w.Header().Set("Content-Type", `multipart/related; type="application/dicom"; boundary=`+mw.Boundary())
		for _, p := range [][]byte{parts[0], parts[1], parts[2][:len(parts[2])/2]} {
			pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/dicom"}})
			if err != nil {
				panic(err)
			}
			pw.Write(p)
		}
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer stop.Close()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome to the intranet</body></html>")
	}))
	defer garbage.Close()
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="pacs"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
	}))
	defer refuse.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	for _, tc := range []struct {
		name, url string
		want      []string
	}{
		{"stops mid-stream", stop.URL, []string{"ended too early", "2 of 30 images", "not scored"}},
		{"garbage", garbage.URL, []string{"not DICOMweb", "DICOMweb root"}},
		{"refused", refuse.URL, []string{"refused", "HTTP 401"}},
		{"wrong address", closedURL, []string{"cannot be reached", "Check the address"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec recorder
			e.PACSOpen(context.Background(), 9, &protocol.PACS{URL: tc.url, User: "u", Password: "p"}, "1.2.3", "1.2.3.4", 30, rec.send)
			rec.checkEnd(t, 9, false)
			m := rec.last(protocol.Error)
			if m == nil {
				t.Fatalf("error event: got none in %+v, want one", rec.events)
			}
			for _, w := range tc.want {
				if !strings.Contains(m.Error, w) {
					t.Errorf("got error %q, want it to say %q", m.Error, w)
				}
			}
			if strings.Contains(m.Error, ":p@") || strings.Contains(m.Error, "Basic ") {
				t.Errorf("got error %q showing the credentials, want them hidden", m.Error)
			}
			if rec.last(protocol.Inventory) != nil || rec.last(protocol.Result) != nil {
				t.Errorf("a failed retrieval: got an inventory or a result sent, want neither")
			}
			if e.job != 1 || e.result == nil || jsonOf(t, e.result.res) != before {
				t.Errorf("the scan in use: got it changed (job %d), want job 1 and the same result", e.job)
			}
		})
	}
	// The search answers with the task named, so the page shows it in the
	// PACS panel.
	rec = recorder{}
	e.PACSSearch(context.Background(), 5, &protocol.PACS{URL: refuse.URL}, nil, rec.send)
	if m := rec.last(protocol.Error); m == nil || m.Task != protocol.PACSSearch || !strings.Contains(m.Error, "refused") {
		t.Errorf("search error %+v, want task %q saying refused", m, protocol.PACSSearch)
	}
}

// partsOf returns the bytes of the files of dir, in path order.
func partsOf(t *testing.T, dir string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range diskFiles(t, dir) {
		b := make([]byte, f.Size)
		if _, err := f.R.ReadAt(b, 0); err != nil {
			t.Fatalf("reading %s: got error %v, want nil", f.Path, err)
		}
		out = append(out, b)
	}
	return out
}

// TestPACSOpenStudy retrieves every CT series of a study (A0002 with both
// kernels): the header pass chooses among them as among the same files
// opened from disk, with the same explanation and result.
func TestPACSOpenStudy(t *testing.T) {
	b40, b70 := shareddata.Path(t, "chest-ct/A0002-B40f"), shareddata.Path(t, "chest-ct/A0002-B70f")
	srv := orthanctest.Start(t, orthanctest.Options{})
	srv.Upload(t, b40, b70)
	c := defaultCascade(t)
	ctx := context.Background()
	disk := New(Options{Cascade: c})
	var want recorder
	disk.Open(ctx, 1, diskFiles(t, b40, b70), want.send)
	wantInv := want.last(protocol.Inventory).Inventory

	e := New(Options{Cascade: c, HTTP: http.DefaultClient})
	pacs := &protocol.PACS{URL: srv.DICOMweb}
	var rec recorder
	e.PACSSearch(ctx, 1, pacs, &protocol.StudyQuery{PatientID: "Lung_Dx-A0002"}, rec.send)
	study := rec.last(protocol.Found).Found.Studies[0]
	rec = recorder{}
	e.PACSSeries(ctx, 2, pacs, study.UID, rec.send)
	if f := rec.last(protocol.Found).Found; len(f.Series) != 2 || !f.Series[0].Usable || !f.Series[1].Usable {
		t.Fatalf("series %+v, want two usable", f.Series)
	}
	rec = recorder{}
	e.PACSOpen(ctx, 3, pacs, study.UID, "", 0, rec.send)
	rec.checkEnd(t, 3, false)
	if m := rec.last(protocol.Error); m != nil {
		t.Fatalf("retrieval: got error %s, want none", m.Error)
	}
	inv := rec.last(protocol.Inventory).Inventory
	if inv.Files != 60 || inv.Chosen != wantInv.Chosen || inv.Why != wantInv.Why {
		t.Errorf("inventory: %d files, chose %s (%s); want 60 files, %s (%s)", inv.Files, inv.Chosen, inv.Why, wantInv.Chosen, wantInv.Why)
	}
	if jsonOf(t, e.result.res.Levels) != jsonOf(t, disk.result.res.Levels) {
		t.Errorf("levels from the PACS %s\nwant (from disk) %s", jsonOf(t, e.result.res.Levels), jsonOf(t, disk.result.res.Levels))
	}
}

// TestSeriesFound checks the series list of a study: what can be opened,
// the order, the proposal and its reason.
func TestSeriesFound(t *testing.T) {
	ct := func(uid string, n, number int, desc string) dicomweb.Series {
		return dicomweb.Series{UID: uid, Modality: "CT", NumInstances: n, Number: number, Description: desc}
	}
	for _, tc := range []struct {
		name       string
		series     []dicomweb.Series
		wantOrder  []string
		wantChosen string
		wantWhy    string
	}{
		{"one CT series", []dicomweb.Series{ct("a", 30, 2, "B40f")}, []string{"a"}, "a", "the only CT series"},
		{"the most images", []dicomweb.Series{ct("a", 30, 2, "5 mm"), ct("b", 300, 3, "1 mm")}, []string{"a", "b"}, "b", "the most images (300)"},
		{"localizer and report left out", []dicomweb.Series{
			{UID: "sr", Modality: "SR", NumInstances: 1, Number: 99},
			ct("scout", 1, 1, "Topogram"), ct("a", 30, 2, "B40f")},
			[]string{"a", "scout", "sr"}, "a", "the only CT series"},
		{"nothing to score", []dicomweb.Series{{UID: "mr", Modality: "MR", NumInstances: 20}}, []string{"mr"}, "", "No series of this study can be scored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := seriesFound(tc.series)
			var order []string
			for _, s := range f.Series {
				order = append(order, s.UID)
				if !s.Usable && s.Reason == "" {
					t.Errorf("series %s cannot be opened: got no reason, want one", s.UID)
				}
			}
			if strings.Join(order, " ") != strings.Join(tc.wantOrder, " ") {
				t.Errorf("order %v, want %v", order, tc.wantOrder)
			}
			if f.Chosen != tc.wantChosen || !strings.Contains(f.Why, tc.wantWhy) {
				t.Errorf("chose %q (%s), want %q (saying %q)", f.Chosen, f.Why, tc.wantChosen, tc.wantWhy)
			}
		})
	}
}
