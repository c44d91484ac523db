package ingest

import (
	"context"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// Benchmarks on generated 512x512 series (written once under the OS temp
// directory by benchSeries; the first run takes a while). They report
// ms/slice; the memory benchmarks report the peak heap (sampled after every
// file and slice), the Go runtime's total memory from the OS (which in
// js/wasm is the linear memory a browser tab holds) and, natively, the
// process's maximum RSS. Run them alone for clean RSS figures, e.g.
//
//	go test -run '^$' -bench 'Lazy3000' -benchtime 1x ./model/ingest

func scanDir(b *testing.B, dir string) (*Inventory, []File) {
	files, err := DiskFiles(dir)
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	inv, err := Scan(context.Background(), files, Options{})
	if err != nil {
		b.Fatalf("Scan: got error %v, want nil", err)
	}
	if inv.Chosen == "" {
		b.Fatalf("no series chosen: got %v, want != %q", inv.Chosen, "")
	}
	return inv, files
}

// perSlice reports the wall time per slice and, where the platform tells,
// the CPU time per slice since cpu0 (all threads: with parallel decoding it
// can exceed the wall time; on a loaded machine it is the steadier figure).
func perSlice(b *testing.B, slices int, cpu0 time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*slices), "ms/slice")
	if c := cpuTime(); c > 0 && cpu0 > 0 {
		b.ReportMetric(float64((c-cpu0).Microseconds())/1000/float64(b.N*slices), "cpu-ms/slice")
	}
}

// BenchmarkScan300 is the header pass over a 300-slice series.
func BenchmarkScan300(b *testing.B) {
	dir := benchSeries(b, 300)
	files, err := DiskFiles(dir)
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, err := Scan(context.Background(), files, Options{}); err != nil {
			b.Fatalf("Scan: got error %v, want nil", err)
		}
	}
	perSlice(b, 300, cpu0)
}

// BenchmarkDecode300 is pass 2 alone: decoding the scanned series into one
// volume.
func BenchmarkDecode300(b *testing.B) {
	inv, _ := scanDir(b, benchSeries(b, 300))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, err := inv.Load(context.Background(), "", nil); err != nil {
			b.Fatalf("inv.Load: got error %v, want nil", err)
		}
	}
	perSlice(b, 300, cpu0)
}

// BenchmarkFullLoad300 is what a user waits for: header pass plus decoding.
func BenchmarkFullLoad300(b *testing.B) {
	dir := benchSeries(b, 300)
	files, err := DiskFiles(dir)
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, _, err := LoadFiles(context.Background(), files, Options{}); err != nil {
			b.Fatalf("LoadFiles: got error %v, want nil", err)
		}
	}
	perSlice(b, 300, cpu0)
}

// peakMem samples the Go heap at chosen points.
type peakMem struct {
	samples []metrics.Sample
	heap    uint64
}

func newPeak() *peakMem {
	runtime.GC()
	return &peakMem{samples: []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/total:bytes"},
	}}
}

func (p *peakMem) sample() {
	metrics.Read(p.samples)
	p.heap = max(p.heap, p.samples[0].Value.Uint64())
}

func (p *peakMem) report(b *testing.B) {
	p.sample()
	b.ReportMetric(float64(p.heap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(p.samples[1].Value.Uint64())/(1<<20), "go-sys-MB")
	if rss := maxRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "max-rss-MB")
	}
}

