package ingest

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/shareddata"
	"sscscore/model/volume"
)

// loadPaths scans paths and loads the chosen series.
func loadPaths(t testing.TB, paths ...string) (*volume.Volume, *Inventory, *LoadReport) {
	t.Helper()
	files, err := DiskFiles(paths...)
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	v, inv, rep, err := LoadFiles(context.Background(), files, Options{})
	if err != nil {
		if inv != nil {
			for _, f := range inv.Files {
				t.Logf("%s: %s %s %s", f.Path, f.Status, f.Code, f.Reason)
			}
		}
		t.Fatalf("%v: got error %v, want nil", paths, err)
	}
	return v, inv, rep
}

// compareVoxels fails unless a and b have the same length and differ by at
// most tol everywhere; it returns the largest difference.
func compareVoxels(t testing.TB, name string, got, want []int16, tol int) int {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d voxels, want %d", name, len(got), len(want))
		return -1
	}
	maxd, first := 0, -1
	for i := range got {
		d := int(got[i]) - int(want[i])
		if d < 0 {
			d = -d
		}
		if d > tol && first < 0 {
			first = i
		}
		maxd = max(maxd, d)
	}
	if first >= 0 {
		t.Errorf("%s: voxel %d is %d, want %d (max difference %d, tolerance %d)", name, first, got[first], want[first], maxd, tol)
	}
	return maxd
}

func TestA0002Reference(t *testing.T) {
	td := shareddata.Root(t)
	v, inv, rep := loadPaths(t, filepath.Join(td, "chest-ct", "A0002-B40f"))
	if len(inv.Series) != 1 {
		t.Fatalf("%d series, want 1", len(inv.Series))
	}
	s := inv.Series[0]
	g := v.Geom
	if g.Nz != 30 || g.Ny != 512 || g.Nx != 512 || s.Slices != 30 {
		t.Fatalf("dims %dx%dx%d, want 30x512x512", g.Nz, g.Ny, g.Nx)
	}
	want := [3]float64{0.646484375, 0.646484375, 8}
	for i := range want {
		if math.Abs(g.Spacing[i]-want[i]) > 1e-6 {
			t.Errorf("spacing %v, want %v", g.Spacing, want)
		}
	}
	if g.SliceZ[0] != 312 || g.SliceZ[29] != 80 || s.ZFirst != 312 || s.ZLast != 80 {
		t.Errorf("z from %v to %v, want 312 to 80", g.SliceZ[0], g.SliceZ[29])
	}
	if !s.Axial || inv.Chosen != s.UID || rep.Gaps != 0 || rep.Duplicates != 0 || rep.Uneven {
		t.Errorf("got axial %v chosen %q gaps %d dups %d uneven %v; want axial, chosen %q, no gaps, duplicates or unevenness", s.Axial, inv.Chosen, rep.Gaps, rep.Duplicates, rep.Uneven, s.UID)
	}
	if g.Direction != [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}} {
		t.Errorf("direction: got %v, want [[1 0 0] [0 1 0] [0 0 -1]]", g.Direction)
	}
	for _, f := range inv.Files {
		if f.Status != Decoded {
			t.Errorf("%s: %s %s, want %v", f.Path, f.Status, f.Reason, Decoded)
		}
	}
	// Unsigned storage with intercept -1024: nothing below air, some air.
	mn, mx := int16(math.MaxInt16), int16(math.MinInt16)
	for _, x := range v.Voxels() {
		mn, mx = min(mn, x), max(mx, x)
	}
	if mn != volume.Air || mx < 1000 {
		t.Errorf("HU range: got [%d, %d], want [%d, >= 1000]", mn, mx, volume.Air)
	}
}

