// Package engine is the worker's logic, kept free of syscall/js so that it
// is tested natively: it reads a scan's files with model/ingest, chooses the
// series, builds the coronal reformat and the axial images, runs the scoring
// cascade when the build has one, and makes the exports. The worker program
// (wasm/worker) only turns browser messages into calls of an [Engine] and
// its events back into messages.
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

	"sscscore/model/ingest"
	"sscscore/model/lungmask"
	"sscscore/model/volume"
	"sscscore/wasm/internal/protocol"
)

// Send delivers one event to the page; pixels, when not nil, are the int16
// Hounsfield values of an image event.
type Send func(m *protocol.Msg, pixels []int16)

// Options configure an Engine.
type Options struct {
	// Version is the app's version string.
	Version string
	// Scorer is the trained cascade; nil when the build has none, in which
	// case no levels or scores are ever produced.
	Scorer Scorer
	// NoScoring says why there is no Scorer, for the page.
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
	timings map[string]float64
	src     volume.Source
	series  *ingest.Series
	job     int
	result  *Result
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
	if opt.Scorer == nil && opt.NoScoring == "" {
		opt.NoScoring = "this build holds no trained scoring model."
	}
	return &Engine{opt: opt, lastYield: time.Now()}
}

// Ready describes what this build can do.
func (e *Engine) Ready() *protocol.ReadyInfo {
	r := &protocol.ReadyInfo{Version: e.opt.Version, Demo: e.opt.Demo != nil}
	if e.opt.Scorer != nil {
		r.Scoring = true
		card := e.opt.Scorer.Card()
		r.Model = &card
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
	stage  string
	unit   string
	start  time.Time
	last   time.Time
	sentAt int
}

func (e *Engine) stage(send Send, job int, stage, unit string) *progress {
	return &progress{e: e, send: send, job: job, stage: stage, unit: unit, start: time.Now(), sentAt: -1}
}

func (p *progress) report(done, total int) {
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
		ElapsedMS: float64(now.Sub(p.start).Microseconds()) / 1000,
	}}, nil)
}

// begin starts the timings of a job.
func (e *Engine) begin() {
	e.started = time.Now()
	e.timings = map[string]float64{}
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
		e.timings["total"] = float64(time.Since(e.started).Microseconds()) / 1000
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
	e.timings["demo"] = float64(time.Since(t0).Microseconds()) / 1000
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
		return err
	}
	prog.report(len(inv.Files), len(inv.Files))
	e.inv = inv
	if inv.Chosen == "" {
		info := summarize(inv, "", false)
		e.invInfo = info
		send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
		return fmt.Errorf("No usable CT series was found in the %s: %s.", plural(len(files), "file", "files"), inv.ChosenWhy)
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
	e.src, e.series, e.result = nil, nil, nil
}

// use reads series uid: reports the inventory with it chosen, builds the
// coronal reformat and, with a scorer, finds the levels and scores them.
func (e *Engine) use(ctx context.Context, job int, uid string, manual bool, send Send) error {
	lv, err := e.inv.Open(uid)
	if err != nil {
		return fmt.Errorf("This series cannot be read: %w", err)
	}
	e.series = lv.Series()
	info := summarize(e.inv, uid, manual)
	e.invInfo = info
	send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
	e.src = lv

	g := lv.Geometry()
	cor, err := e.coronal(ctx, lv, e.stage(send, job, protocol.StageDecode, "slices"))
	if err != nil {
		return err
	}
	send(&protocol.Msg{Kind: protocol.Image, Job: job, Image: &cor.info}, cor.pixels)
	if rep := lv.Report(); len(rep.Errors) > 0 {
		info.Warnings = append(info.Warnings, fmt.Sprintf("%s could not be decoded and show as air in the reformat: %s",
			plural(len(rep.Errors), "slice", "slices"), rep.Errors[0].String()))
		send(&protocol.Msg{Kind: protocol.Inventory, Job: job, Inventory: info}, nil)
	}
	if e.opt.Scorer == nil {
		return nil
	}
	res, err := e.score(ctx, job, send)
	if err != nil {
		return err
	}
	e.result = res
	send(&protocol.Msg{Kind: protocol.Result, Job: job, Result: res.Info()}, nil)
	for i := range res.Levels {
		if err := e.sendAxial(ctx, job, res.Levels[i].Level, res.Levels[i].Slice, send); err != nil {
			return err
		}
	}
	_ = g
	return nil
}

// sendAxial decodes slice k and sends it as the image of a level, with the
// outline of its lung mask.
func (e *Engine) sendAxial(ctx context.Context, job, level, k int, send Send) error {
	g := e.src.Geometry()
	buf := make([]int16, g.SliceLen())
	if err := e.src.Slice(ctx, k, buf); err != nil {
		return fmt.Errorf("slice %d: %w", k+1, err)
	}
	mask := lungmask.Slice(buf, g.Nx, g.Ny, [2]float64{g.Spacing[0], g.Spacing[1]}, lungmask.Options{})
	send(&protocol.Msg{Kind: protocol.Image, Job: job, Image: &protocol.ImageInfo{
		Role: protocol.RoleAxial, Width: g.Nx, Height: g.Ny, PixelW: g.Spacing[0], PixelH: g.Spacing[1],
		Slice: k, Z: g.ZOf(k), Level: level, Outline: outline(mask, g.Nx, g.Ny),
	}}, buf)
	return nil
}

// outline returns the pixels of mask (nx x ny) that have a 4-neighbour
// outside it: the edge of the lungs.
func outline(mask []bool, nx, ny int) []int32 {
	var out []int32
	for y := range ny {
		for x := range nx {
			i := y*nx + x
			if !mask[i] {
				continue
			}
			if x == 0 || y == 0 || x == nx-1 || y == ny-1 || !mask[i-1] || !mask[i+1] || !mask[i-nx] || !mask[i+nx] {
				out = append(out, int32(i))
			}
		}
	}
	return out
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

// Export makes an export of the current result: "csv" or "json", with the
// patient's name and ID only when patient is true.
func (e *Engine) Export(job int, format string, patient bool, send Send) {
	x, err := e.export(job, format, patient)
	if err != nil {
		send(&protocol.Msg{Kind: protocol.Error, Job: job, Error: err.Error()}, nil)
		return
	}
	send(&protocol.Msg{Kind: protocol.Exported, Job: job, Export: x}, nil)
}
