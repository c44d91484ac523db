//go:build !js

package volume

import "gorgonia.org/tensor"

// Dense is the voxel store of a Volume: a gorgonia.org/tensor Dense of
// int16 with shape (Nz, Ny, Nx), sharing its backing slice with the volume.
type Dense = tensor.Dense

func newDense(vox []int16, nz, ny, nx int) *Dense {
	return tensor.New(tensor.WithShape(nz, ny, nx), tensor.WithBacking(vox))
}
