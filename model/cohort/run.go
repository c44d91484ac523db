package cohort

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/nn/gemm"
	"sscscore/model/parallel"
)

// Config configures Run.
type Config struct {
	// Roots are the files and folders to search for studies.
	Roots []string
	// Out is the CSV path; the journal and manifest are written beside it
	// (PathsOf).
	Out string
	// AllSeries scores every usable series of each study, one row each,
	// instead of the automatically chosen one.
	AllSeries bool
	// Jobs is the number of scans scored at once (0: GOMAXPROCS).
	Jobs int
	// Threads is the number of cores each scan's networks use (0: the
	// cores shared among the jobs, at least 1).
	Threads int
	// Shard selects a share of the studies (zero: all).
	Shard Shard
	// Resume continues an earlier run into the same outputs, scoring only
	// what they miss (or what changed). Without it, existing outputs are
	// an error: nothing is overwritten.
	Resume bool
	// Cascade scores the scans (nil: cascade.Default()). Each worker gets a
	// Fork of it.
	Cascade *cascade.Cascade
	// Progress, if not nil, is called once the jobs are known (Event.Record
	// nil) and after each job; calls are serialised.
	Progress func(Event)
}

// Event reports the progress of a run.
type Event struct {
	// Done of Total jobs are in the outputs; Resumed of them were already
	// there when the run started.
	Done, Total, Resumed int
	// Record is the job just finished (nil for the first event).
	Record *Record
	// Took is the time the job took.
	Took time.Duration
}

// Summary is the outcome of a run.
type Summary struct {
	Paths Paths
	// Jobs is the number of jobs of the run (its shard), Scored and Failed
	// count their outcomes, Resumed those taken from an earlier run.
	Jobs, Scored, Failed, Resumed int
	// Outside counts the files under the roots that belong to no study.
	Outside int
}

// ErrExists reports outputs left by an earlier run when Resume is not set.
var ErrExists = errors.New("cohort: the outputs exist (resume the run, or choose another name)")

// Run finds the studies under cfg.Roots, scores the jobs of cfg.Shard on
// cfg.Jobs workers and writes the outputs (see the package documentation).
// Each job's result is in the journal as soon as it finishes. When ctx is
// cancelled the scans in flight are abandoned, the CSV is rewritten with
// what is done and ctx's error is returned: a run with Resume continues.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	p := PathsOf(cfg.Out)
	c, err := Discover(ctx, cfg.Roots, nil)
	if err != nil {
		return nil, err
	}
	jobs := c.Jobs(cfg.AllSeries, cfg.Shard)
	man := newManifest(c, cfg.AllSeries, cfg.Shard)
	base := cfg.Cascade
	if base == nil {
		if base, err = cascade.Default(); err != nil {
			return nil, err
		}
	}
	recs, good, err := previous(p, cfg.Resume, man)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p.CSV), 0o755); err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	done := keep(recs, jobs, base.Info())
	sum := &Summary{Paths: p, Jobs: len(jobs), Resumed: len(done), Outside: len(c.Outside)}
	if err := writeManifest(p.Manifest, man); err != nil {
		return nil, err
	}
	var kept []*Record
	for _, r := range done {
		kept = append(kept, r)
	}
	jn, err := openJournal(p, good, kept)
	if err != nil {
		return nil, err
	}
	var todo []Job
	for _, j := range jobs {
		if done[j.Key()] == nil {
			todo = append(todo, j)
		}
	}
	ev := Event{Done: len(done), Total: len(jobs), Resumed: len(done)}
	if cfg.Progress != nil {
		cfg.Progress(ev)
	}

	workers, threads := shareCores(cfg.Jobs, cfg.Threads, len(todo))
	defer gemm.SetThreads(gemm.SetThreads(threads))
	// A failure to write (a full disk) stops the workers too.
	wctx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	// Each worker scores with its own fork of the networks; the journal and
	// the progress take one record at a time, as each scan finishes.
	forks := make([]*cascade.Cascade, parallel.Workers(len(todo), workers))
	var mu sync.Mutex
	var werr error
	_ = parallel.For(wctx, len(todo), workers, func(w, i int) error {
		if forks[w] == nil {
			forks[w] = base.Fork()
		}
		t0 := time.Now()
		r := scoreJob(wctx, forks[w], todo[i])
		if r == nil {
			return nil // cancelled: nothing to record
		}
		took := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		if werr != nil {
			return werr
		}
		if werr = jn.add(r); werr != nil {
			stopWork()
			return werr
		}
		done[r.Key] = r
		ev.Done++
		ev.Record, ev.Took = r, took
		if cfg.Progress != nil {
			cfg.Progress(ev)
		}
		return nil
	})
	if err := jn.close(); werr == nil {
		werr = err
	}
	var all []*Record
	for _, r := range done {
		all = append(all, r)
		if r.Status == StatusScored {
			sum.Scored++
		} else {
			sum.Failed++
		}
	}
	if werr != nil {
		return sum, werr
	}
	if err := ctx.Err(); err != nil {
		sortRecords(all)
		if cb, cerr := csvBytes(all); cerr == nil {
			writeAtomic(p.CSV, cb)
		}
		return sum, fmt.Errorf("cohort: interrupted with %d of %d jobs done (run again with resume to finish): %w", len(done), len(jobs), err)
	}
	if err := writeOutputs(p, man, all); err != nil {
		return sum, err
	}
	return sum, nil
}

