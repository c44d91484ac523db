package ingest

import (
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"sscscore/model/codec"
	"sscscore/model/parallel"
)

// Options configure Scan.
type Options struct {
	// Progress, if not nil, is called as files are read. Calls are
	// serialized.
	Progress func(Progress)
	// Workers is the number of files read at once; 0 means GOMAXPROCS.
	Workers int
}

// Progress reports how far a scan, load or verification has come.
type Progress struct {
	// Phase is PhaseScan (headers), PhaseLoad (pixel decoding) or
	// PhaseVerify.
	Phase Phase
	// FilesDone of FilesTotal files (slices when loading); the total grows
	// when zip archives are opened.
	FilesDone, FilesTotal int
	// BytesDone of BytesTotal bytes, counting the size of each file done.
	BytesDone, BytesTotal int64
}

// Phase names the work a Progress reports on.
type Phase string

// Phases of Progress.
const (
	PhaseScan   Phase = "scan"   // reading the headers (Scan)
	PhaseLoad   Phase = "load"   // decoding the pixels (Inventory.Load)
	PhaseVerify Phase = "verify" // decoding every frame (Inventory.Verify)
)

// FileReport is the outcome for one input file.
type FileReport struct {
	Path string
	// Status is Accepted after Scan for files of usable series, Decoded or
	// Rejected once their pixels were decoded (Load, Verify), Skipped or
	// Rejected otherwise.
	Status Status
	// Code classifies the reason of a skipped or rejected file (Code*
	// constants); Reason says it in plain words.
	Code   Code
	Reason string
	// Err is the error behind Reason when the file was rejected for a
	// failure to read or decode it (nil otherwise): a FileError when its
	// pixels failed to decode, so that errors.As finds the codec's typed
	// error (such as jpegls.FormatError) through it.
	Err error `json:"-"`
	// Series is the UID of the series the file's frames belong to.
	Series string
	// Frames is the number of image frames in the file.
	Frames int
	// Warnings are oddities that did not stop the file being used.
	Warnings []string
}

// Inventory is the result of the header pass: every series found, every
// file's outcome, and the series chosen for scoring.
type Inventory struct {
	// Series lists the series: usable ones in order of preference (Rank 0
	// first), then the others (Rank -1) by UID.
	Series []*Series
	// Files lists every input file (and zip entry) by path.
	Files []FileReport
	// Chosen is the UID of the series chosen for lung scoring ("" when no
	// series is usable) and ChosenWhy says why in one sentence.
	Chosen    string
	ChosenWhy string
	// Warnings apply to the inventory as a whole.
	Warnings []string
	// BytesRead counts the bytes read by the header pass.
	BytesRead int64

	mu      sync.Mutex
	byPath  map[string]int
	byUID   map[string]*Series
	workers int
	inputs  map[string]File // the files Scan read (zip entries included), by path
}

// Lookup returns the series with the given UID, or the chosen series when
// uid is "".
func (inv *Inventory) Lookup(uid string) (*Series, error) {
	if uid == "" {
		uid = inv.Chosen
		if uid == "" {
			return nil, fmt.Errorf("ingest: no usable series: %s", inv.ChosenWhy)
		}
	}
	s, ok := inv.byUID[uid]
	if !ok {
		return nil, fmt.Errorf("ingest: no series %q", uid)
	}
	return s, nil
}

// Report returns a copy of the report of the file at path.
func (inv *Inventory) Report(path string) (FileReport, bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	i, ok := inv.byPath[path]
	if !ok {
		return FileReport{}, false
	}
	return inv.Files[i], true
}

// Input returns the file Scan read at path (a disk file or a zip entry), so
// that a subset of the files, such as one study's, can be scanned again on
// its own. It reports false for a path Scan did not read.
func (inv *Inventory) Input(path string) (File, bool) {
	f, ok := inv.inputs[path]
	return f, ok
}

// setStatus records the decoding outcome of a file.
func (inv *Inventory) setStatus(path string, st Status, code Code, reason string, err error) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	i, ok := inv.byPath[path]
	if !ok {
		return
	}
	r := &inv.Files[i]
	if r.Status == Rejected && st == Decoded {
		return // one bad frame rejects the file
	}
	r.Status, r.Code, r.Reason, r.Err = st, code, reason, err
}

