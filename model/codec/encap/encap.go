// Package encap splits encapsulated DICOM Pixel Data into frames.
//
// Encapsulated Pixel Data (PS3.5 A.4) is the value of (7FE0,0010) with
// undefined length: a sequence of items, the first of which is the Basic
// Offset Table (possibly empty), the others fragments of compressed
// codestreams, closed by a Sequence Delimitation Item (FFFE,E0DD). One frame
// may span several fragments. Parse reads the item sequence; Frames groups
// fragments into frames using the Basic Offset Table when there is one, and
// the codestream markers (JPEG, JPEG-LS, JPEG 2000) otherwise;
// ExtendedFrames uses the Extended Offset Table (7FE0,0001)/(7FE0,0002).
package encap

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

const (
	tagItem          = 0xFFFEE000
	tagItemDelim     = 0xFFFEE00D
	tagSequenceDelim = 0xFFFEE0DD
	undefinedLength  = 0xFFFFFFFF
)

// ErrNoFragments is returned when the Pixel Data holds an offset table but
// no fragment.
var ErrNoFragments error = FormatError("no fragments in encapsulated pixel data")

// Parse reads the item sequence of encapsulated Pixel Data. data starts right
// after the (7FE0,0010) element header (tag, VR, reserved bytes and the
// undefined length) and may run to the end of the file: parsing stops at the
// Sequence Delimitation Item, which is recognised only where an item header is
// expected, never by scanning the fragment bytes. A missing delimiter at the
// end of data is tolerated.
//
// offsets is the Basic Offset Table (empty when the first item is empty);
// fragments are the values of the following items, sub-slices of data.
func Parse(data []byte) (offsets []uint32, fragments [][]byte, err error) {
	pos := 0
	first := true
	for {
		if pos == len(data) {
			break // tolerate a missing sequence delimiter at EOF
		}
		if len(data)-pos < 8 {
			return nil, nil, FormatError(fmt.Sprintf("truncated item header at byte %d (%d bytes left)", pos, len(data)-pos))
		}
		tag := uint32(binary.LittleEndian.Uint16(data[pos:]))<<16 | uint32(binary.LittleEndian.Uint16(data[pos+2:]))
		length := binary.LittleEndian.Uint32(data[pos+4:])
		if tag == tagSequenceDelim {
			break
		}
		if tag != tagItem {
			return nil, nil, FormatError(fmt.Sprintf("expected item tag (FFFE,E000) at byte %d, found (%04X,%04X)", pos, tag>>16, tag&0xFFFF))
		}
		if length == undefinedLength {
			return nil, nil, FormatError(fmt.Sprintf("item with undefined length at byte %d", pos))
		}
		start := pos + 8
		if uint64(length) > uint64(len(data)-start) {
			return nil, nil, FormatError(fmt.Sprintf("item at byte %d has length %d but only %d bytes remain", pos, length, len(data)-start))
		}
		value := data[start : start+int(length)]
		pos = start + int(length)
		if first {
			first = false
			if length%4 != 0 {
				return nil, nil, FormatError(fmt.Sprintf("basic offset table length %d is not a multiple of 4", length))
			}
			if length > 0 {
				offsets = make([]uint32, length/4)
				for i := range offsets {
					offsets[i] = binary.LittleEndian.Uint32(value[4*i:])
				}
			}
			continue
		}
		fragments = append(fragments, value)
	}
	if first {
		return nil, nil, FormatError("no basic offset table item")
	}
	return offsets, fragments, nil
}

