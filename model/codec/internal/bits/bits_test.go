package bits

import "testing"

// TestReader: the data bytes each stuffing yields before the marker, and
// the zero bits fed past it (counted by Overrun).
func TestReader(t *testing.T) {
	for _, c := range []struct {
		name     string
		stuffing Stuffing
		data     []byte
		want     []int32 // bytes read, 8 bits at a time
		overrun  bool    // after reading want
	}{
		{"T.81 stuffed 0xFF", ZeroByte, []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9}, []int32{0x12, 0xFF, 0x34}, false},
		{"T.81 past the marker", ZeroByte, []byte{0x12, 0xFF, 0xD0, 0x34}, []int32{0x12, 0, 0}, true},
		{"T.81 0xFF at the end", ZeroByte, []byte{0x12, 0xFF}, []int32{0x12, 0}, true},
		{"T.81 long run", ZeroByte, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false},
		// 0xFF then 0x7F: the 8 bits 0xFF and the 7 bits 1111111, read as
		// 0xFF, 0xFE (7 ones and the first bit of the next byte, 0).
		{"T.87 bit stuffing", ZeroBit, []byte{0xFF, 0x7F, 0x00, 0xFF, 0xD9}, []int32{0xFF, 0xFE}, false},
		{"T.87 past the marker", ZeroBit, []byte{0x12, 0xFF, 0x80}, []int32{0x12, 0}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &Reader{Data: c.data, Stuffing: c.stuffing}
			for i, w := range c.want {
				if r.N < 8 {
					r.Fill()
				}
				if got := r.Take(8); got != w {
					t.Fatalf("byte %d: got %#x, want %#x", i, got, w)
				}
			}
			if got := r.Overrun(); got != c.overrun {
				t.Errorf("got Overrun() = %v, want %v", got, c.overrun)
			}
		})
	}
}

// TestReset: Reset drops the bits held and reads on from the position.
func TestReset(t *testing.T) {
	r := &Reader{Data: []byte{0xAA, 0xFF, 0xD0, 0x55}}
	r.Fill()
	r.Reset(3)
	r.Fill()
	if got := r.Take(8); got != 0x55 || r.Overrun() {
		t.Errorf("got %#x (overrun %v), want 0x55 within the data", got, r.Overrun())
	}
}