// Scan runs the header pass over files: it reads each file's header (never
// its pixel data), classifies it, groups image frames into series and
// chooses the series best suited to lung scoring. Zip archives among the
// files are opened and their entries scanned. A file that cannot be read is
// reported, never fatal; Scan fails only when ctx is cancelled.
func Scan(ctx context.Context, files []File, opt Options) (*Inventory, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		pmu  sync.Mutex
		prog = Progress{Phase: PhaseScan, FilesTotal: len(files)}
	)
	for _, f := range files {
		prog.BytesTotal += f.Size
	}
	report := func(delta func(*Progress)) {
		pmu.Lock()
		defer pmu.Unlock()
		delta(&prog)
		if opt.Progress != nil {
			opt.Progress(prog)
		}
	}

	var results []fileResult
	inputs := make(map[string]File, len(files))
	queue := files
	for len(queue) > 0 {
		for _, f := range queue {
			inputs[f.Path] = f
		}
		res := make([]fileResult, len(queue))
		err := parallel.For(ctx, len(queue), workers, func(_, i int) error {
			res[i] = classify(queue[i])
			f := queue[i]
			report(func(p *Progress) { p.FilesDone++; p.BytesDone += f.Size })
			return nil
		})
		if err != nil {
			return nil, err
		}
		queue = nil
		for _, r := range res {
			if len(r.children) > 0 {
				queue = append(queue, r.children...)
				report(func(p *Progress) {
					p.FilesTotal += len(r.children)
					for _, c := range r.children {
						p.BytesTotal += c.Size
					}
				})
			}
		}
		results = append(results, res...)
	}

	inv := inventory(results, workers)
	inv.inputs = inputs
	return inv, nil
}

// inventory groups the frames of the files read into series and chooses
// one.
func inventory(results []fileResult, workers int) *Inventory {
	inv := &Inventory{byPath: map[string]int{}, byUID: map[string]*Series{}, workers: workers}
	var refs []frameRef
	for _, r := range results {
		inv.BytesRead += r.bytes
		if r.hdr == nil {
			continue
		}
		reason := r.report.Reason
		for _, fh := range r.hdr.frames {
			refs = append(refs, frameRef{fh: fh, hdr: r.hdr, usable: r.usable, reason: reason, path: r.report.Path})
		}
	}
	inv.Series = buildSeries(refs)
	frameSeries := map[*imageFile]string{}
	for _, s := range inv.Series {
		inv.byUID[s.UID] = s
		s.Rank = -1
		for _, f := range s.slices {
			frameSeries[f.img] = s.UID
		}
		for _, f := range s.dups {
			frameSeries[f.img] = s.UID
		}
	}
	for _, r := range results {
		rep := r.report
		if r.hdr != nil && len(r.hdr.frames) > 0 {
			rep.Series = frameSeries[r.hdr.frames[0].img]
		}
		inv.Files = append(inv.Files, rep)
	}
	sort.SliceStable(inv.Files, func(i, j int) bool { return inv.Files[i].Path < inv.Files[j].Path })
	for i, f := range inv.Files {
		inv.byPath[f.Path] = i
	}
	best, why := chooseSeries(inv.Series)
	if best != nil {
		inv.Chosen = best.UID
	}
	inv.ChosenWhy = why
	sort.SliceStable(inv.Series, func(i, j int) bool {
		a, b := inv.Series[i], inv.Series[j]
		if (a.Rank >= 0) != (b.Rank >= 0) {
			return a.Rank >= 0
		}
		if a.Rank != b.Rank {
			return a.Rank < b.Rank
		}
		return a.UID < b.UID
	})
	if len(inv.Series) == 0 {
		inv.Warnings = append(inv.Warnings, "no image series found")
	}
	return inv
}

// nameOfSyntax names a transfer syntax UID.
func nameOfSyntax(uid string) string { return codec.SyntaxName(uid) }

// Scanner runs the header pass over files handed to it one at a time as
// they become available, such as the parts of a series arriving from a
// PACS: Add reads and classifies a file at once (zip archives included),
// so that the headers are read while the rest still arrives, and
// Inventory then groups the frames into series and chooses one exactly as
// Scan does for the same files. A Scanner is safe for concurrent use.
type Scanner struct {
	mu      sync.Mutex
	results []fileResult
	workers int
}

// NewScanner returns an empty Scanner; opt.Workers is used by the
// Inventory's loading, as Scan's (opt.Progress is not used).
func NewScanner(opt Options) *Scanner {
	w := opt.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return &Scanner{workers: w}
}

// Add reads the header of f (and of the entries of a zip archive).
func (s *Scanner) Add(f File) {
	queue := []File{f}
	for len(queue) > 0 {
		r := classify(queue[0])
		queue = append(queue[1:], r.children...)
		s.mu.Lock()
		s.results = append(s.results, r)
		s.mu.Unlock()
	}
}

// Inventory returns the inventory of the files added so far.
func (s *Scanner) Inventory() *Inventory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return inventory(append([]fileResult(nil), s.results...), s.workers)
}
