package jpeg2000

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sscscore/model/codec"
	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/shareddata"
)

// Every JPEG 2000 file of the shared test data, with what its decoding must
// give:
//
//   - native: identical to the native pixels of a reference file;
//   - lossy: within the error CORPUS.md gives against a reference;
//   - golden: the SHA-256 of the decoded samples (all frames, int32
//     little-endian). For lossless files without a DICOM reference the
//     hashes come from independent decoders, computed outside this package:
//     GDCM 3.0.21 (gdcmconv --raw) or OpenJPEG 2.5.0 (opj_decompress), with
//     the sign rules of DICOMDecoder applied. For lossy files without a
//     reference they were recorded from this decoder after checking it
//     against GDCM: at most one grey level apart, mean difference <= 0.02.
//   - reject: an error whose text contains the given words.
type corpusCase struct {
	path   string // relative to the test data; a trailing * is a glob
	check  string
	ref    string // native/lossy reference (for a glob: folder of same-named files)
	maxErr int
	mean   [2]float64 // lossy: accepted range of the mean absolute error
	reject string
	frames int // expected frames (default 1)
}

var corpusCases = []corpusCase{
	{path: "chest-ct/A0002-B40f-j2k/*", check: "native", ref: "chest-ct/A0002-B40f"},
	{path: "robustness/nema-wg04-ct/CT1_J2KR.dcm", check: "native", ref: "robustness/nema-wg04-ct/CT1_UNC.dcm"},
	{path: "robustness/nema-wg04-ct/CT2_J2KR.dcm", check: "native", ref: "robustness/nema-wg04-ct/CT2_UNC.dcm"},
	// CORPUS.md: max diff 352, mean 26 (OpenJPEG/GDCM's numbers).
	{path: "robustness/nema-wg04-ct/CT1_J2KI.dcm", check: "lossy", ref: "robustness/nema-wg04-ct/CT1_UNC.dcm", maxErr: 352, mean: [2]float64{25.5, 26.5}},
	// GDCM gives the same decoded image to within one grey level.
	{path: "robustness/nema-wg04-ct/CT2_J2KI.dcm", check: "lossy", ref: "robustness/nema-wg04-ct/CT2_UNC.dcm", maxErr: 402, mean: [2]float64{17, 18}},
	// Header BitsStored 16, codestream 14-bit signed: the codestream wins.
	{path: "robustness/pydicom-edge/693_J2KR.dcm", check: "native", ref: "robustness/pydicom-edge/693_UNCR.dcm"},
	// PixelRepresentation 1, BitsStored 13, codestream 13-bit unsigned.
	{path: "robustness/pydicom-edge/J2K_pixelrep_mismatch.dcm", check: "golden"},
	{path: "robustness/pydicom-edge/explicit_VR-UN.dcm", check: "golden"},
	// The fragment's SIZ marker has the bytes FE FF DD E0 inserted: its
	// image width becomes 3722445056.
	{path: "robustness/pydicom-edge/JPEG2000-embedded-sequence-delimiter.dcm", check: "reject", reject: "SIZ"},
	{path: "robustness/pydicom-edge/RG1_J2KI.dcm", check: "golden"},
	{path: "robustness/pydicom-edge/emri_small_jpeg_2k_lossless_too_short.dcm", check: "golden", frames: 10},
	{path: "robustness/pylibjpeg-ct/TOSHIBA_J2K_OpenJPEGv2Regression.dcm", check: "golden"},
	{path: "robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ0_PixRep1.dcm", check: "golden"},
	{path: "robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ1_PixRep0.dcm", check: "golden"},
	{path: "robustness/pylibjpeg-ct/ELSCINT1_JP2vsJ2K.dcm", check: "golden"},
	{path: "robustness/pylibjpeg-ct/MAROTECH_CT_JP2Lossy.dcm", check: "golden"},
	{path: "robustness/totalsegmentator-ct/example_ct_dicom_j2k/*", check: "golden"},
}

