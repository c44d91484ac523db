package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"sscscore/model/parallel"
	"sscscore/model/volume"
)

// LoadReport says what decoding a series found.
type LoadReport struct {
	SeriesUID string
	// Slices is the number of slices in the volume.
	Slices int
	// Issues are the series' stack issues (gaps, duplicates, uneven
	// spacing, tilt) and slices removed because they failed to decode.
	Issues []string
	// Gaps, Duplicates and Uneven repeat the series' counts.
	Gaps, Duplicates int
	Uneven           bool
	// PaddingVoxels were PixelPaddingValue (or inside the padding range)
	// and set to air; BelowAirVoxels were below -1024 HU (outside the
	// reconstruction field) and set to air; ClippedVoxels were above 32767
	// HU and clipped.
	PaddingVoxels, BelowAirVoxels, ClippedVoxels int64
	// Errors lists the slices that failed to decode.
	Errors []FileError
}

// FileError is a decoding failure of one frame of one file. It wraps the
// decoder's error: errors.As finds a codec's typed error (such as
// jpegls.FormatError) through it.
type FileError struct {
	Path  string
	Frame int // 0-based frame within the file
	Err   error
}

// Error names the file (and the frame of a multi-frame file) and the reason.
func (e FileError) Error() string {
	if e.Frame > 0 {
		return fmt.Sprintf("%s (frame %d): %v", e.Path, e.Frame+1, e.Err)
	}
	return e.Path + ": " + e.Err.Error()
}

// Unwrap returns the decoder's error.
func (e FileError) Unwrap() error { return e.Err }

func newReport(s *Series) *LoadReport {
	return &LoadReport{
		SeriesUID: s.UID, Slices: s.Slices,
		Issues: append([]string(nil), s.Issues...),
		Gaps:   s.Gaps, Duplicates: s.Duplicates, Uneven: s.Uneven,
	}
}

func (r *LoadReport) addCounts(c huCounts) {
	r.PaddingVoxels += c.padding
	r.BelowAirVoxels += c.belowAir
	r.ClippedVoxels += c.clipped
}

// LazyVolume is a series opened without decoding it: it keeps, for each
// slice, the file reference and where its pixel data lies, and decodes a
// slice when asked. It implements volume.Source and is safe for
// concurrent Slice calls.
type LazyVolume struct {
	s      *Series
	mu     sync.Mutex
	counts []huCounts // per slice, from its last decode
	done   []bool
	errs   map[int]FileError
}

// Open returns a lazy volume of the series uid ("" for the chosen series).
// Nothing is read until Slice is called.
func (inv *Inventory) Open(uid string) (*LazyVolume, error) {
	s, err := inv.Lookup(uid)
	if err != nil {
		return nil, err
	}
	if !s.Usable {
		return nil, fmt.Errorf("ingest: series %s cannot be decoded: %s", s.UID, s.Reason)
	}
	return &LazyVolume{s: s, counts: make([]huCounts, s.Slices), done: make([]bool, s.Slices), errs: map[int]FileError{}}, nil
}

// Series returns the series the volume reads.
func (lv *LazyVolume) Series() *Series { return lv.s }

// Geometry implements volume.Source.
func (lv *LazyVolume) Geometry() *volume.Geometry { return &lv.s.geom }

