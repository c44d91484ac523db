package engine

import (
	"archive/zip"
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"sscscore/model/ingest"
	"sscscore/model/shareddata"
	"sscscore/wasm/internal/protocol"
)

func diskFiles(t *testing.T, paths ...string) []ingest.File {
	t.Helper()
	files, err := ingest.DiskFiles(paths...)
	if err != nil {
		t.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	return files
}

// event is one event sent by the engine.
type event struct {
	m   *protocol.Msg
	buf []byte
}

// pixels returns the event's buffer as int16 values.
func (e event) pixels() []int16 {
	if len(e.buf) == 0 {
		return nil
	}
	return unsafe.Slice((*int16)(unsafe.Pointer(&e.buf[0])), len(e.buf)/2)
}

// floats returns the event's buffer as float32 values.
func (e event) floats() []float32 {
	if len(e.buf) == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&e.buf[0])), len(e.buf)/4)
}

type recorder struct{ events []event }

func (r *recorder) send(m *protocol.Msg, buf []byte) {
	// The worker copies the buffer out at once; so does the recorder.
	r.events = append(r.events, event{m, append([]byte(nil), buf...)})
}

func (r *recorder) kind(k string) []event {
	var out []event
	for _, e := range r.events {
		if e.m.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) last(k string) *protocol.Msg {
	ev := r.kind(k)
	if len(ev) == 0 {
		return nil
	}
	return ev[len(ev)-1].m
}

// checkEnd checks that the job ended with exactly one done event, last.
func (r *recorder) checkEnd(t *testing.T, job int, cancelled bool) {
	t.Helper()
	if len(r.events) == 0 {
		t.Fatalf("no events: got %v, want != 0", len(r.events))
	}
	last := r.events[len(r.events)-1].m
	if last.Kind != protocol.Done || last.Job != job || last.Cancelled != cancelled {
		t.Fatalf("last event %+v, want done{job %d, cancelled %v}", last, job, cancelled)
	}
	if n := len(r.kind(protocol.Done)); n != 1 {
		t.Fatalf("%d done events, want 1", n)
	}
	for _, e := range r.events {
		if e.m.Job != job {
			t.Errorf("event %s for job %d, want %d", e.m.Kind, e.m.Job, job)
		}
	}
}

func TestOpenA0002(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	e := New(Options{})
	if r := e.Ready(); r.Scoring || r.NoScoring == "" || r.Model != nil {
		t.Errorf("Ready without a scorer: got %+v, want no scoring, a reason, no model", r)
	}
	var rec recorder
	e.Open(context.Background(), 7, diskFiles(t, dir), rec.send)
	rec.checkEnd(t, 7, false)
	if m := rec.last(protocol.Error); m != nil {
		t.Fatalf("Open: got error %q, want none", m.Error)
	}
	if tm := rec.last(protocol.Done).Timings; tm["read"] <= 0 || tm["decode"] <= 0 || tm["total"] < tm["read"]+tm["decode"] {
		t.Errorf("timings: got %v, want read and decode > 0, total >= their sum", tm)
	}
	inv := rec.last(protocol.Inventory).Inventory
	if inv.Chosen == "" || inv.Files != 30 || inv.Used != 30 || len(inv.Groups) != 0 {
		t.Errorf("inventory: got chosen %q, files %d, used %d, groups %+v; want a series chosen, 30 files used, no groups", inv.Chosen, inv.Files, inv.Used, inv.Groups)
	}
	if len(inv.Series) != 1 || inv.Series[0].Slices != 30 || inv.Series[0].Kernel != "B40f" || inv.Series[0].Thickness != 8 {
		t.Errorf("series: got %+v, want one of 30 slices, B40f, 8 mm", inv.Series)
	}
	// Progress: reading files then decoding slices, ending complete.
	var stages []protocol.Stage
	for _, ev := range rec.kind(protocol.Progress) {
		p := ev.m.Progress
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		if p.Done > p.Total {
			t.Errorf("progress: got %d of %d, want done <= total", p.Done, p.Total)
		}
	}
	if want := []protocol.Stage{protocol.StageRead, protocol.StageDecode}; !slices.Equal(stages, want) {
		t.Errorf("stages: got %v, want %v", stages, want)
	}
	// The coronal reformat: one row per slice, head first.
	imgs := rec.kind(protocol.Image)
	if len(imgs) != 1 {
		t.Fatalf("%d images without a scorer, want the coronal only", len(imgs))
	}
	img := imgs[0].m.Image
	if img.Role != protocol.RoleCoronal || img.Width != 512 || img.Height != 30 || len(imgs[0].pixels()) != 512*30 {
		t.Fatalf("coronal: got %+v with %d pixels, want 512 x 30", img, len(imgs[0].pixels()))
	}
	if img.SliceZ[0] != 312 || img.SliceZ[29] != 80 || img.RowSlice[29] != 29 {
		t.Errorf("coronal: got z %v..%v, row 29 slice %d; want 312..80, 29", img.SliceZ[0], img.SliceZ[29], img.RowSlice[29])
	}
	// Lung (air inside the body) in the middle rows, body at the sides.
	row := imgs[0].pixels()[15*512 : 16*512]
	lung := 0
	for _, v := range row[100:412] {
		if v < -500 && v > -1000 {
			lung++
		}
	}
	if lung < 100 {
		t.Errorf("only %d lung pixels across the middle row of the coronal reformat, want >= 100", lung)
	}
	if rec.last(protocol.Result) != nil {
		t.Error("without a scorer: got a result, want none")
	}
	// Nothing to export without a result.
	var rec2 recorder
	e.Export(7, "csv", false, rec2.send)
	if m := rec2.last(protocol.Error); m == nil || rec2.last(protocol.Exported) != nil {
		t.Error("Export without a result: got no error, want one")
	}
}

func TestMixedFolder(t *testing.T) {
	a := shareddata.Path(t, "chest-ct/A0002-B40f")
	corpus := shareddata.Path(t, "robustness")
	e := New(Options{})
	var rec recorder
	e.Open(context.Background(), 1, diskFiles(t, corpus, a), rec.send)
	rec.checkEnd(t, 1, false)
	inv := rec.last(protocol.Inventory).Inventory
	var chosen *protocol.SeriesInfo
	for i := range inv.Series {
		if inv.Series[i].UID == inv.Chosen {
			chosen = &inv.Series[i]
		}
	}
	if chosen == nil || chosen.Slices != 30 || chosen.Kernel != "B40f" {
		t.Fatalf("chosen %+v, want A0002-B40f; why: %s", chosen, inv.Why)
	}
	if inv.Used != 30 {
		t.Errorf("used %d, want 30", inv.Used)
	}
	// Every file not used is in exactly one group, with its own reason.
	n := 0
	seen := map[string]bool{}
	rejected := false
	for _, g := range inv.Groups {
		if g.Count != len(g.Paths) || len(g.Paths) != len(g.Reasons) || g.Text == "" {
			t.Errorf("group: got %+v, want count = paths = reasons and a text", g)
		}
		if !strings.HasPrefix(g.Text, "1 file ") && !strings.HasPrefix(g.Text, strings.Fields(g.Text)[0]+" files ") {
			t.Errorf("group text: got %q, want it to start with its count", g.Text)
		}
		rejected = rejected || g.Status == "rejected"
		n += g.Count
		for i, p := range g.Paths {
			if seen[p] {
				t.Errorf("%s: got it in two groups, want one", p)
			}
			seen[p] = true
			if g.Reasons[i] == "" {
				t.Errorf("%s has no reason, got %v, want != %q", p, g.Reasons[i], "")
			}
		}
	}
	if n+inv.Used != inv.Files {
		t.Errorf("got %d grouped + %d used, want %d files", n, inv.Used, inv.Files)
	}
	if !rejected {
		t.Error("groups: got none rejected, want one (the corpus holds damaged files)")
	}
	for _, g := range inv.Groups {
		t.Logf("%s: %s", g.Status, g.Text)
	}
}

func TestNoUsableSeries(t *testing.T) {
	dir := shareddata.Path(t, "robustness/fo-dicom-edge")
	e := New(Options{})
	var rec recorder
	e.Open(context.Background(), 2, diskFiles(t, filepath.Join(dir, "GH1146.dcm"), filepath.Join(dir, "GH179B.dcm")), rec.send)
	rec.checkEnd(t, 2, false)
	m := rec.last(protocol.Error)
	if m == nil || !strings.Contains(m.Error, "No usable CT series") {
		t.Fatalf("error: got %+v, want \"No usable CT series\"", m)
	}
	inv := rec.last(protocol.Inventory).Inventory
	if inv.Chosen != "" || inv.Files != 2 || len(inv.Groups) != 2 {
		t.Errorf("inventory: got %+v, want none chosen, 2 files in 2 groups", inv)
	}
}

func TestZipArchive(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range diskFiles(t, dir) {
		b := make([]byte, f.Size)
		if _, err := f.R.ReadAt(b, 0); err != nil {
			t.Fatalf("f.R.ReadAt: got error %v, want nil", err)
		}
		w, _ := zw.Create("scan/" + filepath.Base(f.Path))
		w.Write(b)
	}
	zw.Close()
	e := New(Options{})
	var rec recorder
	e.Open(context.Background(), 3, []ingest.File{ingest.BytesFile("scan.zip", buf.Bytes())}, rec.send)
	rec.checkEnd(t, 3, false)
	inv := rec.last(protocol.Inventory).Inventory
	if inv.Used != 30 || inv.Files != 30 {
		t.Errorf("zip: got %d used of %d files, want 30 of 30", inv.Used, inv.Files)
	}
	if !strings.Contains(strings.Join(inv.Warnings, " "), "zip archive") {
		t.Errorf("warnings: got %q, want one about the zip archive", inv.Warnings)
	}
}

func TestCancel(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	ctx, cancel := context.WithCancel(context.Background())
	yields := 0
	e := New(Options{YieldEvery: 1, Yield: func() {
		yields++
		if yields == 3 {
			cancel() // as a cancel message delivered while yielding
		}
	}})
	var rec recorder
	e.Open(ctx, 4, diskFiles(t, dir), rec.send)
	rec.checkEnd(t, 4, true)
	if rec.last(protocol.Error) != nil {
		t.Errorf("after a cancel: got error %q, want none", rec.last(protocol.Error).Error)
	}
	if len(rec.kind(protocol.Image)) != 0 {
		t.Errorf("after the cancel: got %d images, want none", len(rec.kind(protocol.Image)))
	}
}

func TestPickRows(t *testing.T) {
	if got := pickRows(5, 10); len(got) != 5 || got[4] != 4 {
		t.Errorf("pickRows(5,10) = %v, want [0 1 2 3 4]", got)
	}
	got := pickRows(3000, 768)
	if len(got) != 768 || got[0] != 0 || got[767] != 2999 {
		t.Errorf("pickRows(3000,768): got %d rows, ends %d %d; want 768, ends 0 2999", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("rows not increasing at %d, got %v, want > %v", i, got[i], got[i-1])
		}
	}
}

func TestDemoHook(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	calls := 0
	e := New(Options{Demo: func(ctx context.Context, progress func(done, total int)) ([]ingest.File, error) {
		calls++
		progress(1, 2)
		progress(2, 2)
		return diskFiles(t, dir), nil
	}})
	if r := e.Ready(); !r.Demo || r.NoDemo != "" {
		t.Errorf("Ready: got %+v, want the demo", r)
	}
	var rec recorder
	e.Demo(context.Background(), 9, rec.send)
	rec.checkEnd(t, 9, false)
	if calls != 1 || rec.last(protocol.Inventory).Inventory.Used != 30 {
		t.Errorf("demo: got %d calls, inventory %+v; want 1 call, 30 files used", calls, rec.last(protocol.Inventory).Inventory)
	}
	if p := rec.kind(protocol.Progress)[0].m.Progress; p.Unit != "demo slices made" {
		t.Errorf("first progress %+v, got %v, want %q", p, p.Unit, "demo slices made")
	}
	if _, ok := rec.last(protocol.Done).Timings["demo"]; !ok {
		t.Errorf("timings: got %v, want a demo time", rec.last(protocol.Done).Timings)
	}
	// Without the hook the demo fails in words.
	var rec2 recorder
	New(Options{}).Demo(context.Background(), 1, rec2.send)
	if m := rec2.last(protocol.Error); m == nil || !strings.Contains(m.Error, "not included") {
		t.Errorf("demo without the hook: got %+v, want an error saying \"not included\"", m)
	}
}