// Frames groups fragments into numFrames frames, each the concatenation of
// its fragments (a frame made of one fragment aliases it).
//
// With a Basic Offset Table (offsets non-empty) the table decides; it must
// point at fragment starts and have numFrames entries (a table that does not
// is ignored when the rules below still find numFrames frames). Without one: a single frame is all the
// fragments; as many fragments as frames is one fragment per frame;
// otherwise frame boundaries are found from the codestream markers: a frame
// starts with a fragment that begins with a JPEG/JPEG-LS SOI (FFD8), a JPEG
// 2000 SOC+SIZ (FF4F FF51) or a JP2 signature box, right after a fragment
// that ends with EOI/EOC (FFD9, possibly followed by one padding byte).
func Frames(fragments [][]byte, offsets []uint32, numFrames int) ([][]byte, error) {
	ranges, err := FrameRanges(fragments, offsets, numFrames)
	if err != nil {
		return nil, err
	}
	return gather(fragments, ranges), nil
}

// A Range is a run of consecutive fragments, fragments[First:End], that
// make up one frame.
type Range struct{ First, End int }

// FrameRanges is Frames returning, instead of the frames' bytes, the
// fragments each frame is made of (for readers that fetch a frame's
// fragments from a file only when it is decoded).
func FrameRanges(fragments [][]byte, offsets []uint32, numFrames int) ([]Range, error) {
	if numFrames < 1 {
		return nil, FormatError(fmt.Sprintf("invalid number of frames %d", numFrames))
	}
	if len(fragments) == 0 {
		return nil, ErrNoFragments
	}
	if len(offsets) > 0 {
		off := make([]uint64, len(offsets))
		for i, o := range offsets {
			off[i] = uint64(o)
		}
		ranges, err := fromOffsets(fragments, off)
		if err == nil && len(ranges) != numFrames {
			err = FormatError(fmt.Sprintf("basic offset table has %d entries for %d frames", len(off), numFrames))
		}
		if err == nil {
			return ranges, nil
		}
		// A broken table: try without it, but report the table's fault.
		if ranges, err2 := withoutTable(fragments, numFrames); err2 == nil {
			return ranges, nil
		}
		return nil, err
	}
	return withoutTable(fragments, numFrames)
}

func withoutTable(fragments [][]byte, numFrames int) ([]Range, error) {
	switch {
	case numFrames == 1:
		return []Range{{0, len(fragments)}}, nil
	case len(fragments) == numFrames:
		ranges := make([]Range, numFrames)
		for i := range ranges {
			ranges[i] = Range{i, i + 1}
		}
		return ranges, nil
	case len(fragments) < numFrames:
		return nil, FormatError(fmt.Sprintf("%d fragments for %d frames", len(fragments), numFrames))
	}
	return byMarkers(fragments, numFrames)
}

func gather(fragments [][]byte, ranges []Range) [][]byte {
	frames := make([][]byte, len(ranges))
	for i, r := range ranges {
		frames[i] = concat(fragments[r.First:r.End])
	}
	return frames
}

// ExtendedFrames groups fragments into frames using the Extended Offset Table
// (7FE0,0001) and Extended Offset Table Lengths (7FE0,0002), given as their
// raw little-endian 64-bit values. Offsets count from the first byte of the
// first fragment's item header; a frame must start at a fragment start.
func ExtendedFrames(fragments [][]byte, offsetTable, lengthTable []byte) ([][]byte, error) {
	if len(offsetTable)%8 != 0 || len(lengthTable)%8 != 0 {
		return nil, FormatError(fmt.Sprintf("extended offset table sizes %d and %d are not multiples of 8", len(offsetTable), len(lengthTable)))
	}
	if len(offsetTable) != len(lengthTable) {
		return nil, FormatError(fmt.Sprintf("extended offset table has %d entries but lengths table %d", len(offsetTable)/8, len(lengthTable)/8))
	}
	if len(offsetTable) == 0 {
		return nil, FormatError("empty extended offset table")
	}
	if len(fragments) == 0 {
		return nil, ErrNoFragments
	}
	n := len(offsetTable) / 8
	off := make([]uint64, n)
	for i := range off {
		off[i] = binary.LittleEndian.Uint64(offsetTable[8*i:])
	}
	ranges, err := fromOffsets(fragments, off)
	if err != nil {
		return nil, err
	}
	frames := gather(fragments, ranges)
	for i := range frames {
		l := binary.LittleEndian.Uint64(lengthTable[8*i:])
		if l > uint64(len(frames[i])) {
			return nil, FormatError(fmt.Sprintf("frame %d length %d exceeds its %d fragment bytes", i, l, len(frames[i])))
		}
		frames[i] = frames[i][:l]
	}
	return frames, nil
}

