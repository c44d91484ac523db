package rle

import (
	"encoding/binary"
	"math/rand"
	"strings"
	"testing"

	"sscscore/model/codec"
)

// packBits encodes a byte plane with PackBits, mixing runs and literals.
func packBits(p []byte) []byte {
	var out []byte
	for i := 0; i < len(p); {
		j := i + 1
		for j < len(p) && j-i < 128 && p[j] == p[i] {
			j++
		}
		if j-i >= 2 {
			out = append(out, byte(int8(1-(j-i))), p[i])
			i = j
			continue
		}
		j = i + 1
		for j < len(p) && j-i < 128 && !(j+1 < len(p) && p[j] == p[j+1]) {
			j++
		}
		out = append(out, byte(j-i-1))
		out = append(out, p[i:j]...)
		i = j
	}
	return out
}

// encode builds an RLE frame from raw sample values.
func encode(vals []uint32, f codec.FrameInfo) []byte {
	spp := max(f.SamplesPerPixel, 1)
	bps := f.BitsAllocated / 8
	n := f.Rows * f.Columns
	var segs [][]byte
	for s := 0; s < spp; s++ {
		for b := 0; b < bps; b++ {
			shift := 8 * (bps - 1 - b)
			plane := make([]byte, n)
			for i := range plane {
				plane[i] = byte(vals[i*spp+s] >> shift)
			}
			segs = append(segs, packBits(plane))
		}
	}
	hdr := make([]byte, 64)
	binary.LittleEndian.PutUint32(hdr, uint32(len(segs)))
	off := 64
	for i, s := range segs {
		binary.LittleEndian.PutUint32(hdr[4+4*i:], uint32(off))
		off += len(s)
	}
	out := hdr
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	tests := []codec.FrameInfo{
		{Rows: 7, Columns: 9, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8},
		{Rows: 16, Columns: 33, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12},
		{Rows: 16, Columns: 33, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16, PixelRepresentation: 1},
		{Rows: 16, Columns: 16, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12, PixelRepresentation: 1},
		{Rows: 5, Columns: 300, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8},
		{Rows: 5, Columns: 30, SamplesPerPixel: 3, BitsAllocated: 16, BitsStored: 16},
		{Rows: 4, Columns: 40, SamplesPerPixel: 1, BitsAllocated: 32, BitsStored: 32, PixelRepresentation: 1},
		{Rows: 4, Columns: 40, SamplesPerPixel: 1, BitsAllocated: 32, BitsStored: 20},
	}
	for _, f := range tests {
		vals := make([]uint32, f.Len())
		for i := range vals {
			if rng.Intn(3) == 0 && i > 0 {
				vals[i] = vals[i-1] // runs
			} else {
				vals[i] = rng.Uint32()
			}
			if f.BitsAllocated < 32 {
				vals[i] &= 1<<f.BitsAllocated - 1
			}
		}
		dst := make([]int32, f.Len())
		if err := Decode(encode(vals, f), f, dst); err != nil {
			t.Fatalf("%+v: got error %v, want nil", f, err)
		}
		for i, v := range vals {
			var want int32
			switch {
			case f.BitsStored == 32:
				want = int32(v)
			case f.PixelRepresentation == 1:
				s := 32 - f.BitsStored
				want = int32(v<<s) >> s
			default:
				want = int32(v & (1<<f.BitsStored - 1))
			}
			if dst[i] != want {
				t.Fatalf("%+v: sample %d = %d, want %d", f, i, dst[i], want)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	f := codec.FrameInfo{Rows: 4, Columns: 4, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 16}
	good := encode(make([]uint32, 16), f)
	short := append([]byte(nil), good...)
	short = short[:len(short)-1]
	badCount := append([]byte(nil), good...)
	badCount[0] = 3
	badOff := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(badOff[8:], 1<<30)
	tests := []struct {
		name  string
		frame []byte
		f     codec.FrameInfo
		err   string
	}{
		{"short header", good[:10], f, "shorter than the 64-byte header"},
		{"segment count", badCount, f, "header has 3 segments"},
		{"segment offset", badOff, f, "outside"},
		{"short segment", short, f, "overruns the segment"},
		{"empty segment", good[:len(good)-2], f, "decodes to 0 bytes"},
		{"bits", good, codec.FrameInfo{Rows: 4, Columns: 4, BitsAllocated: 12, BitsStored: 12}, "bits allocated"},
		{"size", good, codec.FrameInfo{Rows: 0, Columns: 4, BitsAllocated: 16, BitsStored: 12}, "image size"},
		{"samples", good, codec.FrameInfo{Rows: 4, Columns: 4, SamplesPerPixel: 2, BitsAllocated: 16, BitsStored: 12}, "samples per pixel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Decode(tt.frame, tt.f, make([]int32, 64))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
	if err := Decode(good, f, make([]int32, 3)); err == nil {
		t.Fatalf("small destination accepted: got nil error, want an error")
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := codec.Lookup(codec.RLELossless); !ok {
		t.Fatal("Lookup(RLELossless): got no decoder, want one registered")
	}
}