// TestA0002Transcodes: every lossless transcode of A0002-B40f gives the
// reference voxels; JPEG 2000 gives them once a decoder is registered and is
// rejected, naming the syntax, until then.
func TestA0002Transcodes(t *testing.T) {
	td := shareddata.Root(t)
	ref, _, _ := loadPaths(t, filepath.Join(td, "chest-ct", "A0002-B40f"))
	for _, c := range []struct{ dir, ts string }{
		{"A0002-B40f-deflated", "1.2.840.10008.1.2.1.99"},
		{"A0002-B40f-rle", codec.RLELossless},
		{"A0002-B40f-jpeg-lossless", codec.JPEGLosslessSV1},
		{"A0002-B40f-jpegls", codec.JPEGLSLossless},
		{"A0002-B40f-j2k", codec.JPEG2000Lossless},
	} {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(td, "chest-ct", c.dir)
			if _, native := map[string]bool{"1.2.840.10008.1.2.1.99": true}[c.ts]; !native {
				if _, ok := codec.Lookup(c.ts); !ok {
					files, err := DiskFiles(dir)
					if err != nil {
						t.Fatalf("DiskFiles: got error %v, want nil", err)
					}
					_, inv, _, err := LoadFiles(context.Background(), files, Options{})
					if err == nil {
						t.Fatalf("loaded a series without a decoder: got nil error, want an error")
					}
					want := codec.SyntaxName(c.ts) + " (" + c.ts + ") compressed pixel data cannot be decoded by this version"
					for _, f := range inv.Files {
						if f.Status != Rejected || f.Code != CodeUnsupportedSyntax || f.Reason != want {
							t.Errorf("%s: %s %s %q, want rejected %q", f.Path, f.Status, f.Code, f.Reason, want)
						}
					}
					if len(inv.Series) != 1 || inv.Series[0].Usable || inv.Series[0].Reason != want {
						t.Errorf("series: got %+v, want one, unusable because %q", inv.Series, want)
					}
					return
				}
			}
			v, _, _ := loadPaths(t, dir)
			if v.Geom.Nz != ref.Geom.Nz || v.Geom.Spacing != ref.Geom.Spacing || v.Geom.Origin != ref.Geom.Origin {
				t.Errorf("geometry %+v, want %+v", v.Geom, ref.Geom)
			}
			compareVoxels(t, c.dir, v.Voxels(), ref.Voxels(), 0)
		})
	}
}

func TestChoiceMixedKernels(t *testing.T) {
	td := shareddata.Root(t)
	b40, b70 := filepath.Join(td, "chest-ct", "A0002-B40f"), filepath.Join(td, "chest-ct", "A0002-B70f")
	var first string
	for _, order := range [][]string{{b40, b70}, {b70, b40}} {
		files, err := DiskFiles(order...)
		if err != nil {
			t.Fatalf("DiskFiles: got error %v, want nil", err)
		}
		inv, err := Scan(context.Background(), files, Options{Workers: 1})
		if err != nil {
			t.Fatalf("Scan: got error %v, want nil", err)
		}
		if len(inv.Series) != 2 {
			t.Fatalf("%d series, want 2", len(inv.Series))
		}
		s, err := inv.Lookup("")
		if err != nil {
			t.Fatalf("inv.Lookup: got error %v, want nil", err)
		}
		if s.Kernel != "B70f" {
			t.Errorf("chose kernel %q, want the sharp B70f", s.Kernel)
		}
		if !strings.Contains(inv.ChosenWhy, "kernel B70f is sharp") {
			t.Errorf("ChosenWhy: got %q, want it to name the kernel (\"kernel B70f is sharp\")", inv.ChosenWhy)
		}
		if first == "" {
			first = inv.Chosen
		} else if inv.Chosen != first {
			t.Errorf("chosen in another file order: got %s, want %s (the same)", inv.Chosen, first)
		}
		if inv.Series[0].UID != inv.Chosen || inv.Series[0].Rank != 0 || inv.Series[1].Rank != 1 {
			t.Errorf("series: got ranks %d, %d with %s first, want 0, 1 with the chosen %s first", inv.Series[0].Rank, inv.Series[1].Rank, inv.Series[0].UID, inv.Chosen)
		}
		// The caller may load the other series.
		other := inv.Series[1].UID
		v, _, err := inv.Load(context.Background(), other, nil)
		if err != nil || v.Geom.Nz != 30 {
			t.Errorf("loading the other series: got %v, want nil and 30 slices", err)
		}
	}
}

