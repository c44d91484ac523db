package ingest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sscscore/model/dcmwrite"
	"sscscore/model/shareddata"
)

// FuzzReader feeds arbitrary bytes to the whole reader: content sniffing,
// the structural walker, the DICOM library behind it, classification,
// series building and the decoding of every accepted frame. Any outcome is
// fine except a panic of this package (the library's own panics are
// recovered by design and the reader goes on), a hang, or a file left
// without a status. It is seeded with the robustness corpus and the test
// slices when the test data is present.
//
//	go test -run '^$' -fuzz FuzzReader -fuzztime 10m -fuzzminimizetime 10s ./model/ingest
func FuzzReader(f *testing.F) {
	var buf bytes.Buffer
	if err := dcmwrite.WriteSlice(&buf, newSynth(1, 16, 16, 1), 0, dcmwrite.SeriesMeta{Signed: true}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("DICM"))
	if td, err := shareddata.Find(); err == nil {
		for _, dir := range []string{"robustness", "slices"} {
			filepath.Walk(filepath.Join(td, dir), func(p string, info os.FileInfo, err error) error {
				if err != nil || !info.Mode().IsRegular() || strings.HasSuffix(p, ".md") || strings.HasSuffix(p, ".txt") {
					return nil
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return nil
				}
				// Small files whole; large ones (mostly pixels) by their
				// first 8 KB, which keeps executions fast.
				if len(b) > 300<<10 {
					b = b[:8<<10]
				}
				f.Add(b)
				return nil
			})
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a failure: dump the goroutines and crash the worker,
		// which makes the fuzzer keep the input.
		watchdog := time.AfterFunc(20*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic("input took over 20 s:\n" + string(buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		ctx := context.Background()
		inv, err := Scan(ctx, []File{BytesFile("fuzz.dcm", data)}, Options{Workers: 1})
		if err != nil {
			t.Fatalf("Scan: got error %v, want nil", err)
		}
		if err := inv.Verify(ctx, nil); err != nil {
			t.Fatalf("inv.Verify: got error %v, want nil", err)
		}
		if len(inv.Files) != 1 {
			t.Fatalf("%d reports, want 1", len(inv.Files))
		}
		r := inv.Files[0]
		switch r.Status {
		case Decoded, Skipped, Rejected:
		default:
			t.Fatalf("status after Verify: got %q, want decoded, skipped or rejected", r.Status)
		}
		if strings.Contains(r.Reason, "internal error") || strings.Contains(r.Reason, "decoder panic") {
			t.Fatalf("reason: got %s, want no recovered panic", r.Reason)
		}
		if inv.Chosen != "" {
			lv, err := inv.Open("")
			if err != nil {
				t.Fatalf("inv.Open: got error %v, want nil", err)
			}
			g := lv.Geometry()
			if err := g.Validate(); err != nil {
				t.Fatalf("invalid geometry of a chosen series: got error %v, want nil", err)
			}
		}
	})
}
