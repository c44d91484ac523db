//go:build !js

package volume

import (
	"testing"

	"gorgonia.org/tensor"
)

// The benchmarks below measure the choice the package doc explains: the
// volume's voxels are a plain []int16, not a gorgonia.org/tensor Dense. Each
// pair does the same work on an A0002-sized volume (30 slices of 512²),
// once with loops over the slice and once through tensor.Dense (views,
// strides, reductions), and the tests beside them check that both give the
// same numbers.

// benchVolume returns a 30 x 512 x 512 volume of varied Hounsfield values.
func benchVolume(tb testing.TB) *Volume {
	tb.Helper()
	const nz, ny, nx = 30, 512, 512
	g := Geometry{Nz: nz, Ny: ny, Nx: nx, Spacing: [3]float64{0.7, 0.7, 10}, SliceZ: make([]float64, nz)}
	for k := range g.SliceZ {
		g.SliceZ[k] = -10 * float64(k)
	}
	vox := make([]int16, nz*ny*nx)
	s := uint32(1)
	for i := range vox {
		s = s*1664525 + 1013904223
		vox[i] = int16(int(s>>20)%4096 - 1024)
	}
	v, err := FromVoxels(g, vox)
	if err != nil {
		tb.Fatalf("FromVoxels: got error %v, want nil", err)
	}
	return v
}

// sliceMeansPlain returns the mean HU of each slice (an HU statistic).
func sliceMeansPlain(v *Volume) []float64 {
	g := v.Geom
	out := make([]float64, g.Nz)
	for k := range out {
		var s int64
		for _, h := range v.SliceView(k) {
			s += int64(h)
		}
		out[k] = float64(s) / float64(g.SliceLen())
	}
	return out
}

// sliceMeansTensor does the same through tensor.Dense: an int16 Dense sums
// in int16 (a 512² slice overflows it), so the voxels are first widened
// into a float64 Dense, then summed along y and x.
func sliceMeansTensor(v *Volume) ([]float64, error) {
	g := v.Geom
	f := make([]float64, len(v.Voxels()))
	for i, h := range v.Voxels() {
		f[i] = float64(h)
	}
	d := tensor.New(tensor.WithShape(g.Nz, g.Ny, g.Nx), tensor.WithBacking(f))
	sum, err := d.Sum(1, 2)
	if err != nil {
		return nil, err
	}
	out := sum.Data().([]float64)
	for k := range out {
		out[k] /= float64(g.SliceLen())
	}
	return out, nil
}

// sagittalPlain returns the sagittal plane at column x (Nz x Ny), the
// most strided reformat of a z, y, x volume.
func sagittalPlain(v *Volume, x int) []int16 {
	g := v.Geom
	out := make([]int16, g.Nz*g.Ny)
	for k := 0; k < g.Nz; k++ {
		s := v.SliceView(k)
		for y := 0; y < g.Ny; y++ {
			out[k*g.Ny+y] = s[y*g.Nx+x]
		}
	}
	return out
}

// sagittalTensor does the same with a strided tensor view, materialised.
func sagittalTensor(d *tensor.Dense, x int) ([]int16, error) {
	view, err := d.Slice(nil, nil, tensor.S(x))
	if err != nil {
		return nil, err
	}
	return view.Materialize().Data().([]int16), nil
}

// denseOf wraps the volume's voxels in a tensor.Dense without copying them.
func denseOf(v *Volume) *tensor.Dense {
	g := v.Geom
	return tensor.New(tensor.WithShape(g.Nz, g.Ny, g.Nx), tensor.WithBacking(v.Voxels()))
}

func TestTensorTwinsAgree(t *testing.T) {
	v := benchVolume(t)
	plain := sliceMeansPlain(v)
	tens, err := sliceMeansTensor(v)
	if err != nil {
		t.Fatalf("sliceMeansTensor: got error %v, want nil", err)
	}
	for k := range plain {
		if d := plain[k] - tens[k]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("slice %d mean: got %v through tensor, want %v (plain)", k, tens[k], plain[k])
		}
	}
	sp := sagittalPlain(v, 300)
	st, err := sagittalTensor(denseOf(v), 300)
	if err != nil {
		t.Fatalf("sagittalTensor: got error %v, want nil", err)
	}
	if len(st) != len(sp) {
		t.Fatalf("sagittal plane through tensor: got %d voxels, want %d", len(st), len(sp))
	}
	for i := range sp {
		if st[i] != sp[i] {
			t.Fatalf("sagittal voxel %d: got %d through tensor, want %d (plain)", i, st[i], sp[i])
		}
	}
}

func BenchmarkSliceMeans(b *testing.B) {
	v := benchVolume(b)
	b.Run("slice", func(b *testing.B) {
		b.SetBytes(int64(2 * len(v.Voxels())))
		for b.Loop() {
			sliceMeansPlain(v)
		}
	})
	b.Run("tensor", func(b *testing.B) {
		b.SetBytes(int64(2 * len(v.Voxels())))
		for b.Loop() {
			if _, err := sliceMeansTensor(v); err != nil {
				b.Fatalf("sliceMeansTensor: got error %v, want nil", err)
			}
		}
	})
}

func BenchmarkSagittal(b *testing.B) {
	v := benchVolume(b)
	d := denseOf(v)
	b.Run("slice", func(b *testing.B) {
		for b.Loop() {
			sagittalPlain(v, 300)
		}
	})
	b.Run("tensor", func(b *testing.B) {
		for b.Loop() {
			if _, err := sagittalTensor(d, 300); err != nil {
				b.Fatalf("sagittalTensor: got error %v, want nil", err)
			}
		}
	})
}
