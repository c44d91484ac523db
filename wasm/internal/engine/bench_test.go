package engine

import (
	"context"
	"testing"

	"sscscore/model/ingest"
	"sscscore/model/shareddata"
	"sscscore/wasm/benchdata"
	"sscscore/wasm/internal/protocol"
)

// benchOpen runs the worker's job natively on files with the shipped
// cascade, reporting each stage's time (ms) as a metric: the native
// counterpart of the browser benchmarks in serve/e2e (what `sscscore score`
// does, plus the reformat and the level slices' images and heat maps).
func benchOpen(b *testing.B, files []ingest.File) {
	e := New(Options{Cascade: defaultCascade(b)})
	sums := map[protocol.Stage]float64{}
	for b.Loop() {
		var done *protocol.Msg
		e.Open(context.Background(), 1, files, func(m *protocol.Msg, _ []byte) {
			if m.Kind == protocol.Done {
				done = m
			}
			if m.Kind == protocol.Error {
				b.Fatalf("Open: got error %q, want none", m.Error)
			}
		})
		for k, v := range done.Timings {
			sums[k] += v
		}
	}
	for k, v := range sums {
		b.ReportMetric(v/float64(b.N), string(k)+"-ms")
	}
}

func BenchmarkOpenA0002(b *testing.B) {
	files, err := ingest.DiskFiles(shareddata.Path(b, "chest-ct/A0002-B40f"))
	if err != nil {
		b.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	benchOpen(b, files)
}

func BenchmarkOpenPhantom300(b *testing.B) {
	dir, err := benchdata.Phantom300(context.Background())
	if err != nil {
		b.Fatalf("benchdata.Phantom300: got error %v, want nil", err)
	}
	files, err := ingest.DiskFiles(dir)
	if err != nil {
		b.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	benchOpen(b, files)
}

// BenchmarkMoveA0002 moves a level of A0002 back and forth: the cascade's
// Rescore (the slice and its neighbours), the level slice's image and its
// fast heat maps, natively.
func BenchmarkMoveA0002(b *testing.B) {
	files, err := ingest.DiskFiles(shareddata.Path(b, "chest-ct/A0002-B40f"))
	if err != nil {
		b.Fatalf("ingest.DiskFiles: got error %v, want nil", err)
	}
	e := New(Options{Cascade: defaultCascade(b)})
	e.Open(context.Background(), 1, files, func(*protocol.Msg, []byte) {})
	if e.result == nil {
		b.Fatal("Open(A0002): got no result, want A0002 scored")
	}
	i := 0
	for b.Loop() {
		e.Move(context.Background(), 1, 3, 14+i%2, func(m *protocol.Msg, _ []byte) {
			if m.Kind == protocol.Error {
				b.Fatalf("Move: got error %q, want none", m.Error)
			}
		})
		i++
	}
}
