package ingest

import (
	"math/rand"
	"testing"

	"sscscore/model/volume"
)

// refHU is the plain definition le16ToHU (SIMD or not) must match.
func refHU(v uint16, img *imageFile, ic int32, c *huCounts) int16 {
	var s int32
	if img.pixRep == 1 {
		sh := uint(16 - img.bitsStored)
		s = int32(int16(v<<sh)) >> sh
	} else {
		s = int32(v & (1<<img.bitsStored - 1))
	}
	if img.hasPad && s >= img.padLo && s <= img.padHi {
		c.padding++
		return volume.Air
	}
	h := s + ic
	switch {
	case h < volume.Air:
		c.belowAir++
		return volume.Air
	case h >= 32767:
		c.clipped++
		return 32767
	}
	return int16(h)
}

func TestLE16ToHU(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, pixRep := range []int{0, 1} {
		for _, bits := range []int{12, 15, 16} {
			for _, ic := range []int32{-1024, 0, 1000, -40000, 32000} {
				for _, pad := range []bool{false, true} {
					img := &imageFile{pixRep: pixRep, bitsStored: bits, hasPad: pad, padLo: -2000, padHi: -2000}
					if pixRep == 0 {
						img.padLo, img.padHi = 0, 5
					}
					for _, n := range []int{0, 1, 7, 8, 31, 33, 1000, 70000} {
						raw := make([]byte, 2*n+1)[1:] // odd address: the copying path
						if n%2 == 0 {
							raw = make([]byte, 2*n)
						}
						for i := range raw {
							raw[i] = byte(rng.Intn(256))
						}
						if n > 3 { // make sure padding and extremes occur
							copy(raw, []byte{0x30, 0xF8, 0, 0, 0xFF, 0x7F, 0x00, 0x80})
						}
						var want huCounts
						wantHU := make([]int16, n)
						for i := range wantHU {
							wantHU[i] = refHU(uint16(raw[2*i])|uint16(raw[2*i+1])<<8, img, ic, &want)
						}
						got := make([]int16, n)
						c := le16ToHU(raw, got, img, ic)
						for i := range got {
							if got[i] != wantHU[i] {
								t.Fatalf("pixRep %d bits %d ic %d pad %v n %d: voxel %d = %d, want %d", pixRep, bits, ic, pad, n, i, got[i], wantHU[i])
							}
						}
						if c != want {
							t.Fatalf("pixRep %d bits %d ic %d pad %v n %d: counts %+v, want %+v", pixRep, bits, ic, pad, n, c, want)
						}
					}
				}
			}
		}
	}
}
