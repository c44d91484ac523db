package jpeg2000

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sscscore/model/shareddata"
)

// FuzzDecode feeds arbitrary bytes to the decoder: it must return an image
// or an error, never panic, hang or allocate without bound. It calls the
// decoder without its last-resort recover, so that any panic is found. The
// seeds are the conformance fixtures and, when the shared test data is
// present, a few DICOM frames.
//
//	nice -n 10 go test -run '^$' -fuzz FuzzDecode -fuzztime 10m -fuzzminimizetime 10s ./model/codec/jpeg2000
func FuzzDecode(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.j2k"))
	jp2, _ := filepath.Glob(filepath.Join("testdata", "*.jp2"))
	for _, p := range append(seeds, jp2...) {
		// Small seeds only: the fuzzer minimizes every new input it finds,
		// one byte at a time, which takes minutes on tens of kilobytes.
		if b, err := os.ReadFile(p); err == nil && len(b) <= 6000 {
			f.Add(b)
		}
	}
	if td, err := shareddata.Find(); err == nil {
		for _, rel := range []string{
			"robustness/pydicom-edge/emri_small_jpeg_2k_lossless_too_short.dcm",
			"robustness/pydicom-edge/JPEG2000-embedded-sequence-delimiter.dcm",
		} {
			if _, frames, err := readFrames(filepath.Join(td, rel)); err == nil {
				f.Add(frames[0])
			}
		}
	}
	parallelT1 = false
	f.Fuzz(func(t *testing.T, data []byte) {
		// Go's fuzzer has no time limit per input: turn a hang into a
		// crash, which it records.
		done := make(chan bool)
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				panic(fmt.Sprintf("decoding a %d-byte input took more than 10 s", len(data)))
			}
		}()
		img, err := decodeUnguarded(data, 1<<18)
		if err == nil && len(img.Pix) != img.Width*img.Height*img.NumComponents {
			t.Fatalf("image %dx%dx%d: got %d samples, want %d", img.Width, img.Height, img.NumComponents, len(img.Pix), img.Width*img.Height*img.NumComponents)
		}
		if _, err := DecodeConfig(data); err != nil && img != nil {
			t.Fatalf("DecodeConfig after a successful Decode: got error %v, want nil", err)
		}
	})
}
