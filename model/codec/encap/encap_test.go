package encap

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// items builds an item sequence: a BOT with the given offsets, the fragments,
// and a sequence delimiter when delim is true.
func items(offsets []uint32, frags [][]byte, delim bool) []byte {
	var b []byte
	item := func(v []byte) {
		b = binary.LittleEndian.AppendUint16(b, 0xFFFE)
		b = binary.LittleEndian.AppendUint16(b, 0xE000)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	var bot []byte
	for _, o := range offsets {
		bot = binary.LittleEndian.AppendUint32(bot, o)
	}
	item(bot)
	for _, f := range frags {
		item(f)
	}
	if delim {
		b = append(b, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0)
	}
	return b
}

func jpegFrame(payload ...byte) []byte {
	f := append([]byte{0xFF, 0xD8}, payload...)
	return append(f, 0xFF, 0xD9)
}

func TestParse(t *testing.T) {
	delimInside := []byte{0xFF, 0x4F, 0xFF, 0x51, 0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0, 0xFF, 0xD9}
	tests := []struct {
		name    string
		data    []byte
		offsets []uint32
		frags   [][]byte
		err     string
	}{
		{"empty BOT", items(nil, [][]byte{{1, 2}, {3, 4}}, true), nil, [][]byte{{1, 2}, {3, 4}}, ""},
		{"BOT", items([]uint32{0, 10}, [][]byte{{1, 2}, {3, 4}}, true), []uint32{0, 10}, [][]byte{{1, 2}, {3, 4}}, ""},
		{"no delimiter", items(nil, [][]byte{{1, 2}}, false), nil, [][]byte{{1, 2}}, ""},
		{"trailing bytes after delimiter", append(items(nil, [][]byte{{1, 2}}, true), 9, 9, 9), nil, [][]byte{{1, 2}}, ""},
		{"delimiter bytes inside a fragment", items(nil, [][]byte{delimInside}, true), nil, [][]byte{delimInside}, ""},
		{"empty", nil, nil, nil, "no basic offset table"},
		{"truncated header", items(nil, nil, false)[:5], nil, nil, "truncated item header"},
		{"overflowing length", []byte{0xFE, 0xFF, 0x00, 0xE0, 0xF0, 0xFF, 0xFF, 0xFF, 1, 2}, nil, nil, "only 2 bytes remain"},
		{"undefined length", []byte{0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF}, nil, nil, "undefined length"},
		{"wrong tag", []byte{0x08, 0x00, 0x00, 0xE0, 0, 0, 0, 0}, nil, nil, "expected item tag"},
		{"odd BOT", items(nil, nil, false)[:0:0], nil, nil, "no basic offset table"},
		{"BOT not multiple of 4", []byte{0xFE, 0xFF, 0x00, 0xE0, 3, 0, 0, 0, 1, 2, 3}, nil, nil, "multiple of 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			off, frags, err := Parse(tt.data)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if !equalU32(off, tt.offsets) || !equalFrags(frags, tt.frags) {
				t.Fatalf("got %v %v, want %v %v", off, frags, tt.offsets, tt.frags)
			}
		})
	}
}