var corpusGolden = map[string]string{
	// GDCM, sign-extended from BitsStored 13 (6192 -> -2000).
	"robustness/pydicom-edge/J2K_pixelrep_mismatch.dcm": "22e412dd68b03a321ae228724c7d785d9142459e4166e2a42a6ef8025c886b90",
	"robustness/pydicom-edge/explicit_VR-UN.dcm":        "3607beee2c77c36bae9dd9507a54cbdbe63b3339f7fca2764a180f75f9fc65d5",
	// GDCM, as int16. SIZ0_PixRep1 and SIZ1_PixRep0 are the same image.
	"robustness/pylibjpeg-ct/TOSHIBA_J2K_OpenJPEGv2Regression.dcm": "f306f9ef6dcda3bbaa474717699cba52f7c42d34cfed80f13b5f9b2f9e8c3dee",
	"robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ0_PixRep1.dcm":         "31338b7c006737f43fa5852ed262c581128b6ee0165b0d88be12c1ce1b56df9f",
	"robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ1_PixRep0.dcm":         "31338b7c006737f43fa5852ed262c581128b6ee0165b0d88be12c1ce1b56df9f",
	// OpenJPEG, frame by frame (GDCM refuses the file).
	"robustness/pydicom-edge/emri_small_jpeg_2k_lossless_too_short.dcm": "8be61098d4942b61e899bb8316673dc949d7daa8fbbaee02918e4c21214baa4d",
	// Lossy, this decoder (checked against GDCM, see above).
	"robustness/pydicom-edge/RG1_J2KI.dcm":             "b31213e34c68352265e2e63c86c6405453ad2e62845b79be74fd28a0223a61cf",
	"robustness/pylibjpeg-ct/ELSCINT1_JP2vsJ2K.dcm":    "51c504324336424cc13744e0670c8e02699b99aba4c19b6de70055af8f463c87",
	"robustness/pylibjpeg-ct/MAROTECH_CT_JP2Lossy.dcm": "391d227161854e8d9c2e7737038da3f84a38aace9a64ea62b7a46809faf46183",
	// OpenJPEG (GDCM cannot rewrite these files).
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573": "ed80927067223b7dfaee8ae46a521b52d97f79818554e20b0e1a5c6f058b2725",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016574": "bbfdf4406921f37f791c6cee4b84e7697cdd0f446d71add65ca59aaf841ea9bb",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016575": "c0028dd563fd07b481060cee2f147ebc87646e8f4abd246b2b2f0d99b45fa256",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016576": "c866ec613c06e91bc50f7e6db9b8991f619227e15c7399247a110d172a867611",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016577": "c6d1d9408ea637530079c3b07e43de9c54a5b536062c29ed335f106e3ae96ac9",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016578": "dc1cf2f500fe911e1657821de8f688d934ad58944e9c105aefa78ebfd02644b7",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016579": "c3b9273580cbf6d6a73f3480729105036c213ffe56640808c2a0b8e311686126",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016580": "6b174cd1c84e8132b6893bdf43807053ea3ffc21f1f9bc466e701accb863d6a0",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016581": "4883e435f1eecae9e54d897278f6854ad6a468b08ce4d240f52bd8b85d67be51",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016582": "a8b19624b8742a6fd305af90a44205603ce6dc65a2415655ca076c2148b2dfd1",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016583": "e197c21c95db15fca37cce73f50b9f9c9a8bb022ce5f7aa1338e7a11a4dd340f",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016584": "515a20bfb5a0cf1c7bd064f27f8ffed1ace3a037928715780b87815dd7660f66",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016585": "ddef2e29e711ad89ed0c0947f778932f1d7401d5099d0b0843157a78834c2281",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016586": "cdc7fcaf3370b1b6bc8aeb616de8b506494cc1f3c8f437df580f72e6dd0a0636",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016587": "68866899c5dab2c04881ac6e240c35eb99371b9144566a311c20ef8233c5ee7b",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016588": "b68e27c15e8fe4e18e750bc76408e4df27a07a85505a0179964f2bf67b0e9ac9",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016589": "c7065bfa3d31732ad0ba42ae255be17b26c1301333494df05a76e0ac27de48bb",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016590": "0a6944b3c77735e392fa1beba3e48dc71584fcd47c75151a7c8196b4014e3634",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016591": "22f3f81077b921a57fd770b03fe24a4f5498f052951ab53e5cc26fab05d926d8",
	"robustness/totalsegmentator-ct/example_ct_dicom_j2k/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016592": "0a39673571386f1badbb69199cff3357d9f061fc2155d5289fbff5a1472a7ab4",
}

// readFrames reads a DICOM test file (encaptest) and its compressed frames.
func readFrames(path string) (*encaptest.File, [][]byte, error) {
	f, err := encaptest.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	frames, err := f.Frames()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, frames, nil
}

// decodeFile decodes every frame of an encapsulated DICOM file through the
// registered decoder.
func decodeFile(t *testing.T, path string) (*encaptest.File, [][]int32, error) {
	t.Helper()
	f, frames, err := readFrames(path)
	if err != nil {
		t.Fatalf("readFrames: got error %v, want nil", err)
	}
	dec, ok := codec.Lookup(f.TransferSyntax)
	if !ok {
		t.Fatalf("Lookup(%s) (%s): got no decoder, want one registered", f.TransferSyntax, codec.SyntaxName(f.TransferSyntax))
	}
	fi := f.Info
	var out [][]int32
	for _, fr := range frames {
		dst := make([]int32, fi.Len())
		if err := dec.Decode(fr, fi, dst); err != nil {
			return f, out, err
		}
		out = append(out, dst)
	}
	return f, out, nil
}

