// Package jpeg decodes the JPEG pixel data of DICOM files (ITU T.81):
//
//   - lossless, process 14 (SOF3, Huffman): transfer syntaxes
//     1.2.840.10008.1.2.4.57 and .70 (selection value 1); predictors 1-7,
//     precision 2-16 bits, point transform, restart intervals, one or more
//     components (without subsampling);
//   - baseline 8-bit (SOF0/SOF1, 1.2.840.10008.1.2.4.50), through the
//     standard library's image/jpeg;
//   - extended 12-bit Huffman sequential (SOF1, 1.2.840.10008.1.2.4.51),
//     for one component or three without subsampling.
//
// # Sign and precision
//
// The decoded samples are the unsigned bit patterns the encoder was given
// (T.81 has no notion of sign). Like pydicom and GDCM, Decode takes them as
// the stored values of the DICOM header: with PixelRepresentation 1 a sample
// is sign-extended from BitsStored, otherwise it is masked to BitsStored.
// A stream whose precision differs from BitsStored is decoded at its own
// precision and then interpreted in the same way (so a 16-bit stream of a
// 12-bit signed image gives the right values whether the encoder wrote the
// sign bits or not).
//
// # Predictor 6 overflow
//
// Some encoders computed lossless predictor 6, Rb + ((Ra - Rc) >> 1), with
// Ra - Rc truncated to 16 bits, which garbles 16-bit images with large
// steps (pylibjpeg's JPEGLossless_1s_1f_i_16_16_bad.dcm; GDCM decodes it to
// noise, DCMTK needs its +w6 option). When a 16-bit stream with predictor 6
// has such overflows (the two variants then differ), Decode also decodes it
// with the buggy variant and keeps that when the image is much smoother
// (half the vertical variation): the wrong variant gives garbage.
//
// # Colour
//
// 8-bit colour DCT frames are returned as RGB, as pydicom and GDCM do by
// default for YBR_FULL_422 JPEG (image/jpeg replicates subsampled chroma
// where libjpeg interpolates it, so colours may differ slightly from
// theirs). 12-bit colour frames and lossless colour frames are returned as
// coded, without colour conversion.
package jpeg

import (
	"encoding/binary"
	"fmt"
	"math"

	"sscscore/model/codec"
)

func init() {
	codec.Register(codec.JPEGLossless, "JPEG lossless (process 14)", codec.DecoderFunc(Decode))
	codec.Register(codec.JPEGLosslessSV1, "JPEG lossless (process 14, SV1)", codec.DecoderFunc(Decode))
	codec.Register(codec.JPEGBaseline8, "JPEG baseline (8-bit lossy)", codec.DecoderFunc(Decode))
	codec.Register(codec.JPEGExtended12, "JPEG extended (12-bit lossy)", codec.DecoderFunc(Decode))
}

// Marker codes.
const (
	mSOF0 = 0xC0
	mSOF1 = 0xC1
	mSOF2 = 0xC2
	mSOF3 = 0xC3
	mDHT  = 0xC4
	mSOI  = 0xD8
	mEOI  = 0xD9
	mSOS  = 0xDA
	mDQT  = 0xDB
	mDNL  = 0xDC
	mDRI  = 0xDD
)

type component struct {
	id     byte
	h, v   int
	tq     int
	td, ta int // Huffman table selectors of the current scan
}

// decoder holds the state of one frame.
type decoder struct {
	data      []byte
	process   byte // SOF marker
	precision int
	rows      int
	cols      int
	comps     []component
	dc        [4]huffman
	ac        [4]huffman
	quant     [4][64]int32
	restart   int
	info      codec.FrameInfo
	dst       []int32
	planes    [][]int32 // one plane per component, rows*cols samples
	scans     int
	sawScan   []bool
	// dct is the state of the DCT-based decoder.
	dct *dctState
	// pred6At16 records a 16-bit lossless scan with predictor 6 where
	// Ra-Rc overflowed 16 bits; pred6Workaround decodes such scans as buggy
	// encoders coded them.
	pred6At16, pred6Workaround bool
}

