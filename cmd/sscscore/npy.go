package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"gorgonia.org/tensor"

	"sscscore/model/volume"
)

// npyGeometry is written beside a .npy export (FILE.json): what a reader
// needs to place the array in patient space.
type npyGeometry struct {
	Shape     [3]int     `json:"shape_zyx"`
	SpacingMM [3]float64 `json:"spacing_mm_xyz"`
	// OriginMM is the patient position (DICOM LPS, mm) of voxel [0, 0, 0].
	OriginMM [3]float64 `json:"origin_mm"`
	// Direction holds the unit vectors of the x, y and z axes of the array
	// in patient coordinates.
	Direction [3][3]float64 `json:"direction"`
	// ZMM is the patient z (mm) of each slice, index 0 the most cranial.
	ZMM       []float64 `json:"z_mm"`
	Units     string    `json:"units"`
	SeriesUID string    `json:"series_uid"`
}

// writeNpy writes the voxels of v (int16 HU, z, y, x) as a NumPy .npy file
// at path, and its geometry as path+".json". This is where the volume
// meets gorgonia.org/tensor: the tensor wraps the voxels without copying
// and writes the array in NumPy's format, for researchers who go on in
// Python (numpy.load). The volume itself stays a plain slice (see the
// package doc of model/volume for why).
func writeNpy(path string, v *volume.Volume, seriesUID string) (err error) {
	g := v.Geometry()
	t := tensor.New(tensor.WithShape(g.Nz, g.Ny, g.Nx), tensor.WithBacking(v.Voxels()))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("npy: %s: %w", path, cerr)
		}
		if err != nil {
			os.Remove(path)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := t.WriteNpy(bw); err != nil {
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: writing %s: %w", path, err)
	}
	meta := npyGeometry{Shape: [3]int{g.Nz, g.Ny, g.Nx}, SpacingMM: g.Spacing, OriginMM: g.Origin,
		Direction: g.Direction, Units: "HU", SeriesUID: seriesUID}
	for k := 0; k < g.Nz; k++ {
		meta.ZMM = append(meta.ZMM, g.ZOf(k))
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	if err := os.WriteFile(path+".json", append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// loadForNpy decodes the whole series behind src for writeNpy.
func loadForNpy(ctx context.Context, src volume.Source) (*volume.Volume, error) {
	v, err := volume.Load(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("npy: decoding the series: %w", err)
	}
	return v, nil
}