// TestCorpusEquivalences checks the '== X' rows of robustness/CORPUS.md
// and the near-lossless tolerances.
func TestCorpusEquivalences(t *testing.T) {
	td := shareddata.Root(t)
	r := func(p string) string { return filepath.Join(td, "robustness", p) }
	j2k := func() bool { _, ok := codec.Lookup(codec.JPEG2000Lossless); return ok }()
	type eq struct {
		file, ref string
		tol       int
		needsJ2K  bool
	}
	cases := []eq{
		{"nema-wg04-ct/CT1_RLE.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT1_JPLL.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT1_JLSL.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT1_JLSN.dcm", "nema-wg04-ct/CT1_UNC.dcm", 4, false},
		{"nema-wg04-ct/CT1_J2KR.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, true},
		{"nema-wg04-ct/CT2_RLE.dcm", "nema-wg04-ct/CT2_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT2_JPLL.dcm", "nema-wg04-ct/CT2_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT2_JLSL.dcm", "nema-wg04-ct/CT2_UNC.dcm", 0, false},
		{"nema-wg04-ct/CT2_JLSN.dcm", "nema-wg04-ct/CT2_UNC.dcm", 4, false},
		{"nema-wg04-ct/CT2_J2KR.dcm", "nema-wg04-ct/CT2_UNC.dcm", 0, true},
		{"dicomparser-ct/single-frame/CT1_UNC.implicit_little_endian.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"dicomparser-ct/single-frame/CT1_UNC.explicit_big_endian.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"dicomparser-ct/single-frame/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"dicomparser-ct/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"dicomparser-ct/single-frame/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"dicomparser-ct/single-frame/CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"fo-dicom-edge/D_CLUNIE_CT1_RLE_FRAGS.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		// Malformed headers (undefined-length elements) that this reader
		// still walks; the pixels are CT1's.
		{"fo-dicom-edge/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"fo-dicom-edge/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_ELE_undefinded_length.dcm", "nema-wg04-ct/CT1_UNC.dcm", 0, false},
		{"pydicom-edge/no_meta.dcm", "pydicom-edge/CT_small.dcm", 0, false},
		{"pydicom-edge/693_J2KR.dcm", "pydicom-edge/693_UNCR.dcm", 0, true},
		{"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.57.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.70.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.80.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_jpeg_ls.80.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_rle.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		{"dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_rle.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 0, false},
		// Near-lossless JPEG-LS: within the encoder's NEAR bound.
		{"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm", "dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm", 3, false},
	}
	refs := map[string]*volume.Volume{}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			if c.needsJ2K && !j2k {
				files, err := DiskFiles(r(c.file))
				if err != nil {
					t.Fatalf("DiskFiles: got error %v, want nil", err)
				}
				inv, err := Scan(context.Background(), files, Options{})
				if err != nil {
					t.Fatalf("Scan: got error %v, want nil", err)
				}
				if f := inv.Files[0]; f.Status != Rejected || f.Code != CodeUnsupportedSyntax || !strings.Contains(f.Reason, "JPEG 2000") {
					t.Errorf("without a JPEG 2000 decoder: got %s %s %q, want rejected, %s, naming JPEG 2000", f.Status, f.Code, f.Reason, CodeUnsupportedSyntax)
				}
				return
			}
			ref := refs[c.ref]
			if ref == nil {
				ref, _, _ = loadPaths(t, r(c.ref))
				refs[c.ref] = ref
			}
			v, _, _ := loadPaths(t, r(c.file))
			if v.Geom.Nz != ref.Geom.Nz || v.Geom.SliceZ[0] != ref.Geom.SliceZ[0] {
				t.Errorf("geometry %+v, want %+v", v.Geom, ref.Geom)
			}
			d := compareVoxels(t, c.file, v.Voxels(), ref.Voxels(), c.tol)
			if c.tol > 0 {
				t.Logf("max difference %d (tolerance %d)", d, c.tol)
			}
		})
	}
}