func TestCorpus(t *testing.T) {
	td := shareddata.Root(t)
	for _, cc := range corpusCases {
		paths := []string{filepath.Join(td, cc.path)}
		if strings.HasSuffix(cc.path, "*") {
			paths, _ = filepath.Glob(filepath.Join(td, cc.path))
			if len(paths) == 0 {
				t.Errorf("%s: no files, got %v, want != 0", cc.path, len(paths))
			}
		}
		for _, p := range paths {
			rel, _ := filepath.Rel(td, p)
			t.Run(rel, func(t *testing.T) {
				start := time.Now()
				f, frames, err := decodeFile(t, p)
				el := time.Since(start)
				if cc.check == "reject" {
					if err == nil || !strings.Contains(err.Error(), cc.reject) {
						t.Fatalf("want an error about %q, got %v", cc.reject, err)
					}
					t.Logf("rejected: %v", err)
					return
				}
				if err != nil {
					t.Fatalf("got error %v, want nil", err)
				}
				if want := max(cc.frames, 1); len(frames) != want {
					t.Fatalf("%d frames, want %d", len(frames), want)
				}
				switch cc.check {
				case "native", "lossy":
					refPath := filepath.Join(td, cc.ref)
					if strings.HasSuffix(cc.path, "*") {
						refPath = filepath.Join(td, cc.ref, filepath.Base(p))
					}
					ref, err := encaptest.ReadFile(refPath)
					if err != nil {
						t.Fatalf("encaptest.ReadFile: got error %v, want nil", err)
					}
					want, err := ref.NativeFrames()
					if err != nil {
						t.Fatalf("ref.NativeFrames: got error %v, want nil", err)
					}
					worst, mean := compare(frames[0], want[0])
					if cc.check == "native" && worst != 0 {
						t.Fatalf("got a difference from %s of up to %d (mean %.3f), want 0", cc.ref, worst, mean)
					}
					if cc.check == "lossy" && (worst > cc.maxErr || mean < cc.mean[0] || mean > cc.mean[1]) {
						t.Fatalf("error against %s: max %d mean %.2f, want max <= %d, mean in %v", cc.ref, worst, mean, cc.maxErr, cc.mean)
					}
					t.Logf("%dx%d %s, %v: max |diff| %d, mean %.2f against %s", f.Info.Columns, f.Info.Rows, f.TransferSyntax, el, worst, mean, cc.ref)
				case "golden":
					h := sha256.New()
					var buf [4]byte
					for _, fr := range frames {
						for _, v := range fr {
							binary.LittleEndian.PutUint32(buf[:], uint32(v))
							h.Write(buf[:])
						}
					}
					got := hex.EncodeToString(h.Sum(nil))
					if want := corpusGolden[rel]; got != want {
						t.Fatalf("SHA-256 of the samples %s, want %s", got, want)
					}
					t.Logf("%dx%dx%d %s, %v: samples match the reference hash", f.Info.Columns, f.Info.Rows, len(frames), f.TransferSyntax, el)
				}
			})
		}
	}
}

func compare(got, want []int32) (worst int, mean float64) {
	var sum float64
	for i := range got {
		d := math.Abs(float64(got[i] - want[i]))
		worst = max(worst, int(d))
		sum += d
	}
	return worst, sum / float64(len(got))
}

// TestCorpusToshibaSign checks that the two Toshiba files that differ only
// in which of header and codestream claims signed samples decode alike, to
// HU-like values (air at -2048 outside the field of view).
func TestCorpusToshibaSign(t *testing.T) {
	td := shareddata.Root(t)
	_, a, errA := decodeFile(t, filepath.Join(td, "robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ0_PixRep1.dcm"))
	_, b, errB := decodeFile(t, filepath.Join(td, "robustness/pylibjpeg-ct/TOSHIBA_J2K_SIZ1_PixRep0.dcm"))
	if errA != nil || errB != nil {
		t.Fatalf("decodeFile: got errors %v, %v; want nil, nil", errA, errB)
	}
	if worst, _ := compare(a[0], b[0]); worst != 0 {
		t.Fatalf("the two files differ by up to %d, want 0", worst)
	}
	if a[0][0] != -2048 {
		t.Fatalf("corner sample %d, want -2048", a[0][0])
	}
}

// TestCorpusFilesExist fails when the corpus gains or loses JPEG 2000
// files without this test's table following. It reads the syntax of every
// .dcm file from INDEX.tsv, and walks the folders of files without a .dcm
// name.
func TestCorpusFilesExist(t *testing.T) {
	td := shareddata.Root(t)
	index, err := os.ReadFile(filepath.Join(td, "INDEX.tsv"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	var files []string
	for _, line := range strings.Split(string(index), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) > 3 && strings.Contains(cols[3], "JPEG2000") {
			files = append(files, cols[0])
		}
	}
	extra, _ := filepath.Glob(filepath.Join(td, "robustness/totalsegmentator-ct/example_ct_dicom_j2k/*"))
	for _, p := range extra {
		rel, _ := filepath.Rel(td, p)
		files = append(files, rel)
	}
	for _, rel := range files {
		found := false
		for _, cc := range corpusCases {
			if ok, _ := filepath.Match(cc.path, rel); ok || cc.path == rel {
				found = true
			}
		}
		if !found {
			t.Errorf("corpusCases: got no entry for the JPEG 2000 file %s, want one", rel)
		}
	}
	if len(files) < 60 {
		t.Errorf("only %d JPEG 2000 files found, want >= 60", len(files))
	}
	t.Logf("%d JPEG 2000 files in the test data, all checked by TestCorpus", len(files))
}
