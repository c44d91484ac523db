// Package engine is the worker's logic, kept free of syscall/js so that it
// is tested natively: it reads a scan's files with model/ingest, chooses the
// series, runs the scoring cascade (model/cascade) while building the
// coronal reformat from the same pass over the slices, sends the axial level
// slices with their lung masks and heat maps, rescores moved levels, and
// makes the exports. The worker program (wasm/worker) only turns browser
// messages into calls of an [Engine] and its events back into messages.
//
// One job runs at a time (the worker serialises them). Every job ends with a
// done event, after an error event if it failed; a job whose context is
// cancelled stops at its next checkpoint and ends with done{cancelled}.
package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/dicomweb"
	"sscscore/model/ingest"
	"sscscore/model/volume"
	"sscscore/wasm/internal/protocol"
)

// Send delivers one event to the page; buf, when not nil, is the binary
// part of the event: the int16 Hounsfield values of an image (see
// [Int16Bytes]) or the float32 values of a heat map ([Float32Bytes]).
type Send func(m *protocol.Msg, buf []byte)

// Options configure an Engine.
type Options struct {
	// Build is the build's provenance (version and commit), named by the
	// page and every export; zero means the running build
	// (buildinfo.Get).
	Build buildinfo.Info
	// Cascade is the trained scoring cascade; nil when the build has none,
	// in which case no levels or scores are ever produced.
	Cascade *cascade.Cascade
	// NoScoring says why there is no Cascade, for the page.
	NoScoring string
	// Demo returns the files of the built-in demo scan, reporting its
	// progress; nil when the build has none.
	Demo func(ctx context.Context, progress func(done, total int)) ([]ingest.File, error)
	// Yield, if not nil, is called at checkpoints (at most every
	// YieldEvery) so that the host can deliver a cancel request: in the
	// browser it returns to the event loop for a moment.
	Yield func()
	// YieldEvery is the longest stretch of work between two Yield calls;
	// 0 means 40 ms.
	YieldEvery time.Duration
	// MaxCoronalRows bounds the rows (slices) of the coronal reformat; 0
	// means 768.
	MaxCoronalRows int
	// Memory, if not nil, returns the memory in use (bytes) for the done
	// event: in the browser, the size of the WebAssembly memory.
	Memory func() int64
	// Parallel is the number of files read (and slices decoded) at once;
	// 0 means GOMAXPROCS. In the browser, where the Go program has one
	// thread but each read waits for the browser, more goroutines than
	// threads overlap those waits.
	Parallel int
	// ReadAhead is the number of slices read ahead of the cascade's
	// sequential pass; 0 means max(Parallel, 4).
	ReadAhead int
	// HTTP sends the PACS requests (DICOMweb; nil: there are none). The
	// worker passes one over fetch, tests an *http.Client: the engine
	// itself does not link net/http's client.
	HTTP dicomweb.Doer
}

// Engine holds the state of the worker: the last inventory, the series in
// use and its result.
type Engine struct {
	opt       Options
	mu        sync.Mutex // guards lastYield and the progress reports
	lastYield time.Time

	inv     *ingest.Inventory
	invInfo *protocol.InventoryInfo
	// started is when the running job started; timings how long each of
	// its stages took (ms).
	started time.Time
	timings map[protocol.Stage]float64
	src     volume.Source // the series in use, through a cache of recent slices
	series  *ingest.Series
	job     int
	result  *scored
	// maps holds the level slices' heat maps, by level.
	maps map[int]*levelMaps
}

// New returns an Engine.
func New(opt Options) *Engine {
	if opt.YieldEvery <= 0 {
		opt.YieldEvery = 40 * time.Millisecond
	}
	if opt.MaxCoronalRows <= 0 {
		opt.MaxCoronalRows = 768
	}
	if opt.Parallel <= 0 {
		opt.Parallel = runtime.GOMAXPROCS(0)
	}
	if opt.ReadAhead <= 0 {
		opt.ReadAhead = max(opt.Parallel, 4)
	}
	if opt.Cascade == nil && opt.NoScoring == "" {
		opt.NoScoring = "this build holds no trained scoring model."
	}
	if opt.Build == (buildinfo.Info{}) {
		opt.Build = buildinfo.Get()
	}
	return &Engine{opt: opt, lastYield: time.Now()}
}

