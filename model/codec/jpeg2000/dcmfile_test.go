package jpeg2000

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A minimal DICOM reader for the tests: it walks little-endian data sets
// (explicit or implicit VR, nested sequences and VR UN of undefined length)
// and returns the image pixel module and the pixel data, native or as
// encapsulated fragments. It exists so that the tests need no DICOM
// library (github.com/suyashkumar/dicom panics on some corpus files).

type dcmFile struct {
	ts                        string
	rows, cols, spp, frames   int
	ba, bs, pr                int
	native                    []byte
	frags                     [][]byte
	bot                       []uint32
	encapsulated, pixelsFound bool
}

var errDcm = errors.New("dcm")

type dcmReader struct {
	b   []byte
	pos int
	f   *dcmFile
}

func readDICOM(path string) (*dcmFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := &dcmReader{b: b, f: &dcmFile{spp: 1, frames: 1}}
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		return nil, fmt.Errorf("%s: no DICM preamble", path)
	}
	r.pos = 132
	// File meta: explicit VR little endian, group 2.
	for r.pos+4 <= len(b) && binary.LittleEndian.Uint16(b[r.pos:]) == 2 {
		if err := r.element(false, 0); err != nil {
			return nil, err
		}
	}
	implicit := r.f.ts == "1.2.840.10008.1.2"
	if r.f.ts == "1.2.840.10008.1.2.2" || r.f.ts == "1.2.840.10008.1.2.1.99" {
		return nil, fmt.Errorf("%s: transfer syntax %s not handled by the test reader", path, r.f.ts)
	}
	for r.pos < len(b) {
		if err := r.element(implicit, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if r.f.pixelsFound {
			break
		}
	}
	return r.f, nil
}

func (r *dcmReader) u16(at int) int { return int(binary.LittleEndian.Uint16(r.b[at:])) }
func (r *dcmReader) u32(at int) uint32 {
	return binary.LittleEndian.Uint32(r.b[at:])
}

var longVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true, "OW": true,
	"SQ": true, "UC": true, "UN": true, "UR": true, "UT": true, "SV": true, "UV": true}

// element reads one data element at r.pos.
func (r *dcmReader) element(implicit bool, depth int) error {
	if r.pos+8 > len(r.b) {
		return fmt.Errorf("%w: truncated element at %d", errDcm, r.pos)
	}
	group, elem := r.u16(r.pos), r.u16(r.pos+2)
	tag := uint32(group)<<16 | uint32(elem)
	var vr string
	var length uint32
	if implicit || group == 0xFFFE {
		length = r.u32(r.pos + 4)
		r.pos += 8
	} else {
		vr = string(r.b[r.pos+4 : r.pos+6])
		if longVR[vr] {
			if r.pos+12 > len(r.b) {
				return fmt.Errorf("%w: truncated element", errDcm)
			}
			length = r.u32(r.pos + 8)
			r.pos += 12
		} else {
			length = uint32(r.u16(r.pos + 6))
			r.pos += 8
		}
	}
	if tag == 0x7FE00010 && depth == 0 {
		r.f.pixelsFound = true
		if length == 0xFFFFFFFF {
			r.f.encapsulated = true
			return r.fragments()
		}
		end := min(r.pos+int(length), len(r.b))
		r.f.native = r.b[r.pos:end]
		r.pos = end
		return nil
	}
	if length == 0xFFFFFFFF {
		// Sequence (SQ, or UN holding implicit VR items).
		inner := implicit || vr == "UN"
		return r.skipSequence(inner, depth+1)
	}
	if r.pos+int(length) > len(r.b) {
		return fmt.Errorf("%w: element %08x runs past the end", errDcm, tag)
	}
	val := r.b[r.pos : r.pos+int(length)]
	r.pos += int(length)
	if depth > 0 {
		return nil
	}
	str := func() string { return strings.Trim(string(val), " \x00") }
	us := func() int {
		if len(val) < 2 {
			return 0
		}
		return int(binary.LittleEndian.Uint16(val))
	}
	switch tag {
	case 0x00020010:
		r.f.ts = str()
	case 0x00280002:
		r.f.spp = us()
	case 0x00280008:
		if n, err := strconv.Atoi(str()); err == nil {
			r.f.frames = n
		}
	case 0x00280010:
		r.f.rows = us()
	case 0x00280011:
		r.f.cols = us()
	case 0x00280100:
		r.f.ba = us()
	case 0x00280101:
		r.f.bs = us()
	case 0x00280103:
		r.f.pr = us()
	}
	return nil
}