// TestEnhancedCT: the 2-frame Enhanced CT object becomes a 2-slice volume,
// head first, mirrored to the standard layout (its rows run towards the
// patient's right), with the rescale from the functional groups.
func TestEnhancedCT(t *testing.T) {
	td := shareddata.Root(t)
	path := filepath.Join(td, "robustness", "dicomparser-ct", "multi-frame", "CT0012.explicit_little_endian.dcm")
	v, inv, _ := loadPaths(t, path)
	g := v.Geom
	if g.Nz != 2 || g.SliceZ[0] != -149 || g.SliceZ[1] != -159 || g.Spacing[2] != 10 {
		t.Errorf("slices at %v spacing %v, want [-149 -159], 10 mm", g.SliceZ, g.Spacing)
	}
	if g.Direction[0] != [3]float64{1, 0, 0} || g.Direction[2] != [3]float64{0, 0, -1} {
		t.Errorf("direction: got %v, want x [1 0 0], z [0 0 -1]", g.Direction)
	}
	// Origin: the IPP of the z=-149 frame moved to the last column.
	wantX := 99.5 - 511*0.388672
	if math.Abs(g.Origin[0]-wantX) > 1e-6 || g.Origin[1] != -301.5 || g.Origin[2] != -149 {
		t.Errorf("origin %v, want [%v -301.5 -149]", g.Origin, wantX)
	}
	// Raw frame 1 (z=-149) column c is voxel column 511-c of slice 0.
	s, _ := inv.Lookup("")
	f := s.slices[0]
	if f.frame != 1 {
		t.Fatalf("slice 0 is frame %d, want frame 1 (z=-149)", f.frame)
	}
	raw := make([]int16, 512*512)
	if _, err := decodeFrame(f, raw, false, false, new(scratch)); err != nil {
		t.Fatalf("decodeFrame: got error %v, want nil", err)
	}
	sl := v.SliceView(0)
	for y := 0; y < 512; y += 7 {
		for x := 0; x < 512; x += 5 {
			if sl[y*512+x] != raw[y*512+511-x] {
				t.Fatalf("voxel (%d,%d) not mirrored, got %v, want %v", x, y, sl[y*512+x], raw[y*512+511-x])
			}
		}
	}
}

// TestPaddingToAir: GE stores -2000 outside the reconstruction circle with
// PixelPaddingValue -2000; it must become -1024, never -3024.
func TestPaddingToAir(t *testing.T) {
	td := shareddata.Root(t)
	for _, name := range []string{"A002304_axial_19010112-135.dcm", "A048383_axial_19010410-30.dcm", "A058062_axial_19001231-084.dcm"} {
		v, _, rep := loadPaths(t, filepath.Join(td, "slices", name))
		mn := int16(math.MaxInt16)
		for _, x := range v.Voxels() {
			mn = min(mn, x)
		}
		if mn != volume.Air || rep.PaddingVoxels == 0 {
			t.Errorf("%s: got min HU %d, %d padding voxels; want %d, some", name, mn, rep.PaddingVoxels, volume.Air)
		}
	}
}

// TestModalityLUT: mlut_18 maps stored values through a Modality LUT
// Sequence (descriptor 4096\-2048\16, data 0, 16, 32, ...).
func TestModalityLUT(t *testing.T) {
	td := shareddata.Root(t)
	files, err := DiskFiles(filepath.Join(td, "robustness", "pydicom-edge", "mlut_18.dcm"))
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	fl, err := scanFile(files[0].R, files[0].Size)
	if err != nil {
		t.Fatalf("scanFile: got error %v, want nil", err)
	}
	src, _ := parseHeader(fl)
	img := &imageFile{pixRep: 1}
	if _, code, reason := readFrames(src, img); code != CodeNoGeometry {
		t.Logf("readFrames: %s %s", code, reason)
	}
	if img.lut == nil {
		t.Fatal("Modality LUT: got none, want it read")
	}
	if img.lut.first != -2048 || len(img.lut.data) != 4096 || img.lut.data[0] != 0 || img.lut.data[1] != 16 || img.lut.data[4095] != 65535 {
		t.Fatalf("LUT: got first %d len %d data[0..1] %v, want -2048, 4096, [0 16], data[4095] 65535", img.lut.first, len(img.lut.data), img.lut.data[:2])
	}
	s := []int32{-3000, -2048, -2047, 0, 5000}
	dst := make([]int16, len(s))
	c := toHU(s, dst, img, &frameHeader{slope: 1})
	want := []int16{0, 0, 16, 32767, 32767} // 16*2048 = 32768 clips
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("LUT(%d) = %d, want %d", s[i], dst[i], want[i])
		}
	}
	if c.clipped != 2 {
		t.Errorf("%d clipped, want 2", c.clipped)
	}
}