// Ready describes what this build can do.
func (e *Engine) Ready() *protocol.ReadyInfo {
	r := &protocol.ReadyInfo{Version: e.opt.Build.Version, Commit: e.opt.Build.Commit, Demo: e.opt.Demo != nil}
	if e.opt.Cascade != nil {
		r.Scoring = true
		card := modelCard(e.opt.Cascade)
		r.Model = &card
		r.HeatmapMethods = heatmapMethods()
	} else {
		r.NoScoring = e.opt.NoScoring
	}
	if e.opt.Demo == nil {
		r.NoDemo = "The demo scan is not included in this build."
	}
	return r
}

// checkpoint yields to the host when enough time has passed since the last
// yield, then reports whether the job was cancelled.
func (e *Engine) checkpoint(ctx context.Context) error {
	e.mu.Lock()
	yield := e.opt.Yield != nil && time.Since(e.lastYield) >= e.opt.YieldEvery
	if yield {
		e.lastYield = time.Now()
	}
	e.mu.Unlock()
	if yield {
		e.opt.Yield()
	}
	return ctx.Err()
}

// progress reports a stage's progress, at most every 50 ms and always at
// its start and end.
type progress struct {
	e      *Engine
	send   Send
	job    int
	stage  protocol.Stage
	unit   string
	start  time.Time
	last   time.Time
	sentAt int
	// bytes, when set, is reported with the next report (the bytes
	// received of a download).
	bytes int64
}

func (e *Engine) stage(send Send, job int, stage protocol.Stage, unit string) *progress {
	return &progress{e: e, send: send, job: job, stage: stage, unit: unit, sentAt: -1}
}

// begin starts the stage's clock (if not started: the first report starts
// it otherwise).
func (p *progress) begin() {
	if p.start.IsZero() {
		p.start = time.Now()
	}
}

func (p *progress) report(done, total int) {
	p.begin()
	now := time.Now()
	if p.e.timings != nil {
		p.e.timings[p.stage] = float64(now.Sub(p.start).Microseconds()) / 1000
	}
	if done != 0 && done < total && now.Sub(p.last) < 50*time.Millisecond {
		return
	}
	if done == p.sentAt && done != 0 {
		return
	}
	p.last, p.sentAt = now, done
	p.send(&protocol.Msg{Kind: protocol.Progress, Job: p.job, Progress: &protocol.ProgressInfo{
		Stage: p.stage, Done: done, Total: total, Unit: p.unit,
		ElapsedMS: float64(now.Sub(p.start).Microseconds()) / 1000, Bytes: p.bytes,
	}}, nil)
}

// begin starts the timings of a job.
func (e *Engine) begin() {
	e.started = time.Now()
	e.timings = map[protocol.Stage]float64{}
}

// finish sends the job's last events: an error (unless cancelled) and done
// with the timings.
func (e *Engine) finish(send Send, job int, err error) {
	cancelled := errors.Is(err, context.Canceled)
	if err != nil && !cancelled {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
	}
	done := &protocol.Msg{Kind: protocol.Done, Job: job, Cancelled: cancelled, Timings: e.timings}
	if e.timings != nil {
		e.timings[protocol.StageTotal] = float64(time.Since(e.started).Microseconds()) / 1000
	}
	if e.opt.Memory != nil {
		done.Memory = e.opt.Memory()
	}
	send(done, nil)
	e.timings = nil
}

// Open reads files (zip archives are opened, everything else is classified
// by content), reports the inventory and goes on with the chosen series.
func (e *Engine) Open(ctx context.Context, job int, files []ingest.File, send Send) {
	e.begin()
	e.finish(send, job, e.open(ctx, job, files, send))
}

// Demo reads the built-in demo scan as Open reads files.
func (e *Engine) Demo(ctx context.Context, job int, send Send) {
	e.begin()
	if e.opt.Demo == nil {
		e.finish(send, job, errors.New("The demo scan is not included in this build."))
		return
	}
	t0 := time.Now()
	files, err := e.opt.Demo(ctx, e.stage(send, job, protocol.StageRead, "demo slices made").report)
	e.timings[protocol.StageDemo] = float64(time.Since(t0).Microseconds()) / 1000
	if err != nil {
		e.finish(send, job, fmt.Errorf("The demo scan could not be made: %w", err))
		return
	}
	e.finish(send, job, e.open(ctx, job, files, send))
}

func (e *Engine) open(ctx context.Context, job int, files []ingest.File, send Send) error {
	e.reset(job)
	if len(files) == 0 {
		return errors.New("No files were given.")
	}
	inv, err := e.scan(ctx, job, files, send)
	if err != nil {
		return err
	}
	return e.useInventory(ctx, job, inv, len(files), send)
}