// Decode decodes one JPEG frame into dst (f.Len() samples, pixel-interleaved
// when there are several components).
func Decode(frame []byte, f codec.FrameInfo, dst []int32) error {
	if err := checkInfo(f, len(dst)); err != nil {
		return err
	}
	if len(frame) < 4 || frame[0] != 0xFF || frame[1] != mSOI {
		return FormatError("frame does not start with an SOI marker")
	}
	// Baseline 8-bit goes through image/jpeg; find the SOF first.
	sof, seg, err := findSOF(frame)
	if err != nil {
		return err
	}
	if (sof == mSOF0 || sof == mSOF1 || sof == mSOF2) && len(seg) >= 6 && seg[0] == 8 {
		// Check the size before image/jpeg allocates the image.
		rows, cols := int(binary.BigEndian.Uint16(seg[1:])), int(binary.BigEndian.Uint16(seg[3:]))
		if rows != f.Rows || cols != f.Columns {
			return FormatError(fmt.Sprintf("stream is %dx%d but the header says %dx%d", cols, rows, f.Columns, f.Rows))
		}
		return decodeStd(frame, f, dst)
	}
	d := &decoder{data: frame, info: f, dst: dst}
	if err := d.run(); err != nil {
		return err
	}
	if d.pred6At16 {
		// Some encoders computed predictor 6 with a 16-bit overflow
		// (pylibjpeg's JPEGLossless_1s_1f_i_16_16_bad.dcm, which GDCM decodes
		// to noise). A stream decoded with the wrong predictor variant is
		// garbage, so keep the variant that gives a much smoother image.
		alt := &decoder{data: frame, info: f, dst: make([]int32, len(dst)), pred6Workaround: true}
		if alt.run() == nil && alt.roughness() < d.roughness()/2 {
			if len(d.planes) == 1 {
				copy(d.planes[0], alt.planes[0])
			} else {
				d.planes = alt.planes
			}
		}
	}
	return d.output(dst)
}

// roughness sums the absolute differences between vertically adjacent
// samples, modulo 2^16 (so that signed data stored unsigned is smooth too).
func (d *decoder) roughness() float64 {
	var sum float64
	for _, p := range d.planes {
		for i := d.cols; i < len(p); i++ {
			sum += math.Abs(float64(int16(p[i] - p[i-d.cols])))
		}
	}
	return sum
}

func checkInfo(f codec.FrameInfo, n int) error {
	if f.Rows <= 0 || f.Columns <= 0 {
		return FormatError(fmt.Sprintf("invalid image size %dx%d", f.Columns, f.Rows))
	}
	if f.BitsStored < 1 || f.BitsStored > 32 {
		return FormatError(fmt.Sprintf("invalid bits stored %d", f.BitsStored))
	}
	if n < f.Len() {
		return fmt.Errorf("jpeg: destination holds %d samples, frame has %d", n, f.Len())
	}
	return nil
}

// findSOF returns the first SOF marker of the stream and its segment.
func findSOF(b []byte) (byte, []byte, error) {
	pos := 2
	for {
		m, seg, next, err := nextSegment(b, pos)
		if err != nil {
			return 0, nil, err
		}
		if m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != 0xCC {
			return m, seg, nil
		}
		if m == mSOS || m == mEOI {
			return 0, nil, FormatError("no SOF marker before the scan")
		}
		pos = next
	}
}