// skipSequence skips the items of a sequence of undefined length.
func (r *dcmReader) skipSequence(implicit bool, depth int) error {
	for r.pos+8 <= len(r.b) {
		g, e := r.u16(r.pos), r.u16(r.pos+2)
		length := r.u32(r.pos + 4)
		r.pos += 8
		switch {
		case g == 0xFFFE && e == 0xE0DD:
			return nil
		case g == 0xFFFE && e == 0xE000:
			if length != 0xFFFFFFFF {
				r.pos += int(length)
				continue
			}
			for {
				if r.pos+8 > len(r.b) {
					return fmt.Errorf("%w: truncated item", errDcm)
				}
				if r.u16(r.pos) == 0xFFFE && r.u16(r.pos+2) == 0xE00D {
					r.pos += 8
					break
				}
				if err := r.element(implicit, depth); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("%w: unexpected tag %04x,%04x in a sequence", errDcm, g, e)
		}
	}
	return fmt.Errorf("%w: sequence without delimiter", errDcm)
}

// fragments reads the items of encapsulated pixel data. Truncated data keeps
// whatever fragments (and partial fragment) are present.
func (r *dcmReader) fragments() error {
	first := true
	for r.pos+8 <= len(r.b) {
		g, e := r.u16(r.pos), r.u16(r.pos+2)
		length := int(r.u32(r.pos + 4))
		r.pos += 8
		if g == 0xFFFE && e == 0xE0DD {
			return nil
		}
		if g != 0xFFFE || e != 0xE000 {
			return fmt.Errorf("%w: bad item tag %04x,%04x in pixel data", errDcm, g, e)
		}
		end := min(r.pos+length, len(r.b))
		v := r.b[r.pos:end]
		r.pos = end
		if first {
			for i := 0; i+4 <= len(v); i += 4 {
				r.f.bot = append(r.f.bot, binary.LittleEndian.Uint32(v[i:]))
			}
			first = false
			continue
		}
		r.f.frags = append(r.f.frags, v)
	}
	return nil
}

// frames returns the compressed frames of an encapsulated file.
func (f *dcmFile) frameData() [][]byte {
	if f.frames <= 1 {
		return [][]byte{bytes.Join(f.frags, nil)}
	}
	if len(f.frags) == f.frames {
		return f.frags
	}
	// Group fragments by the codestream start they begin with.
	var out [][]byte
	for _, fr := range f.frags {
		if len(out) == 0 || bytes.HasPrefix(fr, []byte{0xFF, 0x4F, 0xFF, 0x51}) || bytes.HasPrefix(fr, jp2Signature) {
			out = append(out, append([]byte(nil), fr...))
		} else {
			out[len(out)-1] = append(out[len(out)-1], fr...)
		}
	}
	return out
}

// nativeFrame returns frame i of native pixel data as int32 samples,
// sign-extended from BitsStored (PixelRepresentation 1) or masked to it.
func (f *dcmFile) nativeFrame(i int) ([]int32, error) {
	if f.ba != 16 {
		return nil, fmt.Errorf("test reader handles 16-bit native data only, not %d", f.ba)
	}
	n := f.rows * f.cols * f.spp
	if (i+1)*n*2 > len(f.native) {
		return nil, fmt.Errorf("native pixel data too short for frame %d", i)
	}
	out := make([]int32, n)
	sh := uint(32 - f.bs)
	for k := range out {
		v := int32(binary.LittleEndian.Uint16(f.native[(i*n+k)*2:]))
		if f.pr == 1 {
			out[k] = v << sh >> sh
		} else {
			out[k] = int32(uint32(v) << sh >> sh)
		}
	}
	return out, nil
}
