// Package jpegls decodes JPEG-LS pixel data (ITU T.87 / ISO 14495-1) for the
// DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless) and .81
// (near-lossless).
//
// Supported: 2 to 16 bits, regular and run mode, near-lossless (NEAR > 0),
// preset coding parameters in an LSE segment (custom MAXVAL, T1, T2, T3,
// RESET), restart markers, one component, or up to four components coded in
// separate scans (ILV 0), line-interleaved (ILV 1) or sample-interleaved
// (ILV 2). Not supported, with an error: mapping tables (palettes), the
// oversize-image LSE extension, subsampled components and point transforms.
//
// # Sign and precision
//
// JPEG-LS codes unsigned samples. Like pydicom and GDCM, Decode takes the
// decoded values as the stored bit patterns of the DICOM header: with
// PixelRepresentation 1 a sample is sign-extended from BitsStored, otherwise
// it is masked to BitsStored. A stream whose precision differs from
// BitsStored is decoded at its own precision, then interpreted the same way.
package jpegls

import (
	"encoding/binary"
	"fmt"

	"sscscore/model/codec"
)

func init() {
	codec.Register(codec.JPEGLSLossless, "JPEG-LS lossless", codec.DecoderFunc(Decode))
	codec.Register(codec.JPEGLSNearLossless, "JPEG-LS near-lossless", codec.DecoderFunc(Decode))
}

const (
	mSOI   = 0xD8
	mEOI   = 0xD9
	mSOS   = 0xDA
	mDRI   = 0xDD
	mSOF55 = 0xF7
	mLSE   = 0xF8
)

// preset holds coding parameters from an LSE segment; zero means default.
type preset struct {
	maxval, t1, t2, t3, reset int
}

type decoder struct {
	data      []byte
	info      codec.FrameInfo
	dst       []int32
	precision int
	rows      int
	cols      int
	ids       []byte
	preset    preset
	restart   int
	planes    [][]int32
	sawScan   []bool
	scans     int
}

// Decode decodes one JPEG-LS frame into dst (f.Len() samples,
// pixel-interleaved when there are several components).
func Decode(frame []byte, f codec.FrameInfo, dst []int32) error {
	if f.Rows <= 0 || f.Columns <= 0 {
		return FormatError(fmt.Sprintf("invalid image size %dx%d", f.Columns, f.Rows))
	}
	if f.BitsStored < 1 || f.BitsStored > 32 {
		return FormatError(fmt.Sprintf("invalid bits stored %d", f.BitsStored))
	}
	if len(dst) < f.Len() {
		return fmt.Errorf("jpegls: destination holds %d samples, frame has %d", len(dst), f.Len())
	}
	if len(frame) < 4 || frame[0] != 0xFF || frame[1] != mSOI {
		return FormatError("frame does not start with an SOI marker")
	}
	d := &decoder{data: frame, info: f, dst: dst}
	if err := d.run(); err != nil {
		return err
	}
	return d.output()
}

// nextSegment reads the marker at pos and its payload.
func nextSegment(b []byte, pos int) (marker byte, seg []byte, next int, err error) {
	for pos+1 < len(b) && b[pos] == 0xFF && b[pos+1] == 0xFF {
		pos++
	}
	if pos+2 > len(b) {
		return 0, nil, 0, FormatError(fmt.Sprintf("truncated stream at byte %d (no EOI)", pos))
	}
	if b[pos] != 0xFF {
		return 0, nil, 0, FormatError(fmt.Sprintf("expected a marker at byte %d, found 0x%02X", pos, b[pos]))
	}
	m := b[pos+1]
	if m == mSOI || m == mEOI || (m >= 0xD0 && m <= 0xD7) {
		return m, nil, pos + 2, nil
	}
	if pos+4 > len(b) {
		return 0, nil, 0, FormatError(fmt.Sprintf("truncated marker segment 0x%02X at byte %d", m, pos))
	}
	l := int(binary.BigEndian.Uint16(b[pos+2:]))
	if l < 2 || pos+2+l > len(b) {
		return 0, nil, 0, FormatError(fmt.Sprintf("marker segment 0x%02X at byte %d has length %d beyond the %d-byte stream", m, pos, l, len(b)))
	}
	return m, b[pos+4 : pos+2+l], pos + 2 + l, nil
}

