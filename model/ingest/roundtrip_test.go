package ingest

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/dcmwrite"
	"sscscore/model/shareddata"
	"sscscore/model/volume"
)

func sourceVoxels(t testing.TB, src volume.Source) []int16 {
	t.Helper()
	v, err := volume.Load(context.Background(), src)
	if err != nil {
		t.Fatalf("volume.Load: got error %v, want nil", err)
	}
	return v.Voxels()
}

func sameGeometry(t testing.TB, got, want *volume.Geometry) {
	t.Helper()
	if got.Nz != want.Nz || got.Ny != want.Ny || got.Nx != want.Nx {
		t.Fatalf("dims %dx%dx%d, want %dx%dx%d", got.Nz, got.Ny, got.Nx, want.Nz, want.Ny, want.Nx)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-6 }
	for i := 0; i < 3; i++ {
		if !near(got.Spacing[i], want.Spacing[i]) || !near(got.Origin[i], want.Origin[i]) {
			t.Errorf("spacing %v origin %v, want %v %v", got.Spacing, got.Origin, want.Spacing, want.Origin)
		}
		for j := 0; j < 3; j++ {
			if !near(got.Direction[i][j], want.Direction[i][j]) {
				t.Errorf("direction %v, want %v", got.Direction, want.Direction)
			}
		}
	}
	for k := range want.SliceZ {
		if !near(got.SliceZ[k], want.SliceZ[k]) {
			t.Errorf("SliceZ %v, want %v", got.SliceZ, want.SliceZ)
			break
		}
	}
}

// TestDcmwriteRoundTrip: series written by dcmwrite load back voxel for
// voxel, in every storage it offers.
func TestDcmwriteRoundTrip(t *testing.T) {
	for _, c := range []struct {
		name string
		meta dcmwrite.SeriesMeta
	}{
		{"unsigned-explicit-12bit", dcmwrite.SeriesMeta{Intercept: -1024, BitsStored: 12, Kernel: "B70f"}},
		{"signed-explicit", dcmwrite.SeriesMeta{Signed: true}},
		{"signed-implicit", dcmwrite.SeriesMeta{Signed: true, ImplicitVR: true}},
		{"unsigned-implicit", dcmwrite.SeriesMeta{Intercept: -1024, ImplicitVR: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeSynth(t, dir, 7, 40, 56, c.meta)
			v, inv, rep := loadPaths(t, dir)
			sameGeometry(t, &v.Geom, src.Geometry())
			compareVoxels(t, c.name, v.Voxels(), sourceVoxels(t, src), 0)
			s, _ := inv.Lookup("")
			if s.Kernel != c.meta.Kernel || s.Modality != "CT" || s.Slices != 7 || rep.BelowAirVoxels != 0 {
				t.Errorf("got series %+v, report %+v; want kernel %s, CT, 7 slices, no voxels below air", s, rep, c.meta.Kernel)
			}
		})
	}
}

