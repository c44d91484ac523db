package phantom

import (
	"context"
	"testing"
)

// BenchmarkBuild samples a phantom and builds its geometry with the
// vessel trees (what every new phantom costs once).
func BenchmarkBuild(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := New(int64(i+1), Options{})
		p.full()
	}
}

// BenchmarkSlice512 renders one full-resolution 512x512 slice (1.25 mm).
func BenchmarkSlice512(b *testing.B) {
	p := New(1, Options{SliceSpacing: Range{1.25, 1.25}})
	g := p.SliceGrid()
	hu := make([]int16, g.Nx*g.Ny)
	fl := make([]uint8, g.Nx*g.Ny)
	z := p.Levels()[L3]
	p.full()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.RenderSlice(z, g, hu, fl); err != nil {
			b.Fatalf("p.RenderSlice: got error %v, want nil", err)
		}
	}
}

// BenchmarkCoarseVolume renders a phantom directly on a 128x96x96 grid
// (z, y, x) covering its scan, as the levels network reads it (geometry
// already built).
func BenchmarkCoarseVolume(b *testing.B) {
	p := New(1, Options{})
	g := Resample(p.Geometry(), 96, 96, 128)
	p.full()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := p.Render(context.Background(), g); err != nil {
			b.Fatalf("p.Render: got error %v, want nil", err)
		}
	}
}

// BenchmarkCoarseNew is BenchmarkCoarseVolume for a new phantom each time
// (build included): the cost of one training volume.
func BenchmarkCoarseNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		p := New(int64(i+1), Options{})
		g := Resample(p.Geometry(), 96, 96, 128)
		if _, _, err := p.Render(context.Background(), g); err != nil {
			b.Fatalf("p.Render: got error %v, want nil", err)
		}
	}
}

// BenchmarkFullVolume renders a whole native series (512x512, 2.5 mm).
func BenchmarkFullVolume(b *testing.B) {
	p := New(1, Options{SliceSpacing: Range{2.5, 2.5}})
	g := p.Geometry()
	p.full()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := p.Render(context.Background(), g); err != nil {
			b.Fatalf("p.Render: got error %v, want nil", err)
		}
	}
	b.ReportMetric(float64(g.Nz), "slices")
}

// BenchmarkDemoFiles renders the demo case as DICOM files in memory.
func BenchmarkDemoFiles(b *testing.B) {
	for i := 0; i < b.N; i++ {
		files, err := DemoFiles(context.Background(), nil)
		if err != nil {
			b.Fatalf("DemoFiles: got error %v, want nil", err)
		}
		var size int
		for _, f := range files {
			size += len(f.Data)
		}
		b.ReportMetric(float64(size)/1e6, "MB")
		b.ReportMetric(float64(len(files)), "files")
	}
}