// shareCores returns the number of workers for n jobs and the threads each
// scan's networks use, so that workers × threads stays within the cores.
func shareCores(jobs, threads, n int) (workers, perScan int) {
	cores := runtime.GOMAXPROCS(0)
	if jobs <= 0 {
		jobs = cores
	}
	workers = max(1, min(jobs, n))
	if threads <= 0 {
		threads = max(1, cores/max(1, jobs))
	}
	return workers, threads
}

// previous returns the records of an earlier run into p and the length of
// its journal without a torn last line. Without resume, existing outputs
// are an error (ErrExists); with it, a run over other roots, another shard
// or the other series mode is one.
func previous(p Paths, resume bool, m *Manifest) ([]*Record, int64, error) {
	var found []string
	for _, f := range []string{p.Journal, p.Manifest} {
		ok, err := exists(f)
		if err != nil {
			return nil, 0, err
		}
		if ok {
			found = append(found, f)
		}
	}
	if len(found) == 0 {
		return nil, 0, nil
	}
	if !resume {
		return nil, 0, fmt.Errorf("%w: %v", ErrExists, found)
	}
	if ok, _ := exists(p.Manifest); ok {
		old, err := readManifest(p.Manifest)
		if err != nil {
			return nil, 0, err
		}
		if old.Shard != m.Shard || old.AllSeries != m.AllSeries || fmt.Sprint(old.Roots) != fmt.Sprint(m.Roots) {
			return nil, 0, fmt.Errorf("cohort: %s is a run of shard %q, all series %v over %v; this run is shard %q, all series %v over %v",
				p.Manifest, old.Shard, old.AllSeries, old.Roots, m.Shard, m.AllSeries, m.Roots)
		}
	}
	f, err := os.Open(p.Journal)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cohort: %w", err)
	}
	defer f.Close()
	recs, good, _, err := readJournal(f, p.Journal)
	return recs, good, err
}

// keep returns the earlier records still valid for jobs: same job, same
// input files, same networks.
func keep(recs []*Record, jobs []Job, model cascade.ModelInfo) map[string]*Record {
	byKey := map[string]Job{}
	for _, j := range jobs {
		byKey[j.Key()] = j
	}
	done := map[string]*Record{}
	for _, r := range recs {
		j, ok := byKey[r.Key]
		if !ok || r.Input != j.Study.Fingerprint() || r.Model != model {
			continue
		}
		done[r.Key] = r
	}
	return done
}

// scoreJob scores one job; nil when ctx was cancelled.
func scoreJob(ctx context.Context, c *cascade.Cascade, j Job) *Record {
	r := &Record{Key: j.Key(), Study: j.Study.Key, Series: j.Series, Input: j.Study.Fingerprint(),
		Model: c.Info(), Build: buildinfo.Get(), Files: []string{}}
	res, src, inv, err := ScoreFiles(ctx, c, j.Study.Files, j.Series, nil)
	if ctx.Err() != nil {
		return nil
	}
	uid := j.Series
	if src != nil {
		uid = src.Series().UID
	}
	if inv != nil && j.Series == "" && uid != "" {
		r.ChosenWhy = inv.ChosenWhy
	}
	r.Series = uid
	if used, left := noteFiles(inv, uid); used != nil {
		r.Files, r.LeftOut = used, left
	} else {
		r.LeftOut = left
	}
	r.PatID = PatID(src)
	if err != nil {
		r.Status, r.Reason = StatusFailed, oneLine(err.Error())
		for _, id := range []string{j.Study.PatientID, uid, j.Study.Key} {
			if r.PatID == "" {
				r.PatID = id
			}
		}
		return r
	}
	if r.PatID == "" {
		r.PatID = res.SeriesUID // as Result.CSVRecord falls back
	}
	r.Status, r.Result = StatusScored, res
	return r
}