// TestMinimalHeader: two slices without Modality and with IPP z 0 and 1
// load head first with a warning.
func TestMinimalHeader(t *testing.T) {
	td := shareddata.Root(t)
	dir := filepath.Join(td, "robustness", "lungmask-minimal-header")
	v, inv, _ := loadPaths(t, dir)
	if v.Geom.Nz != 2 || v.Geom.SliceZ[0] != 1 || v.Geom.SliceZ[1] != 0 || v.Geom.Spacing[2] != 1 {
		t.Errorf("got slices %v spacing %v, want [1 0], z spacing 1", v.Geom.SliceZ, v.Geom.Spacing)
	}
	s, _ := inv.Lookup("")
	if s.Modality != "" || !strings.HasSuffix(s.slices[0].img.file.Path, "1.dcm") {
		t.Errorf("got modality %q, first slice %s; want \"\", 1.dcm", s.Modality, s.slices[0].img.file.Path)
	}
	for _, f := range inv.Files {
		if strings.HasSuffix(f.Path, ".dcm") && !containsStr(f.Warnings, "Modality missing; assumed CT") {
			t.Errorf("%s: got warnings %v, want \"Modality missing; assumed CT\"", f.Path, f.Warnings)
		}
	}
}

func containsStr(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// TestNoSeriesUID: the TotalSegmentator example has an empty
// SeriesInstanceUID, 3 mm slices every 2 mm and a two-valued kernel; its
// files form one series whose z spacing comes from the positions.
func TestNoSeriesUID(t *testing.T) {
	td := shareddata.Root(t)
	files, err := DiskFiles(filepath.Join(td, "robustness", "totalsegmentator-ct", "example_ct_dicom_j2k"))
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	inv, err := Scan(context.Background(), files, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if len(inv.Series) != 1 {
		t.Fatalf("%d series, want 1", len(inv.Series))
	}
	s := inv.Series[0]
	if !s.UIDMissing || !strings.HasPrefix(s.UID, "nouid-") || s.Slices != 20 || s.Thickness != 3 ||
		math.Abs(s.Spacing[2]-2) > 1e-9 || s.Kernel != `Br38f\3` || s.Gaps != 0 || s.Duplicates != 0 {
		t.Errorf("series: got %+v, want no UID (nouid-), 20 slices of 3 mm 2 mm apart, kernel Br38f\\3, no gaps or duplicates", s)
	}
	if _, ok := codec.Lookup(codec.JPEG2000Lossless); ok != s.Usable {
		t.Errorf("usable: got %v (%s), want %v (a JPEG 2000 decoder registered)", s.Usable, s.Reason, ok)
	}
}

func TestSharpKernel(t *testing.T) {
	for k, want := range map[string]bool{
		"B70f": true, "B60f": true, "B80f": true, "Br64": true, "Bl57": true, "I70f": true, "Hr64": true,
		"LUNG": true, "BONEPLUS": true, "BONE": true, "YB": true, "L": true, "FC52": true, `Br38f\3`: false,
		"B40f": false, "B30s": false, "Hr36": false, "STANDARD": false, "SOFT": false, "C": false, "FC30": false, "": false,
	} {
		if got := sharpKernel(k); got != want {
			t.Errorf("sharpKernel(%q) = %v, want %v", k, got, want)
		}
	}
}