func (d *decoder) run() error {
	pos := 2
	for {
		m, seg, next, err := nextSegment(d.data, pos)
		if err != nil {
			if d.scans > 0 {
				return nil // complete scans without EOI
			}
			return err
		}
		pos = next
		switch {
		case m == mEOI:
			if d.scans == 0 {
				return FormatError("no scan before EOI")
			}
			return nil
		case m == mSOF55:
			if d.planes != nil {
				return FormatError("several SOF markers")
			}
			if err := d.parseSOF(seg); err != nil {
				return err
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return FormatError(fmt.Sprintf("not a JPEG-LS stream (SOF%d marker)", m-0xC0))
		case m == mLSE:
			if err := d.parseLSE(seg); err != nil {
				return err
			}
		case m == mDRI:
			switch len(seg) {
			case 2:
				d.restart = int(binary.BigEndian.Uint16(seg))
			case 3:
				d.restart = int(seg[0])<<16 | int(binary.BigEndian.Uint16(seg[1:]))
			case 4:
				d.restart = int(binary.BigEndian.Uint32(seg))
			default:
				return FormatError("invalid DRI segment")
			}
		case m == mSOS:
			if d.planes == nil {
				return FormatError("scan before SOF")
			}
			end, err := d.scan(seg, pos)
			if err != nil {
				return err
			}
			d.scans++
			pos = end
		default:
			// APPn, COM: skip.
		}
	}
}

func (d *decoder) parseSOF(seg []byte) error {
	if len(seg) < 6 {
		return FormatError("short SOF segment")
	}
	d.precision = int(seg[0])
	d.rows = int(binary.BigEndian.Uint16(seg[1:]))
	d.cols = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if d.precision < 2 || d.precision > 16 {
		return FormatError(fmt.Sprintf("precision %d not in 2..16", d.precision))
	}
	if nc < 1 || nc > 4 || len(seg) < 6+3*nc {
		return FormatError(fmt.Sprintf("invalid SOF with %d components", nc))
	}
	if d.rows == 0 {
		return UnsupportedError("SOF with zero lines not supported")
	}
	if d.rows != d.info.Rows || d.cols != d.info.Columns {
		return FormatError(fmt.Sprintf("stream is %dx%d but the header says %dx%d", d.cols, d.rows, d.info.Columns, d.info.Rows))
	}
	if nc != max(d.info.SamplesPerPixel, 1) {
		return FormatError(fmt.Sprintf("stream has %d components but the header says %d samples per pixel", nc, d.info.SamplesPerPixel))
	}
	d.ids = make([]byte, nc)
	for i := range d.ids {
		d.ids[i] = seg[6+3*i]
		if seg[7+3*i] != 0x11 {
			return UnsupportedError("subsampled components not supported")
		}
	}
	n := d.rows * d.cols
	d.planes = make([][]int32, nc)
	for i := range d.planes {
		if nc == 1 {
			d.planes[i] = d.dst[:n]
		} else {
			d.planes[i] = make([]int32, n)
		}
	}
	d.sawScan = make([]bool, nc)
	return nil
}

func (d *decoder) parseLSE(seg []byte) error {
	if len(seg) < 1 {
		return FormatError("empty LSE segment")
	}
	switch seg[0] {
	case 1:
		if len(seg) < 11 {
			return FormatError("short LSE preset parameters segment")
		}
		u := func(i int) int { return int(binary.BigEndian.Uint16(seg[1+2*i:])) }
		d.preset = preset{maxval: u(0), t1: u(1), t2: u(2), t3: u(3), reset: u(4)}
		return nil
	case 2, 3:
		return UnsupportedError("mapping tables (LSE 2/3) not supported")
	case 4:
		return UnsupportedError("oversize image dimension (LSE 4) not supported")
	}
	return FormatError(fmt.Sprintf("unknown LSE segment type %d", seg[0]))
}

func (d *decoder) output() error {
	for k, ok := range d.sawScan {
		if !ok {
			return FormatError(fmt.Sprintf("component %d has no scan", k))
		}
	}
	n := d.rows * d.cols
	nc := len(d.planes)
	dst := d.dst[:n*nc]
	if nc > 1 {
		for k, p := range d.planes {
			for i, v := range p {
				dst[i*nc+k] = v
			}
		}
	}
	d.info.Interpret(dst)
	return nil
}
