package encap_test

import (
	"bytes"
	"testing"

	"sscscore/model/codec/encap/encaptest"
)

// TestCorpusFrames splits the encapsulated pixel data of corpus files into
// frames and checks the count and the codestream boundaries.
func TestCorpusFrames(t *testing.T) {
	tests := []struct {
		file   string
		frames int
		start  []byte // every frame starts with this
	}{
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.80.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.81.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.57.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_lossless.70.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_jpeg_ls.80.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm", 2, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_rle.dcm", 2, nil},
		{"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_rle.dcm", 2, nil},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", 1, []byte{0xFF, 0xD8}},
		{"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm", 1, []byte{0xFF, 0xD8}},
		{"robustness/fo-dicom-edge/D_CLUNIE_CT1_RLE_FRAGS.dcm", 1, nil},
		{"robustness/pydicom-edge/JPEG2000-embedded-sequence-delimiter.dcm", 1, []byte{0xFF, 0x4F, 0xFF, 0x51}},
		{"robustness/pylibjpeg-ct/ELSCINT1_JP2vsJ2K.dcm", 1, []byte{0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20}},
		{"robustness/pydicom-edge/emri_small_jpeg_2k_lossless_too_short.dcm", 10, []byte{0xFF, 0x4F, 0xFF, 0x51}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := encaptest.Load(t, tt.file)
			if f.NumFrames != tt.frames {
				t.Fatalf("header says %d frames, want %d", f.NumFrames, tt.frames)
			}
			frames, err := f.Frames()
			if err != nil {
				t.Fatalf("f.Frames: got error %v, want nil", err)
			}
			if len(frames) != tt.frames {
				t.Fatalf("%d frames, want %d", len(frames), tt.frames)
			}
			for i, fr := range frames {
				if tt.start != nil && !bytes.HasPrefix(fr, tt.start) {
					t.Errorf("frame %d: got start % x, want % x", i, fr[:min(8, len(fr))], tt.start)
				}
				if len(tt.start) == 2 && !bytes.HasSuffix(bytes.TrimSuffix(fr, []byte{0}), []byte{0xFF, 0xD9}) {
					t.Errorf("frame %d: got end % x, want ff d9 (EOI)", i, fr[max(0, len(fr)-4):])
				}
			}
		})
	}
}

// TestLayoutsAgree checks that the four fragment/offset-table layouts of the
// same JPEG-LS frames give the same codestreams.
func TestLayoutsAgree(t *testing.T) {
	for _, group := range [][]string{
		{
			"robustness/dicomparser-ct/multi-frame/CT0012.fragmented_no_bot_jpeg_ls.80.dcm",
			"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_bot_jpeg_ls.80.dcm",
			"robustness/dicomparser-ct/multi-frame/CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm",
		},
		{
			"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_bot_jpeg_ls.80.dcm",
			"robustness/dicomparser-ct/single-frame/CT1_UNC.fragmented_no_bot_jpeg_ls.80.dcm",
			"robustness/dicomparser-ct/single-frame/CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm",
			"robustness/dicomparser-ct/single-frame/CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm",
		},
	} {
		var ref [][]byte
		for _, file := range group {
			frames, err := encaptest.Load(t, file).Frames()
			if err != nil {
				t.Fatalf("%s: got error %v, want nil", file, err)
			}
			trim := func(b []byte) []byte { return bytes.TrimSuffix(b, []byte{0}) }
			if ref == nil {
				ref = frames
				continue
			}
			for i := range ref {
				if !bytes.Equal(trim(ref[i]), trim(frames[i])) {
					t.Errorf("%s: frame %d: got other bytes, want those of %s", file, i, group[0])
				}
			}
		}
	}
}