// nextSegment reads the marker at pos (skipping fill bytes) and, for markers
// with a length, its payload; next is the position after the segment.
func nextSegment(b []byte, pos int) (marker byte, seg []byte, next int, err error) {
	for pos < len(b) && b[pos] == 0xFF && pos+1 < len(b) && b[pos+1] == 0xFF {
		pos++
	}
	if pos+2 > len(b) {
		return 0, nil, 0, FormatError(fmt.Sprintf("truncated stream at byte %d (no EOI)", pos))
	}
	if b[pos] != 0xFF {
		return 0, nil, 0, FormatError(fmt.Sprintf("expected a marker at byte %d, found 0x%02X", pos, b[pos]))
	}
	m := b[pos+1]
	if m == mSOI || m == mEOI || (m >= 0xD0 && m <= 0xD7) || m == 0x01 {
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

// run parses the marker segments and decodes every scan.
func (d *decoder) run() error {
	pos := 2
	for {
		m, seg, next, err := nextSegment(d.data, pos)
		if err != nil {
			if d.scans > 0 {
				// Missing EOI after complete scans: accept, as libjpeg does.
				return nil
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
		case m == mSOF0 || m == mSOF1 || m == mSOF3:
			if d.comps != nil {
				return FormatError("several SOF markers")
			}
			if err := d.parseSOF(m, seg); err != nil {
				return err
			}
		case m >= 0xC0 && m <= 0xCF && m != mDHT && m != 0xC8 && m != 0xCC:
			return UnsupportedError(fmt.Sprintf("unsupported coding process (SOF%d)", m-0xC0))
		case m == mDHT:
			if err := d.parseDHT(seg); err != nil {
				return err
			}
		case m == mDQT:
			if err := d.parseDQT(seg); err != nil {
				return err
			}
		case m == mDRI:
			if len(seg) != 2 {
				return FormatError("invalid DRI segment")
			}
			d.restart = int(binary.BigEndian.Uint16(seg))
		case m == mSOS:
			if d.comps == nil {
				return FormatError("scan before SOF")
			}
			end, err := d.scan(seg, pos)
			if err != nil {
				return err
			}
			d.scans++
			pos = end
		case m == mDNL:
			// Only meaningful when the SOF had zero lines, which is rejected.
		default:
			// APPn, COM, DAC and others: skip.
		}
	}
}

func (d *decoder) parseSOF(m byte, seg []byte) error {
	if len(seg) < 6 {
		return FormatError("short SOF segment")
	}
	d.process = m
	d.precision = int(seg[0])
	d.rows = int(binary.BigEndian.Uint16(seg[1:]))
	d.cols = int(binary.BigEndian.Uint16(seg[3:]))
	nc := int(seg[5])
	if len(seg) < 6+3*nc || nc == 0 || nc > 4 {
		return FormatError(fmt.Sprintf("invalid SOF with %d components", nc))
	}
	switch m {
	case mSOF3:
		if d.precision < 2 || d.precision > 16 {
			return FormatError(fmt.Sprintf("lossless precision %d not in 2..16", d.precision))
		}
	default:
		if d.precision != 8 && d.precision != 12 {
			return UnsupportedError(fmt.Sprintf("DCT precision %d not supported", d.precision))
		}
	}
	if d.rows == 0 {
		return UnsupportedError("SOF with zero lines (DNL) not supported")
	}
	if d.rows != d.info.Rows || d.cols != d.info.Columns {
		return FormatError(fmt.Sprintf("stream is %dx%d but the header says %dx%d", d.cols, d.rows, d.info.Columns, d.info.Rows))
	}
	if nc != max(d.info.SamplesPerPixel, 1) {
		return FormatError(fmt.Sprintf("stream has %d components but the header says %d samples per pixel", nc, d.info.SamplesPerPixel))
	}
	d.comps = make([]component, nc)
	for i := range d.comps {
		c := seg[6+3*i:]
		d.comps[i] = component{id: c[0], h: int(c[1] >> 4), v: int(c[1] & 15), tq: int(c[2] & 3)}
		if d.comps[i].h == 0 || d.comps[i].v == 0 {
			return FormatError("component with zero sampling factor")
		}
	}
	d.planes = make([][]int32, nc)
	for i := range d.planes {
		if nc == 1 {
			d.planes[i] = d.dst[:d.rows*d.cols]
			clear(d.planes[i])
		} else {
			d.planes[i] = make([]int32, d.rows*d.cols)
		}
	}
	d.sawScan = make([]bool, nc)
	return nil
}

func (d *decoder) parseDHT(seg []byte) error {
	for len(seg) > 0 {
		if len(seg) < 17 {
			return FormatError("short DHT segment")
		}
		class, id := seg[0]>>4, seg[0]&15
		if class > 1 || id > 3 {
			return FormatError(fmt.Sprintf("invalid Huffman table class %d id %d", class, id))
		}
		var counts [16]int
		total := 0
		for i := range counts {
			counts[i] = int(seg[1+i])
			total += counts[i]
		}
		if len(seg) < 17+total {
			return FormatError("short DHT segment")
		}
		h := &d.dc[id]
		if class == 1 {
			h = &d.ac[id]
		}
		if err := h.build(counts, seg[17:17+total]); err != nil {
			return err
		}
		seg = seg[17+total:]
	}
	return nil
}

func (d *decoder) parseDQT(seg []byte) error {
	for len(seg) > 0 {
		pq, tq := seg[0]>>4, seg[0]&15
		if tq > 3 || pq > 1 {
			return FormatError(fmt.Sprintf("invalid quantisation table %d/%d", pq, tq))
		}
		n := 1 + 64*(1+int(pq))
		if len(seg) < n {
			return FormatError("short DQT segment")
		}
		for i := 0; i < 64; i++ {
			if pq == 0 {
				d.quant[tq][i] = int32(seg[1+i])
			} else {
				d.quant[tq][i] = int32(binary.BigEndian.Uint16(seg[1+2*i:]))
			}
		}
		seg = seg[n:]
	}
	return nil
}

// scan parses an SOS header and decodes its entropy-coded data, which starts
// at pos. It returns the position of the marker that ends the scan.
func (d *decoder) scan(seg []byte, pos int) (int, error) {
	if len(seg) < 1 {
		return 0, FormatError("short SOS segment")
	}
	ns := int(seg[0])
	if ns < 1 || ns > len(d.comps) || len(seg) < 4+2*ns {
		return 0, FormatError(fmt.Sprintf("invalid scan with %d components", ns))
	}
	idx := make([]int, ns)
	for i := 0; i < ns; i++ {
		id, t := seg[1+2*i], seg[2+2*i]
		k := -1
		for j, c := range d.comps {
			if c.id == id {
				k = j
			}
		}
		if k < 0 {
			return 0, FormatError(fmt.Sprintf("scan names unknown component %d", id))
		}
		d.comps[k].td, d.comps[k].ta = int(t>>4), int(t&15)
		if d.comps[k].td > 3 || d.comps[k].ta > 3 {
			return 0, FormatError("invalid Huffman table selector")
		}
		idx[i] = k
	}
	p := seg[1+2*ns:]
	ss, se, ah, al := int(p[0]), int(p[1]), int(p[2]>>4), int(p[2]&15)
	br := newBitReader(d.data, pos)
	var err error
	if d.process == mSOF3 {
		err = d.lossless(br, idx, ss, al)
	} else {
		// Ss, Se, Ah and Al should be 0, 63, 0, 0; like libjpeg, ignore
		// other values (pydicom's JPEG-lossy.dcm has Se 0).
		_, _ = se, ah
		err = d.sequential(br, idx)
	}
	if err != nil {
		return 0, err
	}
	for _, k := range idx {
		d.sawScan[k] = true
	}
	// Find the marker that ends the scan.
	end := br.Pos
	for end+1 < len(d.data) && !(d.data[end] == 0xFF && d.data[end+1] != 0 && (d.data[end+1] < 0xD0 || d.data[end+1] > 0xD7)) {
		end++
	}
	return end, nil
}

// output writes the component planes into dst, interpreted as the header says.
func (d *decoder) output(dst []int32) error {
	for k, ok := range d.sawScan {
		if !ok {
			return FormatError(fmt.Sprintf("component %d has no scan", k))
		}
	}
	f := d.info
	n := d.rows * d.cols
	nc := len(d.planes)
	if nc == 1 {
		if &dst[0] != &d.planes[0][0] {
			copy(dst, d.planes[0])
		}
	} else {
		for k, p := range d.planes {
			for i, v := range p[:n] {
				dst[i*nc+k] = v
			}
		}
	}
	f.Interpret(dst[:n*nc])
	return nil
}
