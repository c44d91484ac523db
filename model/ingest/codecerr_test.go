package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sscscore/model/codec/encap/encaptest"
	"sscscore/model/codec/jpeg2000"
	"sscscore/model/codec/jpegls"
	"sscscore/model/codec/rle"
	"sscscore/model/shareddata"
)

// TestCorruptFrameTypedError: a real A0002 file whose compressed frame is
// damaged in memory is reported by Load (the load report's FileError and
// the file's report in the inventory) and by LazyVolume.Slice with an error
// through which errors.As finds the codec's FormatError.
func TestCorruptFrameTypedError(t *testing.T) {
	type codecCase struct {
		dir        string
		corrupt    func(t *testing.T, frame []byte) // damages the frame (its bytes within the file) in place
		isCodecErr func(error) bool                 // whether errors.As finds the codec's error
	}
	for _, c := range []codecCase{
		{"A0002-B40f-jpegls", func(t *testing.T, frame []byte) {
			// The SOF55 segment's precision byte: 1 is not in 2..16.
			i := bytes.Index(frame, []byte{0xFF, 0xF7})
			if i < 0 {
				t.Fatalf("no SOF55 marker in the frame: got %v, want >= 0", i)
			}
			frame[i+4] = 1
		}, func(err error) bool { return errors.As(err, new(jpegls.FormatError)) }},
		{"A0002-B40f-j2k", func(t *testing.T, frame []byte) {
			// SOC, then SIZ: its component count Csiz (bytes 40-41) set to 0.
			if !bytes.HasPrefix(frame, []byte{0xFF, 0x4F, 0xFF, 0x51}) {
				t.Fatalf("frame starts % X, want a codestream (SOC, SIZ)", frame[:4])
			}
			frame[40], frame[41] = 0, 0
		}, func(err error) bool { return errors.As(err, new(jpeg2000.FormatError)) }},
		{"A0002-B40f-rle", func(t *testing.T, frame []byte) {
			// The RLE header's segment count: 9 where 16-bit grey needs 2.
			frame[0] = 9
		}, func(err error) bool { return errors.As(err, new(rle.FormatError)) }},
	} {
		t.Run(c.dir, func(t *testing.T) {
			dir := shareddata.Path(t, "chest-ct/"+c.dir)
			files, err := DiskFiles(dir)
			if err != nil {
				t.Fatalf("DiskFiles: got error %v, want nil", err)
			}
			bad := len(files) / 2
			b, err := os.ReadFile(files[bad].Path)
			if err != nil {
				t.Fatalf("os.ReadFile: got error %v, want nil", err)
			}
			df, err := encaptest.Parse(b)
			if err != nil {
				t.Fatalf("encaptest.Parse: got error %v, want nil", err)
			}
			frames, err := df.Frames()
			if err != nil {
				t.Fatalf("df.Frames: got error %v, want nil", err)
			}
			at := bytes.Index(b, frames[0])
			if at < 0 {
				t.Fatalf("the frame is not one run of the file's bytes: got %v, want >= 0", at)
			}
			c.corrupt(t, b[at:at+len(frames[0])])
			files[bad] = BytesFile(files[bad].Path, b)

			v, inv, rep, err := LoadFiles(context.Background(), files, Options{})
			if err != nil {
				t.Fatalf("LoadFiles: got error %v, want nil", err)
			}
			if got, want := v.Geom.Nz, len(files)-1; got != want {
				t.Errorf("got %d slices, want %d", got, want)
			}
			if len(rep.Errors) != 1 {
				t.Fatalf("got load report errors %v, want one", rep.Errors)
			}
			var fe FileError
			if !errors.As(rep.Errors[0], &fe) || fe.Path != files[bad].Path || !c.isCodecErr(rep.Errors[0]) {
				t.Errorf("got load report error %v (%T), want a FileError of %s with the codec's FormatError", rep.Errors[0].Err, rep.Errors[0].Err, filepath.Base(files[bad].Path))
			}
			r, ok := inv.Report(files[bad].Path)
			if !ok || r.Status != Rejected || r.Code != CodeDecodeError || !c.isCodecErr(r.Err) || r.Reason == "" {
				t.Errorf("got file report %+v, want rejected, %s, with the codec's FormatError", r, CodeDecodeError)
			}

			// The lazy volume, slice by slice, says the same.
			lv, err := inv.Open("")
			if err != nil {
				t.Fatalf("inv.Open: got error %v, want nil", err)
			}
			dst := make([]int16, lv.Geometry().SliceLen())
			var failed error
			for k := 0; k < lv.Geometry().Nz; k++ {
				if err := lv.Slice(context.Background(), k, dst); err != nil {
					failed = err
				}
			}
			if !errors.As(failed, &fe) || fe.Path != files[bad].Path || !c.isCodecErr(failed) {
				t.Errorf("got LazyVolume error %v, want a FileError with the codec's FormatError", failed)
			}
		})
	}
}
