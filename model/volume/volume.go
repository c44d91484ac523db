// Package volume holds CT volumes in Hounsfield units and their geometry.
//
// A volume is stored slice by slice in z, y, x order (C order), with slice 0
// the most cranial one (top of the chest first), row 0 the most anterior
// row and column 0 the patient's right, as in a standard axial DICOM image.
// Voxel values are int16 Hounsfield units; air outside the reconstruction
// field is -1024.
//
// Two kinds of volume exist: [Volume], which holds every voxel in memory in a
// plain []int16, and any other [Source], such as the lazy series reader of
// the ingestion package, which decodes a slice only when it is asked for.
// Code that needs only some slices (the scoring cascade needs a downsampled
// volume and about fifteen full-resolution slices) takes a Source.
//
// # Why a plain slice, not a tensor
//
// The voxels are a []int16 with one method set on every platform, and
// gorgonia.org/tensor stays at the edge: a native tool that wants tensor
// algebra wraps [Volume.Voxels] without copying
// (tensor.New(tensor.WithShape(Nz, Ny, Nx), tensor.WithBacking(v.Voxels()))),
// as `sscscore inspect --npy` does to write a series as a NumPy array, and
// as this package's benchmarks do. The tensor does not carry the work
// itself, for three measured reasons:
//
//   - The work is done slice by slice as slices are decoded, on a Source
//     that is usually lazy (the levels grid, the coronal reformat and the
//     HU statistics each read a slice, reduce it and drop it), so there is
//     rarely a whole volume for a tensor to view.
//   - Where there is, the tensor is slower: an int16 Dense reduces in
//     int16 (one 512² slice overflows it), so HU statistics first widen the
//     voxels into a float64 Dense. The per-slice mean HU of a 30 x 512²
//     volume takes 6.5 ms with a loop and 78 ms through tensor.Dense (12
//     times as long, and 63 MB allocated); a sagittal reformat (a strided
//     view, materialised) 0.13 ms and 0.23 ms (2 to 5 times as long on a
//     busy machine). BenchmarkSliceMeans and BenchmarkSagittal, `go test
//     -run '^$' -bench . ./model/volume/`, 2-core AMD EPYC; their test
//     checks that both ways give the same numbers. The levels grid's box
//     average has no tensor operation at all.
//   - Linking gorgonia.org/tensor into the browser's worker (the volume
//     type of the start of this project, measured with the worker built by
//     ./build.sh wasm) takes worker.wasm from 15.2 to 35.3 MB raw and from
//     3.23 to 5.21 MB brotli: the page's download would go from 3.9 MB to
//     5.9 MB, over the 5 MB allowed. So the browser build cannot use it,
//     and a native-only tensor behind a js/wasm stand-in gave one type two
//     method sets; now both platforms build the same Volume.
package volume

import (
	"context"
	"fmt"
	"math"
)

// Air is the Hounsfield value used for voxels outside the field of view.
const Air = -1024

// Geometry places a volume in patient coordinates (DICOM LPS, millimetres).
type Geometry struct {
	// Nz, Ny, Nx are the number of slices, rows and columns.
	Nz, Ny, Nx int
	// Spacing is the voxel size in mm as (x, y, z): column spacing, row
	// spacing and the mean distance between neighbouring slice centres
	// measured along the slice normal (never SliceThickness).
	Spacing [3]float64
	// Origin is the patient position (mm) of the centre of voxel (0, 0, 0),
	// the ImagePositionPatient of the first (most cranial) slice.
	Origin [3]float64
	// Direction holds the unit vectors of the x (along a row), y (down a
	// column) and z (from slice 0 to slice 1) axes in patient coordinates.
	Direction [3][3]float64
	// SliceZ is the patient z (ImagePositionPatient[2], mm) of each slice in
	// storage order; it decreases from head to feet. len(SliceZ) == Nz.
	SliceZ []float64
}

// SliceLen returns the number of voxels in one slice.
func (g *Geometry) SliceLen() int { return g.Ny * g.Nx }

// ZOf returns the patient z (mm) of slice k, extrapolating linearly outside
// the volume.
func (g *Geometry) ZOf(k int) float64 {
	n := len(g.SliceZ)
	switch {
	case n == 0:
		return g.Origin[2] - float64(k)*g.Spacing[2]
	case k < 0:
		return g.SliceZ[0] + float64(k)*g.step()
	case k >= n:
		return g.SliceZ[n-1] + float64(k-n+1)*g.step()
	}
	return g.SliceZ[k]
}

// step is the signed z change from one slice to the next (negative when the
// volume runs from head to feet, as it normally does).
func (g *Geometry) step() float64 {
	n := len(g.SliceZ)
	if n < 2 {
		return -g.Spacing[2]
	}
	return (g.SliceZ[n-1] - g.SliceZ[0]) / float64(n-1)
}