// scan runs the header pass over files, reporting its progress.
func (e *Engine) scan(ctx context.Context, job int, files []ingest.File, send Send) (*ingest.Inventory, error) {
	prog := e.stage(send, job, protocol.StageRead, "files")
	prog.report(0, len(files))
	var yieldErr error
	inv, err := ingest.Scan(ctx, files, ingest.Options{
		Workers: e.opt.Parallel,
		Progress: func(p ingest.Progress) {
			prog.report(p.FilesDone, p.FilesTotal)
			if err := e.checkpoint(ctx); err != nil {
				yieldErr = err
			}
		},
	})
	if err == nil {
		err = yieldErr
	}
	if err != nil {
		return nil, err
	}
	prog.report(len(inv.Files), len(inv.Files))
	return inv, nil
}

// useInventory keeps inv, the header pass over n input files, as the last
// inventory and goes on with its chosen series.
func (e *Engine) useInventory(ctx context.Context, job int, inv *ingest.Inventory, n int, send Send) error {
	e.inv = inv
	if inv.Chosen == "" {
		info := summarize(inv, "", false)
		e.invInfo = info
		send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
		return fmt.Errorf("No usable CT series was found in the %s: %s.", plural(n, "file", "files"), inv.ChosenWhy)
	}
	return e.use(ctx, job, inv.Chosen, false, send)
}

// Choose switches to another series of the last inventory.
func (e *Engine) Choose(ctx context.Context, job int, uid string, send Send) {
	e.begin()
	if e.inv == nil {
		e.finish(send, job, errors.New("Open a scan first."))
		return
	}
	e.reset(job)
	e.finish(send, job, e.use(ctx, job, uid, true, send))
}

// reset forgets the previous job's series and result (not the inventory).
func (e *Engine) reset(job int) {
	e.job = job
	e.src, e.series, e.result, e.maps = nil, nil, nil, nil
}

// use reads series uid: reports the inventory with it chosen and, in one
// pass over its slices, builds the coronal reformat and (with a cascade)
// the levels network's grid; then finds the levels, scores them, and sends
// the level slices with their heat maps.
func (e *Engine) use(ctx context.Context, job int, uid string, manual bool, send Send) error {
	lv, err := e.inv.Open(uid)
	if err != nil {
		return fmt.Errorf("This series cannot be read: %w", err)
	}
	e.series = lv.Series()
	info := summarize(e.inv, uid, manual)
	e.invInfo = info
	send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
	// Slices read outside the sequential pass (the scored ones) are kept
	// a while, to be shown without decoding them again.
	e.src = newSliceCache(lv, 24)
	g := lv.Geometry()

	// The middle slice places the reformat's slab.
	mid := make([]int16, g.SliceLen())
	if lv.Slice(ctx, g.Nz/2, mid) != nil {
		mid = nil
	}
	cor := newCoronal(g, e.opt.MaxCoronalRows, mid)
	decode := e.stage(send, job, protocol.StageDecode, "slices")
	decode.begin()
	sendCoronal := func() error {
		img, err := cor.image()
		if err != nil {
			return err
		}
		send(&protocol.Msg{Kind: protocol.Image, Job: job, Image: &img.info}, Int16Bytes(img.pixels))
		if rep := lv.Report(); len(rep.Errors) > 0 {
			info.Warnings = append(info.Warnings, fmt.Sprintf("%s could not be decoded and show as air in the reformat: %s",
				plural(len(rep.Errors), "slice", "slices"), rep.Errors[0].Error()))
			send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
		}
		return nil
	}

	if e.opt.Cascade == nil {
		// No scoring: decode only the slices the reformat shows.
		ra := newReadAhead(ctx, lv, e.src, cor.rows, e.opt.ReadAhead, cor.add)
		defer ra.Close()
		buf := make([]int16, g.SliceLen())
		decode.report(0, len(cor.rows))
		for i, k := range cor.rows {
			if err := e.checkpoint(ctx); err != nil {
				return err
			}
			if err := ra.Slice(ctx, k, buf); err != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			decode.report(i+1, len(cor.rows))
		}
		return sendCoronal()
	}

	res, err := e.runCascade(ctx, job, lv, cor, decode, sendCoronal, send)
	if err != nil {
		return err
	}
	e.result = res
	send(&protocol.Msg{Kind: protocol.Result, Job: job, Result: res.info()}, nil)
	return e.sendLevelSlices(ctx, job, res, send)
}

// plural returns "1 file" or "n files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// sentence capitalises s and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