// scoreLazily does what scoring needs from a lazy volume: one pass over
// every slice to build a 128x128x128 downsampled volume, then 15
// full-resolution slices.
func scoreLazily(b *testing.B, inv *Inventory, p *peakMem) {
	lv, err := inv.Open("")
	if err != nil {
		b.Fatalf("inv.Open: got error %v, want nil", err)
	}
	g := lv.Geometry()
	n := g.SliceLen()
	const m = 128
	down := make([]float32, m*m*m)
	counts := make([]int32, m)
	slice := make([]int16, n)
	ctx := context.Background()
	xi := make([]int, g.Nx)
	for x := range xi {
		xi[x] = x * m / g.Nx
	}
	for k := 0; k < g.Nz; k++ {
		if err := lv.Slice(ctx, k, slice); err != nil {
			b.Fatalf("lv.Slice: got error %v, want nil", err)
		}
		z := k * m / g.Nz
		counts[z]++
		plane := down[z*m*m : (z+1)*m*m]
		for y := 0; y < g.Ny; y++ {
			row := slice[y*g.Nx : (y+1)*g.Nx]
			py := plane[(y*m/g.Ny)*m : (y*m/g.Ny+1)*m]
			for x, v := range row {
				py[xi[x]] += float32(v)
			}
		}
		p.sample()
	}
	full := make([][]int16, 15)
	for i := range full {
		full[i] = make([]int16, n)
		if err := lv.Slice(ctx, (i*g.Nz)/15, full[i]); err != nil {
			b.Fatalf("lv.Slice: got error %v, want nil", err)
		}
		p.sample()
	}
	runtime.KeepAlive(down)
	runtime.KeepAlive(full)
}

func benchLazy(b *testing.B, nz int) {
	dir := benchSeries(b, nz)
	files, err := DiskFiles(dir)
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p := newPeak()
		start := time.Now()
		inv, err := Scan(context.Background(), files, Options{Progress: func(Progress) { p.sample() }})
		if err != nil {
			b.Fatalf("Scan: got error %v, want nil", err)
		}
		scan := time.Since(start)
		p.sample()
		scoreLazily(b, inv, p)
		if i == b.N-1 {
			b.ReportMetric(float64(scan.Milliseconds())/float64(nz), "scan-ms/slice")
			p.report(b)
		}
	}
	perSlice(b, nz, cpu0)
}

// BenchmarkLazy300 and BenchmarkLazy3000: header pass, lazy volume, a
// downsampled volume built from every slice and 15 full slices; peak
// memory.
func BenchmarkLazy300(b *testing.B)  { benchLazy(b, 300) }
func BenchmarkLazy3000(b *testing.B) { benchLazy(b, 3000) }

// BenchmarkLoadMemory300: full decode of 300 slices into one volume (157 MB
// of voxels); peak memory shows that no second copy is held.
func BenchmarkLoadMemory300(b *testing.B) {
	dir := benchSeries(b, 300)
	files, err := DiskFiles(dir)
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		p := newPeak()
		inv, err := Scan(context.Background(), files, Options{Progress: func(Progress) { p.sample() }})
		if err != nil {
			b.Fatalf("Scan: got error %v, want nil", err)
		}
		v, _, err := inv.Load(context.Background(), "", func(Progress) { p.sample() })
		if err != nil {
			b.Fatalf("inv.Load: got error %v, want nil", err)
		}
		if i == b.N-1 {
			p.report(b)
		}
		runtime.KeepAlive(v)
	}
	perSlice(b, 300, cpu0)
}

// BenchmarkReadOnly300 reads the pixel bytes of every file without
// decoding them: the I/O floor of Decode300 (in js/wasm, node's file
// system shim).
func BenchmarkReadOnly300(b *testing.B) {
	files, err := DiskFiles(benchSeries(b, 300))
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	buf := make([]byte, 512*512*2)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			if err := readFull(f.R, buf, f.Size-int64(len(buf))); err != nil {
				b.Fatalf("readFull: got error %v, want nil", err)
			}
		}
	}
	perSlice(b, 300, cpu0)
}

// BenchmarkFullLoad300Mem is BenchmarkFullLoad300 with the files already in
// memory: the cost of parsing and decoding without the file system (in
// js/wasm, without node's file system shim).
func BenchmarkFullLoad300Mem(b *testing.B) {
	disk, err := DiskFiles(benchSeries(b, 300))
	if err != nil {
		b.Fatalf("DiskFiles: got error %v, want nil", err)
	}
	files := make([]File, len(disk))
	for i, f := range disk {
		buf := make([]byte, f.Size)
		if err := readFull(f.R, buf, 0); err != nil {
			b.Fatalf("readFull: got error %v, want nil", err)
		}
		files[i] = BytesFile(f.Path, buf)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		if _, _, _, err := LoadFiles(context.Background(), files, Options{}); err != nil {
			b.Fatalf("LoadFiles: got error %v, want nil", err)
		}
	}
	perSlice(b, 300, cpu0)
}