// Slice implements volume.Source: it reads and decodes slice k into dst.
func (lv *LazyVolume) Slice(ctx context.Context, k int, dst []int16) error {
	if k < 0 || k >= lv.s.Slices {
		return fmt.Errorf("ingest: slice %d out of range [0,%d)", k, lv.s.Slices)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f := lv.s.slices[k]
	sc := scratchPool.Get().(*scratch)
	c, err := decodeFrame(f, dst, lv.s.flipX, lv.s.flipY, sc)
	scratchPool.Put(sc)
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if err != nil {
		fe := FileError{Path: f.img.file.Path, Frame: f.frame, Err: err}
		lv.errs[k] = fe
		return fmt.Errorf("ingest: %w", fe)
	}
	delete(lv.errs, k)
	lv.counts[k], lv.done[k] = c, true
	return nil
}

// Report returns the series' stack issues and the counts of the slices
// decoded so far.
func (lv *LazyVolume) Report() *LoadReport {
	r := newReport(lv.s)
	lv.mu.Lock()
	defer lv.mu.Unlock()
	for k, c := range lv.counts {
		if lv.done[k] {
			r.addCounts(c)
		}
	}
	for k := 0; k < lv.s.Slices; k++ {
		if e, ok := lv.errs[k]; ok {
			r.Errors = append(r.Errors, e)
		}
	}
	return r
}

// Load decodes the series uid ("" for the chosen series) into one int16
// volume, holding no other copy of the voxels. Slices that fail to decode
// are removed (the report names them and the gap they leave); Load fails
// only when no slice decodes or ctx is cancelled. progress, if not nil,
// receives serialized updates (PhaseLoad, one file per slice).
func (inv *Inventory) Load(ctx context.Context, uid string, progress func(Progress)) (*volume.Volume, *LoadReport, error) {
	s, err := inv.Lookup(uid)
	if err != nil {
		return nil, nil, err
	}
	if !s.Usable {
		return nil, nil, fmt.Errorf("ingest: series %s cannot be decoded: %s", s.UID, s.Reason)
	}
	g := s.geom
	g.SliceZ = append([]float64(nil), g.SliceZ...)
	n := g.SliceLen()
	vox := make([]int16, g.Nz*n)
	rep := newReport(s)
	var (
		mu     sync.Mutex
		failed = map[int]FileError{}
		prog   = Progress{Phase: PhaseLoad, FilesTotal: g.Nz, BytesTotal: int64(len(vox)) * 2}
	)
	err = parallel.For(ctx, g.Nz, inv.workers, func(_, k int) error {
		f := s.slices[k]
		sc := scratchPool.Get().(*scratch)
		c, err := decodeFrame(f, vox[k*n:(k+1)*n], s.flipX, s.flipY, sc)
		scratchPool.Put(sc)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed[k] = FileError{Path: f.img.file.Path, Frame: f.frame, Err: err}
		} else {
			rep.addCounts(c)
		}
		prog.FilesDone++
		prog.BytesDone += int64(n) * 2
		if progress != nil {
			progress(prog)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	// Record file outcomes: a file is rejected if any of its frames failed.
	for k, f := range s.slices {
		if fe, bad := failed[k]; bad {
			inv.setStatus(f.img.file.Path, Rejected, CodeDecodeError, fe.Err.Error(), fe)
		} else {
			inv.setStatus(f.img.file.Path, Decoded, "", "", nil)
		}
	}
	for _, f := range s.dups {
		inv.mu.Lock()
		if i, ok := inv.byPath[f.img.file.Path]; ok && inv.Files[i].Status == Accepted {
			inv.Files[i].Status, inv.Files[i].Code = Skipped, CodeDuplicate
			inv.Files[i].Reason = "duplicate slice position: another file holds this slice"
		}
		inv.mu.Unlock()
	}
	if len(failed) == 0 {
		v, err := volume.FromVoxels(g, vox)
		return v, rep, err
	}
	if len(failed) == g.Nz {
		var first FileError
		for k := 0; k < g.Nz; k++ {
			if fe, ok := failed[k]; ok {
				first = fe
				break
			}
		}
		return nil, rep, fmt.Errorf("ingest: no slice of series %s could be decoded; first error: %w", s.UID, first)
	}
	// Remove failed slices, keeping the survivors in order.
	kept := 0
	var z []float64
	for k := 0; k < g.Nz; k++ {
		if fe, bad := failed[k]; bad {
			rep.Errors = append(rep.Errors, fe)
			rep.Issues = append(rep.Issues, fmt.Sprintf("slice at z=%.6g removed: %s", g.SliceZ[k], fe))
			continue
		}
		if kept != k {
			copy(vox[kept*n:(kept+1)*n], vox[k*n:(k+1)*n])
		}
		z = append(z, g.SliceZ[k])
		kept++
	}
	vox = vox[:kept*n]
	g.Nz, g.SliceZ = kept, z
	if kept > 1 {
		// The mean spacing along the normal, from the surviving positions.
		first, last := s.slices[0], s.slices[len(s.slices)-1]
		for k := range s.slices {
			if _, bad := failed[k]; !bad {
				first = s.slices[k]
				break
			}
		}
		for k := len(s.slices) - 1; k >= 0; k-- {
			if _, bad := failed[k]; !bad {
				last = s.slices[k]
				break
			}
		}
		g.Spacing[2] = (first.pos - last.pos) / float64(kept-1)
		g.Origin = s.geom.Origin
		for i := range g.Origin {
			g.Origin[i] += first.ipp[i] - s.slices[0].ipp[i]
		}
		rep.Gaps++
		rep.Uneven = true
	}
	rep.Slices = kept
	v, err := volume.FromVoxels(g, vox)
	return v, rep, err
}

// Verify decodes every frame of every usable series, one at a time without
// keeping the pixels, and records each file's outcome (Decoded or Rejected)
// in inv.Files. It answers "which files are readable" for a whole folder;
// Load and Open do not need it.
func (inv *Inventory) Verify(ctx context.Context, progress func(Progress)) error {
	var frames []*frameHeader
	flips := map[*frameHeader][2]bool{}
	for _, s := range inv.Series {
		if !s.Usable {
			continue
		}
		for _, f := range append(append([]*frameHeader(nil), s.slices...), s.dups...) {
			frames = append(frames, f)
			flips[f] = [2]bool{s.flipX, s.flipY}
		}
	}
	var (
		mu   sync.Mutex
		bad  = map[string]FileError{} // the first failure of each file
		why  = map[string]string{}    // and its reason in words
		seen = map[string]bool{}
		prog = Progress{Phase: PhaseVerify, FilesTotal: len(frames)}
	)
	err := parallel.For(ctx, len(frames), inv.workers, func(_, i int) error {
		f := frames[i]
		sc := scratchPool.Get().(*scratch)
		dst := make([]int16, f.img.rows*f.img.cols)
		fl := flips[f]
		_, err := decodeFrame(f, dst, fl[0], fl[1], sc)
		scratchPool.Put(sc)
		mu.Lock()
		defer mu.Unlock()
		p := f.img.file.Path
		seen[p] = true
		if err != nil {
			if _, already := bad[p]; !already {
				msg := err.Error()
				if f.img.frames > 1 {
					msg = fmt.Sprintf("frame %d: %s", f.frame+1, msg)
				}
				bad[p], why[p] = FileError{Path: p, Frame: f.frame, Err: err}, msg
			}
		}
		prog.FilesDone++
		if progress != nil {
			progress(prog)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for p := range seen {
		if fe, isBad := bad[p]; isBad {
			inv.setStatus(p, Rejected, CodeDecodeError, why[p], fe)
		} else {
			inv.setStatus(p, Decoded, "", "", nil)
		}
	}
	return nil
}

// ErrNoSeries is returned by LoadFiles when no usable series was found.
var ErrNoSeries = errors.New("ingest: no usable axial CT series")

// LoadFiles scans files and loads the chosen series: Scan followed by
// Inventory.Load.
func LoadFiles(ctx context.Context, files []File, opt Options) (*volume.Volume, *Inventory, *LoadReport, error) {
	inv, err := Scan(ctx, files, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	if inv.Chosen == "" {
		return nil, inv, nil, fmt.Errorf("%w (%s)", ErrNoSeries, inv.ChosenWhy)
	}
	v, rep, err := inv.Load(ctx, "", opt.Progress)
	return v, inv, rep, err
}