func TestFrames(t *testing.T) {
	a := jpegFrame(1, 2, 3, 4)       // 8 bytes
	b := jpegFrame(5, 6, 7, 8, 9, 0) // 10 bytes
	j2k := []byte{0xFF, 0x4F, 0xFF, 0x51, 1, 2, 0xFF, 0xD9}
	padded := append(jpegFrame(1, 2, 3), 0) // EOI then padding
	tests := []struct {
		name    string
		frags   [][]byte
		offsets []uint32
		n       int
		want    [][]byte
		err     string
	}{
		{"one frame, all fragments", [][]byte{a[:3], a[3:]}, nil, 1, [][]byte{a}, ""},
		{"one fragment per frame", [][]byte{a, b}, nil, 2, [][]byte{a, b}, ""},
		{"BOT", [][]byte{a[:3], a[3:], b[:4], b[4:]}, []uint32{0, 8 + 3 + 8 + 5}, 2, [][]byte{a, b}, ""},
		{"markers", [][]byte{a[:3], a[3:], b[:4], b[4:6], b[6:]}, nil, 2, [][]byte{a, b}, ""},
		{"markers with padding", [][]byte{padded[:2], padded[2:], a[:4], a[4:]}, nil, 2, [][]byte{padded, a}, ""},
		{"markers J2K", [][]byte{j2k[:4], j2k[4:], j2k[:5], j2k[5:]}, nil, 2, [][]byte{j2k, j2k}, ""},
		// The second fragment of frame 1 starts with FFD8 by chance, but the
		// previous fragment does not end with EOI.
		{"SOI inside frame", [][]byte{{0xFF, 0xD8, 1, 2}, {0xFF, 0xD8, 0xFF, 0xD9}, a[:4], a[4:]}, nil, 2, [][]byte{{0xFF, 0xD8, 1, 2, 0xFF, 0xD8, 0xFF, 0xD9}, a}, ""},
		{"bad BOT falls back", [][]byte{a, b}, []uint32{0, 5}, 2, [][]byte{a, b}, ""},
		{"bad BOT no fallback", [][]byte{{1, 2}, {3}, {4}}, []uint32{0, 5}, 2, nil, "does not point at a fragment"},
		{"BOT count", [][]byte{{1, 2}, {3}, {4}}, []uint32{0}, 2, nil, "1 entries for 2 frames"},
		{"decreasing BOT", [][]byte{{1, 2}, {3}, {4}}, []uint32{10, 0}, 2, nil, "does not increase"},
		{"decreasing BOT falls back", [][]byte{a, b}, []uint32{16, 0}, 2, [][]byte{a, b}, ""},
		{"BOT not at zero", [][]byte{{1, 2}, {3}, {4}}, []uint32{10, 19}, 2, [][]byte{{3}, {4}}, ""},
		{"too few fragments", [][]byte{a}, nil, 2, nil, "1 fragments for 2 frames"},
		{"no marker", [][]byte{{1, 2}, {3}, {4}}, nil, 2, nil, "no known codestream marker"},
		{"marker count mismatch", [][]byte{a[:3], a[3:], b[:3], b[3:]}, nil, 3, nil, "2 codestreams"},
		{"no fragments", nil, nil, 1, nil, "no fragments"},
		{"zero frames", [][]byte{a}, nil, 0, nil, "invalid number of frames"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Frames(tt.frags, tt.offsets, tt.n)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			if !equalFrags(got, tt.want) {
				t.Fatalf("got %x, want %x", got, tt.want)
			}
			ranges, err := FrameRanges(tt.frags, tt.offsets, tt.n)
			if err != nil {
				t.Fatalf("FrameRanges: got error %v, want nil", err)
			}
			for i, r := range ranges {
				if r.First >= r.End || !bytes.Equal(bytes.Join(tt.frags[r.First:r.End], nil), tt.want[i]) {
					t.Errorf("range %d = %v: got other bytes, want frame %d", i, r, i)
				}
			}
		})
	}
}

func TestExtendedFrames(t *testing.T) {
	a := jpegFrame(1, 2, 3, 4)
	b := jpegFrame(5, 6, 7, 8, 9, 0)
	u64 := func(v ...uint64) []byte {
		var out []byte
		for _, x := range v {
			out = binary.LittleEndian.AppendUint64(out, x)
		}
		return out
	}
	frags := [][]byte{a[:3], a[3:], append(b, 0, 0)}
	got, err := ExtendedFrames(frags, u64(0, 8+3+8+5), u64(8, 10))
	if err != nil {
		t.Fatalf("ExtendedFrames: got error %v, want nil", err)
	}
	if !equalFrags(got, [][]byte{a, b}) {
		t.Fatalf("got %x, want %x", got, [][]byte{a, b})
	}
	for _, c := range []struct {
		off, lens []byte
		err       string
	}{
		{u64(0, 1), u64(8, 10), "does not point"},
		{u64(0), u64(8, 10), "entries"},
		{u64(0, 24), u64(8, 100), "exceeds"},
		{nil, nil, "empty"},
		{[]byte{1}, u64(1), "multiples of 8"},
	} {
		if _, err := ExtendedFrames(frags, c.off, c.lens); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ExtendedFrames(%x, %x) err = %v, want %q", c.off, c.lens, err, c.err)
		}
	}
}

func TestSplit(t *testing.T) {
	a := jpegFrame(1, 2)
	got, err := Split(items(nil, [][]byte{a[:2], a[2:]}, true), 1)
	if err != nil || !equalFrags(got, [][]byte{a}) {
		t.Fatalf("Split = %x, %v; want %x, nil", got, err, [][]byte{a})
	}
	if _, err := Split([]byte{1}, 1); err == nil {
		t.Fatalf("Split of garbage succeeded: got nil error, want an error")
	}
}

func FuzzSplit(f *testing.F) {
	a := jpegFrame(1, 2, 3, 4)
	b := jpegFrame(5, 6, 7, 8, 9, 0)
	f.Add(items(nil, [][]byte{a[:3], a[3:], b[:4], b[4:]}, true), uint8(2))
	f.Add(items([]uint32{0, 19}, [][]byte{a[:3], a[3:], b}, false), uint8(2))
	f.Add(items(nil, [][]byte{a}, true), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, n uint8) {
		frames, err := Split(data, int(n))
		if err == nil && len(frames) != int(n) {
			t.Fatalf("%d frames, want %d", len(frames), n)
		}
	})
}

func equalU32(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalFrags(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
