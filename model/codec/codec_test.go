package codec

import (
	"slices"
	"testing"
)

// TestInterpret: raw samples are sign-extended from BitsStored when
// PixelRepresentation is 1, masked to it otherwise, and left alone when
// BitsStored is outside 1..31.
func TestInterpret(t *testing.T) {
	raw := []int32{0, 0x7FF, 0x800, 0xFFF, 0x1FFF, -1}
	for _, c := range []struct {
		name       string
		bits, prep int
		want       []int32
	}{
		{"12-bit unsigned", 12, 0, []int32{0, 0x7FF, 0x800, 0xFFF, 0xFFF, 0xFFF}},
		{"12-bit signed", 12, 1, []int32{0, 2047, -2048, -1, -1, -1}},
		{"16-bit signed", 16, 1, []int32{0, 0x7FF, 0x800, 0xFFF, 0x1FFF, -1}},
		{"1-bit unsigned", 1, 0, []int32{0, 1, 0, 1, 1, 1}},
		{"32 bits", 32, 1, raw},
		{"no bits stored", 0, 0, raw},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := slices.Clone(raw)
			FrameInfo{BitsStored: c.bits, PixelRepresentation: c.prep}.Interpret(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}
