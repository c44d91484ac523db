//go:build js

package volume

// Dense is the voxel store of a Volume in js/wasm builds: an int16 array
// of shape (Nz, Ny, Nx) with the Shape and Data methods of
// gorgonia.org/tensor's Dense, which native builds use. Linking gorgonia
// tensor costs about 20 MB raw / 2.2 MB brotli of wasm (measured with the
// worker binary), more than the rest of the browser app, so the browser
// build keeps this stand-in; the voxels and their layout are identical.
type Dense struct {
	shape []int
	data  []int16
}

func newDense(vox []int16, nz, ny, nx int) *Dense {
	return &Dense{shape: []int{nz, ny, nx}, data: vox}
}

// Shape returns the dimensions (Nz, Ny, Nx).
func (d *Dense) Shape() []int { return append([]int(nil), d.shape...) }

// Data returns the backing []int16 as an interface value, as tensor.Dense does.
func (d *Dense) Data() interface{} { return d.data }