// fromOffsets finds the fragments of each frame from offsets relative to
// the first fragment's item header; a frame runs to the next offset, the
// last one to the last fragment.
func fromOffsets(fragments [][]byte, off []uint64) ([]Range, error) {
	// start[i]: position of fragment i's item header.
	start := make([]uint64, len(fragments)+1)
	for i, f := range fragments {
		start[i+1] = start[i] + 8 + uint64(len(f))
	}
	idx := func(o uint64) int {
		lo, hi := 0, len(fragments)
		for lo < hi {
			m := (lo + hi) / 2
			if start[m] < o {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(fragments) && start[lo] == o {
			return lo
		}
		return -1
	}
	for i := 1; i < len(off); i++ {
		if off[i] <= off[i-1] {
			return nil, FormatError(fmt.Sprintf("offset table entry %d (%d) does not increase", i, off[i]))
		}
	}
	ranges := make([]Range, len(off))
	for i, o := range off {
		a := idx(o)
		if a < 0 {
			return nil, FormatError(fmt.Sprintf("offset table entry %d (%d) does not point at a fragment", i, o))
		}
		ranges[i].First = a
		if i > 0 {
			ranges[i-1].End = a
		}
	}
	ranges[len(ranges)-1].End = len(fragments)
	return ranges, nil
}

var (
	jp2Signature = []byte{0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20}
	j2kStart     = []byte{0xFF, 0x4F, 0xFF, 0x51}
	jpegStart    = []byte{0xFF, 0xD8}
)

// startsFrame reports whether a fragment begins a JPEG, JPEG-LS, JPEG 2000 or
// JP2 codestream.
func startsFrame(f []byte) bool {
	return bytes.HasPrefix(f, jpegStart) || bytes.HasPrefix(f, j2kStart) || bytes.HasPrefix(f, jp2Signature)
}

// endsFrame reports whether a fragment ends with an EOI/EOC marker, allowing
// one trailing padding byte (fragments have even length). A JP2 file ends
// with the last box, which for a codestream box is the EOC marker too.
func endsFrame(f []byte) bool {
	n := len(f)
	if n >= 2 && f[n-2] == 0xFF && f[n-1] == 0xD9 {
		return true
	}
	return n >= 3 && f[n-3] == 0xFF && f[n-2] == 0xD9 && f[n-1] == 0
}

func byMarkers(fragments [][]byte, numFrames int) ([]Range, error) {
	if !startsFrame(fragments[0]) {
		return nil, FormatError(fmt.Sprintf("%d fragments for %d frames, no offset table, and the first fragment starts with no known codestream marker", len(fragments), numFrames))
	}
	var ranges []Range
	first := 0
	for i := 1; i <= len(fragments); i++ {
		if i < len(fragments) && !(endsFrame(fragments[i-1]) && startsFrame(fragments[i])) {
			continue
		}
		ranges = append(ranges, Range{first, i})
		first = i
	}
	if len(ranges) != numFrames {
		return nil, FormatError(fmt.Sprintf("found %d codestreams in %d fragments but the header says %d frames", len(ranges), len(fragments), numFrames))
	}
	return ranges, nil
}

func concat(frags [][]byte) []byte {
	if len(frags) == 1 {
		return frags[0]
	}
	n := 0
	for _, f := range frags {
		n += len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range frags {
		out = append(out, f...)
	}
	return out
}

// Split parses encapsulated Pixel Data and returns its frames: Parse followed
// by Frames.
func Split(data []byte, numFrames int) ([][]byte, error) {
	offsets, fragments, err := Parse(data)
	if err != nil {
		return nil, err
	}
	return Frames(fragments, offsets, numFrames)
}
