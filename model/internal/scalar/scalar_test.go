package scalar

import "testing"

func TestHash64(t *testing.T) {
	// splitmix64's first outputs from state 0 (the reference sequence).
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := Hash64(uint64(i) * 0x9e3779b97f4a7c15); got != want {
			t.Errorf("Hash64 of state %d: got %#x, want %#x", i, got, want)
		}
	}
}

func TestUnit(t *testing.T) {
	for _, c := range []struct {
		h    uint64
		want float64
	}{{0, 0}, {1 << 63, 0.5}, {^uint64(0), 1 - 1.0/(1<<53)}} {
		if got := Unit(c.h); got != c.want {
			t.Errorf("Unit(%#x): got %v, want %v", c.h, got, c.want)
		}
	}
	if a, b := CellHash(1, 2, 3, 4), CellHash(1, 2, 3, 5); a == b {
		t.Errorf("got the same hash %#x for neighbouring cells, want different ones", a)
	}
}

func TestClampLerp(t *testing.T) {
	for _, c := range []struct{ got, want float64 }{
		{Clamp(-1, 0, 1), 0}, {Clamp(2, 0, 1), 1}, {Clamp(0.25, 0, 1), 0.25},
		{Lerp(2, 4, 0), 2}, {Lerp(2, 4, 1), 4}, {Lerp(2, 4, 0.5), 3},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
}
