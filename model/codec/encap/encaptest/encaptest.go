// Package encaptest reads DICOM test files for the codec tests: just enough
// of the format (file meta, explicit or implicit VR little endian data sets,
// nested sequences) to find the image pixel module and the Pixel Data bytes,
// and the location of the shared test data. It is used by tests only.
package encaptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"sscscore/model/codec"
	"sscscore/model/codec/encap"
	"sscscore/model/shareddata"
)

// File is what a test needs from a DICOM file.
type File struct {
	TransferSyntax string
	Info           codec.FrameInfo
	NumFrames      int
	// PixelData is the value of (7FE0,0010): native pixel bytes, or for
	// encapsulated syntaxes the item sequence up to the end of the file.
	PixelData    []byte
	Encapsulated bool
	// ExtendedOffsets and ExtendedLengths are the raw values of (7FE0,0001)
	// and (7FE0,0002), if present.
	ExtendedOffsets, ExtendedLengths []byte
}

// Path joins the shared test data directory with a relative path
// (shareddata.Path: skipped when missing, failing with CI=true).
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	return shareddata.Path(tb, rel)
}

// Load reads a test data file (path relative to the test data directory),
// failing the test on error.
func Load(tb testing.TB, rel string) *File {
	tb.Helper()
	f, err := ReadFile(Path(tb, rel))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return f
}

// ReadFile parses a DICOM file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse parses the bytes of a DICOM file (with preamble and file meta).
func Parse(b []byte) (*File, error) {
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		return nil, errors.New("encaptest: no DICM preamble")
	}
	f := &File{NumFrames: 1, Info: codec.FrameInfo{SamplesPerPixel: 1}}
	p := &parser{b: b, pos: 132, explicit: true, f: f}
	// File meta: explicit VR little endian, group 0002.
	for p.pos+4 <= len(b) && binary.LittleEndian.Uint16(b[p.pos:]) == 2 {
		if err := p.element(true); err != nil {
			return nil, err
		}
	}
	switch f.TransferSyntax {
	case "1.2.840.10008.1.2":
		p.explicit = false
	case "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99":
		return nil, fmt.Errorf("encaptest: transfer syntax %s not supported", f.TransferSyntax)
	}
	for p.pos < len(b) {
		if err := p.element(true); err != nil {
			return nil, err
		}
		if f.PixelData != nil {
			break
		}
	}
	if f.PixelData == nil {
		return nil, errors.New("encaptest: no pixel data")
	}
	return f, nil
}

type parser struct {
	b        []byte
	pos      int
	explicit bool
	f        *File
}

var errTrunc = errors.New("encaptest: truncated data set")

// element reads one data element; top says whether it is at the top level
// (where the image pixel module is recorded).
func (p *parser) element(top bool) error {
	b := p.b
	if p.pos+8 > len(b) {
		return errTrunc
	}
	group := binary.LittleEndian.Uint16(b[p.pos:])
	elem := binary.LittleEndian.Uint16(b[p.pos+2:])
	tag := uint32(group)<<16 | uint32(elem)
	explicit := p.explicit || group == 2
	var vr string
	var length uint32
	if group == 0xFFFE {
		length = binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
	} else if explicit {
		vr = string(b[p.pos+4 : p.pos+6])
		switch vr {
		case "OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV":
			if p.pos+12 > len(b) {
				return errTrunc
			}
			length = binary.LittleEndian.Uint32(b[p.pos+8:])
			p.pos += 12
		default:
			length = uint32(binary.LittleEndian.Uint16(b[p.pos+6:]))
			p.pos += 8
		}
	} else {
		length = binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
	}
	if tag == 0x7FE00010 && top {
		if length == 0xFFFFFFFF {
			p.f.PixelData = b[p.pos:]
			p.f.Encapsulated = true
			return nil
		}
		if uint64(p.pos)+uint64(length) > uint64(len(b)) {
			return errTrunc
		}
		p.f.PixelData = b[p.pos : p.pos+int(length)]
		p.pos += int(length)
		return nil
	}
	if length == 0xFFFFFFFF {
		// Sequence (SQ, UN or implicit) of items with undefined length.
		save := p.explicit
		if vr == "UN" {
			p.explicit = false
		}
		err := p.sequence()
		p.explicit = save
		return err
	}
	if uint64(p.pos)+uint64(length) > uint64(len(b)) {
		return errTrunc
	}
	v := b[p.pos : p.pos+int(length)]
	p.pos += int(length)
	if !top {
		return nil
	}
	f := p.f
	u16 := func() int {
		if len(v) < 2 {
			return 0
		}
		return int(binary.LittleEndian.Uint16(v))
	}
	switch tag {
	case 0x00020010:
		f.TransferSyntax = strings.TrimRight(string(v), "\x00 ")
	case 0x00280002:
		f.Info.SamplesPerPixel = u16()
	case 0x00280008:
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimRight(string(v), "\x00")))
		if err == nil && n > 0 {
			f.NumFrames = n
		}
	case 0x00280010:
		f.Info.Rows = u16()
	case 0x00280011:
		f.Info.Columns = u16()
	case 0x00280100:
		f.Info.BitsAllocated = u16()
	case 0x00280101:
		f.Info.BitsStored = u16()
	case 0x00280103:
		f.Info.PixelRepresentation = u16()
	case 0x7FE00001:
		f.ExtendedOffsets = v
	case 0x7FE00002:
		f.ExtendedLengths = v
	}
	return nil
}