// TestLazyVolume: a lazy volume gives the same slices as Load, also under
// concurrent calls, and reports its counts.
func TestLazyVolume(t *testing.T) {
	dir := t.TempDir()
	src := writeSynth(t, dir, 9, 32, 48, dcmwrite.SeriesMeta{Signed: true})
	files, err := DiskFiles(dir)
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	inv, err := Scan(context.Background(), files, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	lv, err := inv.Open("")
	if err != nil {
		t.Fatalf("inv.Open: got error %v, want nil", err)
	}
	want := sourceVoxels(t, src)
	n := 32 * 48
	var wg sync.WaitGroup
	errs := make(chan error, 4*9)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]int16, n)
			for k := 0; k < 9; k++ {
				if err := lv.Slice(context.Background(), k, dst); err != nil {
					errs <- err
					return
				}
				for i := range dst {
					if dst[i] != want[k*n+i] {
						errs <- fmt.Errorf("slice %d voxel %d: %d, want %d", k, i, dst[i], want[k*n+i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Slice: got %v, want every voxel of the source", err)
	}
	if err := lv.Slice(context.Background(), 9, make([]int16, n)); err == nil {
		t.Error("slice out of range: want an error")
	}
	if r := lv.Report(); r.Slices != 9 || len(r.Errors) != 0 {
		t.Errorf("report: got %+v, want 9 slices, no errors", r)
	}
	var _ volume.Source = lv
}

// TestStackIssues: a missing slice is a gap, a copied file a duplicate, and
// uneven positions are reported; the volume still loads.
func TestStackIssues(t *testing.T) {
	dir := t.TempDir()
	writeSynth(t, dir, 10, 16, 16, dcmwrite.SeriesMeta{Signed: true})
	if err := os.Remove(filepath.Join(dir, "CT00005.dcm")); err != nil {
		t.Fatalf("os.Remove: got error %v, want nil", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "CT00003.dcm"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "copy-of-3.dcm"), b, 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	v, inv, rep := loadPaths(t, dir)
	if v.Geom.Nz != 9 || rep.Gaps != 1 || rep.Duplicates != 1 {
		t.Errorf("got %d slices, %d gaps, %d duplicates (issues %v); want 9, 1, 1", v.Geom.Nz, rep.Gaps, rep.Duplicates, rep.Issues)
	}
	if math.Abs(v.Geom.Spacing[2]-1.25*9/8) > 1e-9 {
		t.Errorf("z spacing %v, want the mean step %v", v.Geom.Spacing[2], 1.25*9/8)
	}
	if r, _ := inv.Report(filepath.Join(dir, "copy-of-3.dcm")); r.Status != Skipped || r.Code != CodeDuplicate {
		t.Errorf("duplicate file: got %+v, want skipped, %s", r, CodeDuplicate)
	}
	joined := strings.Join(rep.Issues, "; ")
	if !strings.Contains(joined, "gap of 2.5 mm") || !strings.Contains(joined, "duplicate") {
		t.Errorf("issues: got %q, want a gap of 2.5 mm and a duplicate", joined)
	}

	// Uneven spacing.
	dir2 := t.TempDir()
	src := newSynth(5, 8, 8, 1)
	src.g.SliceZ = []float64{10, 9, 8, 6.9, 6}
	if _, err := dcmwrite.WriteSeries(context.Background(), dir2, src, dcmwrite.SeriesMeta{Signed: true}, nil); err != nil {
		t.Fatalf("dcmwrite.WriteSeries: got error %v, want nil", err)
	}
	v, _, rep = loadPaths(t, dir2)
	if !rep.Uneven || rep.Gaps != 0 || v.Geom.SliceZ[3] != 6.9 {
		t.Errorf("got uneven %v gaps %d z %v (issues %v), want uneven, no gaps, z[3] 6.9", rep.Uneven, rep.Gaps, v.Geom.SliceZ, rep.Issues)
	}
}

// flakyFile fails every read past the header, like a file removed or a
// disk error after the scan.
type flakyFile struct {
	r     io.ReaderAt
	limit int64
}

func (f flakyFile) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.limit && off > 0 {
		return 0, errNotReady
	}
	return f.r.ReadAt(p, off)
}

// errNotReady is flakyFile's read error.
var errNotReady = errors.New("device not ready")

// TestBrokenFilesInFolder: a folder loads what it can. A truncated file is
// rejected by the scan, one that fails to read in pass 2 by Load; both leave
// gaps, and garbage is skipped.
func TestBrokenFilesInFolder(t *testing.T) {
	dir := t.TempDir()
	writeSynth(t, dir, 8, 24, 24, dcmwrite.SeriesMeta{Intercept: -1024})
	trunc := filepath.Join(dir, "CT00003.dcm")
	b, _ := os.ReadFile(trunc)
	if err := os.WriteFile(trunc, b[:len(b)-100], 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("DICM? no."), 0o644); err != nil {
		t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	files, err := DiskFiles(dir)
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	for i, f := range files {
		if strings.HasSuffix(f.Path, "CT00006.dcm") {
			files[i].R = flakyFile{f.R, 2000}
		}
	}
	v, inv, rep, err := LoadFiles(context.Background(), files, Options{})
	if err != nil {
		t.Fatalf("LoadFiles: got error %v, want nil", err)
	}
	if v.Geom.Nz != 6 || len(rep.Errors) != 1 || !errors.Is(rep.Errors[0], errNotReady) ||
		!strings.HasSuffix(rep.Errors[0].Path, "CT00006.dcm") {
		t.Errorf("got %d slices, errors %v; want 6, one errNotReady for CT00006.dcm", v.Geom.Nz, rep.Errors)
	}
	want := map[string][2]string{
		"CT00003.dcm": {string(Rejected), string(CodeTruncated)},
		"CT00006.dcm": {string(Rejected), string(CodeDecodeError)},
		"notes.txt":   {string(Skipped), string(CodeNotDICOM)},
		"CT00001.dcm": {string(Decoded), ""},
	}
	for name, w := range want {
		r, ok := inv.Report(filepath.Join(dir, name))
		if !ok || string(r.Status) != w[0] || string(r.Code) != w[1] {
			t.Errorf("%s: %+v, want %v", name, r, w)
		}
		if r.Status == Rejected && r.Reason == "" {
			t.Errorf("%s: got rejected without a reason, want one", name)
		}
	}
}

// TestRawDataSet: a data set without preamble and file meta is found by
// content, in implicit and explicit VR.
func TestRawDataSet(t *testing.T) {
	for _, implicit := range []bool{true, false} {
		src := newSynth(1, 20, 30, 2)
		var buf bytes.Buffer
		if err := dcmwrite.WriteSlice(&buf, src, 0, dcmwrite.SeriesMeta{Signed: true, ImplicitVR: implicit}); err != nil {
			t.Fatalf("dcmwrite.WriteSlice: got error %v, want nil", err)
		}
		b := buf.Bytes()
		fl, err := scanFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("scanFile: got error %v, want nil", err)
		}
		// Drop preamble and meta; the data set is encoded as the meta
		// said, which the reader must now guess.
		raw := b[fl.dsStart:]
		v, _, _, err := LoadFiles(context.Background(), []File{BytesFile("raw.dcm", raw)}, Options{})
		if err != nil {
			t.Fatalf("implicit=%v: got error %v, want nil", implicit, err)
		}
		compareVoxels(t, "raw", v.Voxels(), sourceVoxels(t, src), 0)
	}
}

// TestZip: a zip with nested folders, stored and deflated entries and a zip
// inside gives the same series as the files on disk.
func TestZip(t *testing.T) {
	dir := t.TempDir()
	src := writeSynth(t, dir, 6, 16, 20, dcmwrite.SeriesMeta{Intercept: -1024})
	files, _ := DiskFiles(dir)
	inner := new(bytes.Buffer)
	zi := zip.NewWriter(inner)
	outer := new(bytes.Buffer)
	zo := zip.NewWriter(outer)
	for i, f := range files {
		b, _ := os.ReadFile(f.Path)
		w := zo
		name := fmt.Sprintf("study/series %d/%s", i%2, filepath.Base(f.Path))
		if i >= 4 {
			w, name = zi, "deeper/"+filepath.Base(f.Path)
		}
		method := zip.Deflate
		if i%2 == 0 {
			method = zip.Store
		}
		fw, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatalf("w.CreateHeader: got error %v, want nil", err)
		}
		fw.Write(b)
	}
	fw, _ := zo.Create("study/readme.txt")
	fw.Write([]byte("not DICOM"))
	zi.Close()
	fw, _ = zo.Create("inner.zip")
	fw.Write(inner.Bytes())
	zo.Close()

	v, inv, _, err := LoadFiles(context.Background(), []File{BytesFile("upload.zip", outer.Bytes())}, Options{})
	if err != nil {
		t.Fatalf("LoadFiles: got error %v, want nil", err)
	}
	compareVoxels(t, "zip", v.Voxels(), sourceVoxels(t, src), 0)
	var decoded, archives int
	for _, f := range inv.Files {
		switch {
		case f.Status == Decoded:
			decoded++
		case f.Code == CodeArchive:
			archives++
		}
	}
	if decoded != 6 || archives != 2 || len(inv.Files) != 9 {
		for _, f := range inv.Files {
			t.Logf("%s %s %s %s", f.Path, f.Status, f.Code, f.Reason)
		}
		t.Errorf("got %d decoded, %d archives, %d reports; want 6, 2, 9", decoded, archives, len(inv.Files))
	}
	if _, ok := inv.Report("upload.zip!/inner.zip!/deeper/CT00005.dcm"); !ok {
		t.Error("Report(upload.zip!/inner.zip!/deeper/CT00005.dcm): got none, want the nested entry")
	}
}

func TestProgressAndCancel(t *testing.T) {
	dir := t.TempDir()
	writeSynth(t, dir, 12, 16, 16, dcmwrite.SeriesMeta{Signed: true})
	files, _ := DiskFiles(dir)
	var last Progress
	calls := 0
	inv, err := Scan(context.Background(), files, Options{Progress: func(p Progress) {
		calls++
		if p.FilesDone < last.FilesDone || p.BytesDone < last.BytesDone {
			t.Errorf("progress: got %+v after %+v, want it never to go back", p, last)
		}
		last = p
	}})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if calls != 12 || last.FilesDone != 12 || last.FilesTotal != 12 || last.BytesDone != last.BytesTotal || last.Phase != PhaseScan {
		t.Errorf("progress: got %d calls, last %+v; want 12, the last 12 of 12 files, all bytes, phase scan", calls, last)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_, _, err = inv.Load(ctx, "", func(p Progress) {
		if p.FilesDone == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Load after cancel: got %v, want context.Canceled", err)
	}
	if _, err := Scan(ctx, files, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context: got %v, want context.Canceled", err)
	}
	lv, _ := inv.Open("")
	if err := lv.Slice(ctx, 0, make([]int16, 256)); !errors.Is(err, context.Canceled) {
		t.Errorf("Slice with a cancelled context: got %v, want context.Canceled", err)
	}
}

// TestPanicRecovered: garbage that makes the DICOM library panic (a
// SpecificCharacterSet of VR UN) is read by the fallback reader.
func TestPanicRecovered(t *testing.T) {
	td := shareddata.Root(t)
	files, err := DiskFiles(filepath.Join(td, "robustness", "pydicom-edge", "explicit_VR-UN.dcm"))
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	fl, err := scanFile(files[0].R, files[0].Size)
	if err != nil {
		t.Fatalf("scanFile: got error %v, want nil", err)
	}
	if _, err := libraryParse(fl); err == nil || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("library: %v, want a recovered panic", err)
	}
	src, warn := parseHeader(fl)
	if !strings.Contains(warn, "panic") {
		t.Errorf("warning: got %q, want it to mention the panic", warn)
	}
	if got := str(src, tag.Modality); got != "CT" {
		t.Errorf("fallback read modality %q, want CT", got)
	}
	if got, ok := intAttr(src, tag.Rows); !ok || got != 512 {
		t.Errorf("fallback read Rows %d, want 512", got)
	}
	if ipp, ok := floats(src, tag.ImagePositionPatient); !ok || len(ipp) != 3 {
		t.Errorf("fallback read: got IPP %v, want 3 values", ipp)
	}
}