// SlicePos returns the fractional slice index of patient z (0 = the first
// slice), linearly extrapolated beyond the scan.
func (g *Geometry) SlicePos(z float64) float64 {
	n := len(g.SliceZ)
	if n < 2 {
		return 0
	}
	for k := 0; k+1 < n; k++ {
		a, b := g.SliceZ[k], g.SliceZ[k+1]
		if (z <= a && z >= b) || (z >= a && z <= b) {
			if a == b {
				return float64(k)
			}
			return float64(k) + (a-z)/(a-b)
		}
	}
	step := (g.SliceZ[n-1] - g.SliceZ[0]) / float64(n-1)
	if (z-g.SliceZ[0])*step < 0 { // before the first slice
		return (z - g.SliceZ[0]) / step
	}
	return float64(n-1) + (z-g.SliceZ[n-1])/step
}

// NearestSlice returns the index of the slice whose centre is closest to
// patient z (mm) and whether z lies within the scanned range (extended by
// half a slice spacing at both ends).
func (g *Geometry) NearestSlice(z float64) (k int, inside bool) {
	n := len(g.SliceZ)
	if n == 0 {
		return 0, false
	}
	best, bestD := 0, math.Inf(1)
	for i, zi := range g.SliceZ {
		if d := math.Abs(zi - z); d < bestD {
			best, bestD = i, d
		}
	}
	lo, hi := g.ZRange()
	half := g.Spacing[2] / 2
	return best, z >= lo-half && z <= hi+half
}

// ZRange returns the lowest and highest slice z (mm).
func (g *Geometry) ZRange() (lo, hi float64) {
	if len(g.SliceZ) == 0 {
		return 0, 0
	}
	lo, hi = g.SliceZ[0], g.SliceZ[0]
	for _, z := range g.SliceZ {
		lo, hi = math.Min(lo, z), math.Max(hi, z)
	}
	return lo, hi
}

// Validate reports whether the geometry is usable.
func (g *Geometry) Validate() error {
	if g.Nz <= 0 || g.Ny <= 0 || g.Nx <= 0 {
		return fmt.Errorf("volume: bad dimensions %dx%dx%d", g.Nz, g.Ny, g.Nx)
	}
	if len(g.SliceZ) != g.Nz {
		return fmt.Errorf("volume: %d slice positions for %d slices", len(g.SliceZ), g.Nz)
	}
	for i, s := range g.Spacing {
		if !(s > 0) || math.IsInf(s, 0) {
			return fmt.Errorf("volume: spacing[%d] = %v is not positive", i, s)
		}
	}
	return nil
}

// A Source gives access to the slices of a volume, decoding them on demand
// if need be. Implementations must be safe for concurrent calls to Slice.
type Source interface {
	// Geometry returns the volume's geometry. The caller must not modify it.
	Geometry() *Geometry
	// Slice writes slice k (Ny*Nx Hounsfield values, row-major) into dst,
	// which has at least Ny*Nx elements.
	Slice(ctx context.Context, k int, dst []int16) error
}

// Volume is a CT volume held in memory.
type Volume struct {
	Geom Geometry
	// vox holds the voxels in z, y, x order, len Nz*Ny*Nx.
	vox []int16
}

// New returns a volume of the given geometry whose voxels are all air.
func New(g Geometry) (*Volume, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	vox := make([]int16, g.Nz*g.Ny*g.Nx)
	for i := range vox {
		vox[i] = Air
	}
	return FromVoxels(g, vox)
}

// FromVoxels wraps vox (z, y, x order, len Nz*Ny*Nx) without copying it.
func FromVoxels(g Geometry, vox []int16) (*Volume, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if len(vox) != g.Nz*g.Ny*g.Nx {
		return nil, fmt.Errorf("volume: %d voxels for %dx%dx%d", len(vox), g.Nz, g.Ny, g.Nx)
	}
	return &Volume{Geom: g, vox: vox}, nil
}

// Voxels returns the backing slice of the volume (z, y, x order).
func (v *Volume) Voxels() []int16 { return v.vox }

// SliceView returns slice k of the volume without copying it.
func (v *Volume) SliceView(k int) []int16 {
	n := v.Geom.SliceLen()
	return v.Voxels()[k*n : (k+1)*n]
}

// Geometry implements Source.
func (v *Volume) Geometry() *Geometry { return &v.Geom }

// Slice implements Source.
func (v *Volume) Slice(ctx context.Context, k int, dst []int16) error {
	if k < 0 || k >= v.Geom.Nz {
		return fmt.Errorf("volume: slice %d out of range [0,%d)", k, v.Geom.Nz)
	}
	copy(dst, v.SliceView(k))
	return nil
}

// Load reads every slice of src into memory.
func Load(ctx context.Context, src Source) (*Volume, error) {
	if v, ok := src.(*Volume); ok {
		return v, nil
	}
	g := *src.Geometry()
	g.SliceZ = append([]float64(nil), g.SliceZ...)
	vox := make([]int16, g.Nz*g.Ny*g.Nx)
	n := g.SliceLen()
	for k := 0; k < g.Nz; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := src.Slice(ctx, k, vox[k*n:(k+1)*n]); err != nil {
			return nil, fmt.Errorf("volume: slice %d: %w", k, err)
		}
	}
	return FromVoxels(g, vox)
}