// sequence reads items until the sequence delimiter.
func (p *parser) sequence() error {
	b := p.b
	for {
		if p.pos+8 > len(b) {
			return errTrunc
		}
		tag := uint32(binary.LittleEndian.Uint16(b[p.pos:]))<<16 | uint32(binary.LittleEndian.Uint16(b[p.pos+2:]))
		length := binary.LittleEndian.Uint32(b[p.pos+4:])
		p.pos += 8
		switch tag {
		case 0xFFFEE0DD:
			return nil
		case 0xFFFEE000:
			if length != 0xFFFFFFFF {
				if uint64(p.pos)+uint64(length) > uint64(len(b)) {
					return errTrunc
				}
				p.pos += int(length)
				continue
			}
			for {
				if p.pos+8 > len(b) {
					return errTrunc
				}
				if binary.LittleEndian.Uint16(b[p.pos:]) == 0xFFFE && binary.LittleEndian.Uint16(b[p.pos+2:]) == 0xE00D {
					p.pos += 8
					break
				}
				if err := p.element(false); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("encaptest: unexpected tag %08X in sequence at byte %d", tag, p.pos-8)
		}
	}
}

// Frames splits the encapsulated pixel data into frames.
func (f *File) Frames() ([][]byte, error) {
	if !f.Encapsulated {
		return nil, errors.New("encaptest: pixel data is not encapsulated")
	}
	offsets, fragments, err := encap.Parse(f.PixelData)
	if err != nil {
		return nil, err
	}
	if len(f.ExtendedOffsets) > 0 {
		return encap.ExtendedFrames(fragments, f.ExtendedOffsets, f.ExtendedLengths)
	}
	return encap.Frames(fragments, offsets, f.NumFrames)
}

// NativeFrames returns the samples of native (uncompressed, little endian)
// pixel data, one slice per frame, interpreted as codec.Decoder documents
// (codec.FrameInfo.Interpret).
func (f *File) NativeFrames() ([][]int32, error) {
	if f.Encapsulated {
		return nil, errors.New("encaptest: pixel data is encapsulated")
	}
	n := f.Info.Len()
	bpp := f.Info.BitsAllocated / 8
	if bpp != 1 && bpp != 2 && bpp != 4 {
		return nil, fmt.Errorf("encaptest: BitsAllocated %d not supported", f.Info.BitsAllocated)
	}
	if len(f.PixelData) < n*bpp*f.NumFrames {
		return nil, fmt.Errorf("encaptest: pixel data has %d bytes, want %d", len(f.PixelData), n*bpp*f.NumFrames)
	}
	out := make([][]int32, f.NumFrames)
	for k := range out {
		fr := make([]int32, n)
		base := k * n * bpp
		for i := range fr {
			var v uint32
			switch bpp {
			case 1:
				v = uint32(f.PixelData[base+i])
			case 2:
				v = uint32(binary.LittleEndian.Uint16(f.PixelData[base+2*i:]))
			case 4:
				v = binary.LittleEndian.Uint32(f.PixelData[base+4*i:])
			}
			fr[i] = int32(v)
		}
		f.Info.Interpret(fr)
		out[k] = fr
	}
	return out, nil
}
