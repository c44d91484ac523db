package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"sscscore/model/volume"
)

// HUStats summarises a volume so that two exports of the same images can be
// compared: the mean HU inside and outside the body and a digest of the
// voxels.
type HUStats struct {
	// MeanBody and MeanOutside are the mean HU of the voxels inside and
	// outside the body mask: per slice, the largest 4-connected region
	// above -500 HU with its holes (the lungs, the airways) filled.
	MeanBody    float64 `json:"mean_body"`
	MeanOutside float64 `json:"mean_outside"`
	// BodyVoxels and OutsideVoxels count the voxels of each part.
	BodyVoxels    int64 `json:"body_voxels"`
	OutsideVoxels int64 `json:"outside_voxels"`
	// SHA256 is the hex SHA-256 of the int16 voxels, little endian, in
	// z, y, x order.
	SHA256 string `json:"sha256"`
}

// bodyThreshold separates body (soft tissue, bone, fat) from air.
const bodyThreshold = -500

// ComputeHUStats reads every slice of src once (a lazy volume stays lazy)
// and returns its statistics.
func ComputeHUStats(ctx context.Context, src volume.Source) (HUStats, error) {
	g := src.Geometry()
	n := g.SliceLen()
	slice := make([]int16, n)
	mask := make([]bool, n)
	stack := make([]int32, 0, 1024)
	label := make([]int32, n)
	raw := make([]byte, 2*n)
	h := sha256.New()
	var st HUStats
	var sumBody, sumOut float64
	for k := 0; k < g.Nz; k++ {
		if err := src.Slice(ctx, k, slice); err != nil {
			return st, fmt.Errorf("slice %d: %w", k, err)
		}
		for i, v := range slice {
			binary.LittleEndian.PutUint16(raw[2*i:], uint16(v))
		}
		h.Write(raw)
		stack = bodyMask(slice, g.Ny, g.Nx, mask, label, stack)
		for i, v := range slice {
			if mask[i] {
				sumBody += float64(v)
				st.BodyVoxels++
			} else {
				sumOut += float64(v)
				st.OutsideVoxels++
			}
		}
	}
	if st.BodyVoxels > 0 {
		st.MeanBody = sumBody / float64(st.BodyVoxels)
	}
	if st.OutsideVoxels > 0 {
		st.MeanOutside = sumOut / float64(st.OutsideVoxels)
	}
	st.SHA256 = hex.EncodeToString(h.Sum(nil))
	return st, nil
}

// bodyMask sets mask to the body of one slice: the largest 4-connected
// component above bodyThreshold, with every region it encloses filled. label
// and stack are scratch space.
func bodyMask(p []int16, ny, nx int, mask []bool, label []int32, stack []int32) []int32 {
	n := ny * nx
	for i := range label[:n] {
		label[i] = 0
	}
	// fill labels the 4-connected region of seed whose pixels satisfy
	// label == 0 && (above == (p > bodyThreshold) or any when !useP).
	fill := func(seed int, lab int32, useP bool) int {
		size := 0
		stack = append(stack[:0], int32(seed))
		label[seed] = lab
		ok := func(j int) bool { return label[j] == 0 && (!useP || p[j] > bodyThreshold) }
		for len(stack) > 0 {
			i := int(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
			size++
			x := i % nx
			if i >= nx && ok(i-nx) {
				label[i-nx] = lab
				stack = append(stack, int32(i-nx))
			}
			if i < n-nx && ok(i+nx) {
				label[i+nx] = lab
				stack = append(stack, int32(i+nx))
			}
			if x > 0 && ok(i-1) {
				label[i-1] = lab
				stack = append(stack, int32(i-1))
			}
			if x < nx-1 && ok(i+1) {
				label[i+1] = lab
				stack = append(stack, int32(i+1))
			}
		}
		return size
	}
	best, bestSize := int32(0), 0
	next := int32(1)
	for i := 0; i < n; i++ {
		if label[i] == 0 && p[i] > bodyThreshold {
			if s := fill(i, next, true); s > bestSize {
				best, bestSize = next, s
			}
			next++
		}
	}
	if bestSize == 0 {
		for i := range mask[:n] {
			mask[i] = false
		}
		return stack
	}
	// Keep only the body, then flood the outside from the border.
	for i := range label[:n] {
		if label[i] == best {
			label[i] = 1
		} else {
			label[i] = 0
		}
	}
	const outside = 2
	for i := 0; i < n; i++ {
		y, x := i/nx, i%nx
		if (y == 0 || y == ny-1 || x == 0 || x == nx-1) && label[i] == 0 {
			fill(i, outside, false)
		}
	}
	for i := range mask[:n] {
		mask[i] = label[i] != outside
	}
	return stack
}
