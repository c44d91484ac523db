package ingest

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file holds a small structural DICOM reader: it finds the file meta
// header, the transfer syntax, the start of the data set and the byte range of
// the top-level Pixel Data element, skipping values without reading them. The
// attribute values themselves are parsed by github.com/suyashkumar/dicom
// (header.go); this walker only makes sure that the library never sees pixel
// bytes and that a header pass reads nothing but the header.

// Tags used by the walker (group<<16 | element).
const (
	tagPixelData       = 0x7FE00010
	tagExtOffsetTable  = 0x7FE00001
	tagExtOffsetLength = 0x7FE00002
	tagItem            = 0xFFFEE000
	tagItemDelim       = 0xFFFEE00D
	tagSeqDelim        = 0xFFFEE0DD
	tagPadding         = 0xFFFCFFFC
	undefinedLength    = 0xFFFFFFFF
)

// Transfer syntax UIDs of the native encodings.
const (
	tsImplicitLE = "1.2.840.10008.1.2"
	tsExplicitLE = "1.2.840.10008.1.2.1"
	tsExplicitBE = "1.2.840.10008.1.2.2"
	tsDeflatedLE = "1.2.840.10008.1.2.1.99"
)

// Limits that keep a malformed or hostile file from exhausting memory.
const (
	maxHeaderBytes = 64 << 20 // data set bytes before Pixel Data
	maxDepth       = 32       // sequence nesting
	firstRead      = 8 << 10  // first header read: CT headers are mostly 2-7 KB
)

// encoding is how the data set's elements are written.
type encoding struct {
	implicit bool
	big      bool
}

func (e encoding) order() binary.ByteOrder {
	if e.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// uid returns the native transfer syntax UID with this encoding.
func (e encoding) uid() string {
	switch {
	case e.implicit:
		return tsImplicitLE
	case e.big:
		return tsExplicitBE
	}
	return tsExplicitLE
}

func (e encoding) String() string {
	switch {
	case e.implicit:
		return "implicit VR little endian"
	case e.big:
		return "explicit VR big endian"
	}
	return "explicit VR little endian"
}

// stream is a growing window on a byte source starting at offset 0: a file
// (ReaderAt) or an inflated deflate stream. Bytes are fetched only when an
// element header needs them, in chunks that double in size.
type stream struct {
	ra    io.ReaderAt // file source, or nil
	base  int64       // file offset of stream byte 0
	size  int64       // bytes available (file source); -1 when unknown
	rd    io.Reader   // sequential source when ra is nil
	buf   []byte
	eof   bool
	chunk int
	read  int64 // bytes requested from the source (for statistics)
}

func newFileStream(ra io.ReaderAt, base, size int64) *stream {
	return &stream{ra: ra, base: base, size: size, chunk: firstRead}
}

func newReaderStream(r io.Reader) *stream {
	return &stream{rd: r, size: -1, chunk: firstRead}
}

var (
	errTruncated = errors.New("unexpected end of file")
	errRead      = errors.New("read error")
	errZip       = errors.New("zip archive")
)

// need makes sure bytes [0, end) are in the buffer.
func (s *stream) need(end int64) error {
	for int64(len(s.buf)) < end {
		if s.eof {
			return errTruncated
		}
		if end > maxHeaderBytes {
			return fmt.Errorf("header larger than %d MB", maxHeaderBytes>>20)
		}
		n := max(s.chunk, int(end-int64(len(s.buf))))
		s.chunk = min(2*s.chunk, 4<<20)
		if s.ra != nil {
			left := s.size - int64(len(s.buf))
			if int64(n) >= left {
				n = int(left)
				s.eof = true
			}
			if n <= 0 {
				s.eof = true
				continue
			}
		}
		old := len(s.buf)
		s.buf = append(s.buf, make([]byte, n)...)
		var got int
		var err error
		if s.ra != nil {
			got, err = s.ra.ReadAt(s.buf[old:], s.base+int64(old))
			if err == io.EOF && got == n {
				err = nil
			}
		} else {
			got, err = io.ReadFull(s.rd, s.buf[old:])
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				s.eof, err = true, nil
			}
		}
		s.read += int64(got)
		s.buf = s.buf[:old+got]
		if err != nil {
			if err == io.EOF {
				s.eof = true
				continue
			}
			return fmt.Errorf("%w: %v", errRead, err)
		}
	}
	return nil
}

// atEnd reports whether the stream ends at or before off.
func (s *stream) atEnd(off int64) bool {
	if s.size >= 0 {
		return off >= s.size
	}
	return s.need(off+1) != nil
}

// avail reports whether off+n bytes can exist in the stream, without reading
// them (always true for a sequential stream).
func (s *stream) avail(off, n int64) bool {
	return s.size < 0 || (off >= 0 && n >= 0 && off+n <= s.size)
}

func (s *stream) u16(off int64, bo binary.ByteOrder) uint16 { return bo.Uint16(s.buf[off:]) }
func (s *stream) u32(off int64, bo binary.ByteOrder) uint32 { return bo.Uint32(s.buf[off:]) }

func (s *stream) tag(off int64, bo binary.ByteOrder) uint32 {
	return uint32(s.u16(off, bo))<<16 | uint32(s.u16(off+2, bo))
}

// knownVRs lists the value representations of PS3.5 6.2.
var knownVRs = map[string]bool{
	"AE": true, "AS": true, "AT": true, "CS": true, "DA": true, "DS": true, "DT": true, "FD": true,
	"FL": true, "IS": true, "LO": true, "LT": true, "OB": true, "OD": true, "OF": true, "OL": true,
	"OV": true, "OW": true, "PN": true, "SH": true, "SL": true, "SQ": true, "SS": true, "ST": true,
	"SV": true, "TM": true, "UC": true, "UI": true, "UL": true, "UN": true, "UR": true, "US": true,
	"UT": true, "UV": true,
}

// longVR reports whether an explicit VR has a 4-byte length after 2
// reserved bytes.
func longVR(vr string) bool {
	switch vr {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "UC", "UN", "UR", "UT", "SV", "UV":
		return true
	}
	return false
}

// element is one element header located by the walker.
type element struct {
	tag    uint32
	vr     string // "" in implicit VR
	off    int64  // offset of the element header
	valOff int64  // offset of the value
	length uint32 // value length, undefinedLength for undefined
}

// readElement reads the element header at off. Item and delimiter tags
// (group FFFE) have no VR in any encoding.
func readElement(s *stream, off int64, enc encoding) (element, error) {
	bo := enc.order()
	if err := s.need(off + 8); err != nil {
		return element{}, err
	}
	e := element{tag: s.tag(off, bo), off: off}
	if enc.implicit || e.tag>>16 == 0xFFFE {
		e.length = s.u32(off+4, bo)
		e.valOff = off + 8
		return e, nil
	}
	e.vr = string(s.buf[off+4 : off+6])
	if longVR(e.vr) {
		if err := s.need(off + 12); err != nil {
			return element{}, err
		}
		e.length = s.u32(off+8, bo)
		e.valOff = off + 12
		return e, nil
	}
	e.length = uint32(s.u16(off+6, bo))
	e.valOff = off + 8
	return e, nil
}

// layout is what the walker learns about a data set.
type layout struct {
	enc   encoding
	start int64 // offset of the first data set element
	// pixel is the top-level Pixel Data element; pixelFound is false when
	// the data set has none.
	pixel      element
	pixelFound bool
	// end is where the header ends: the Pixel Data element's offset, or
	// the end of the data set.
	end int64
	// top lists the top-level elements before Pixel Data.
	top []element
}

// walkDataset walks the top-level elements of a data set from off, skipping
// values, until the Pixel Data element or the end of the data set.
func walkDataset(s *stream, off int64, enc encoding) (layout, error) {
	lay := layout{enc: enc, start: off}
	for {
		if s.atEnd(off + 7) { // fewer than 8 bytes left: end of data set
			lay.end = off
			return lay, nil
		}
		e, err := readElement(s, off, enc)
		if err != nil {
			return lay, fmt.Errorf("element at byte %d: %w", off, err)
		}
		if e.tag == tagPadding || e.tag == tagSeqDelim || e.tag == tagItemDelim {
			lay.end = off
			return lay, nil
		}
		if e.tag == tagPixelData {
			lay.pixel, lay.pixelFound, lay.end = e, true, off
			return lay, nil
		}
		if e.tag>>16 == 0xFFFE {
			return lay, fmt.Errorf("item tag (FFFE,%04X) at byte %d outside a sequence", e.tag&0xFFFF, off)
		}
		if !enc.implicit && !knownVRs[e.vr] && !validVRBytes(e.vr) {
			return lay, fmt.Errorf("element (%04X,%04X) at byte %d has invalid VR %q", e.tag>>16, e.tag&0xFFFF, off, e.vr)
		}
		lay.top = append(lay.top, e)
		next, err := skipValue(s, e, enc, 0)
		if err != nil {
			return lay, fmt.Errorf("element (%04X,%04X) at byte %d: %w", e.tag>>16, e.tag&0xFFFF, off, err)
		}
		off = next
	}
}

// validVRBytes accepts an unknown VR made of two upper-case letters or
// spaces: such elements are read with a 2-byte length, as the DICOM library
// does.
func validVRBytes(vr string) bool {
	for i := 0; i < len(vr); i++ {
		c := vr[i]
		if !(c >= 'A' && c <= 'Z' || c == ' ') {
			return false
		}
	}
	return len(vr) == 2
}

// skipValue returns the offset after element e's value.
func skipValue(s *stream, e element, enc encoding, depth int) (int64, error) {
	if e.length != undefinedLength {
		end := e.valOff + int64(e.length)
		if !s.avail(e.valOff, int64(e.length)) {
			return 0, fmt.Errorf("value of %d bytes runs past the end of the file: %w", e.length, errTruncated)
		}
		return end, nil
	}
	// Undefined length: a sequence (SQ, UN, or anything in implicit VR) or
	// encapsulated pixel data (OB/OW, e.g. an icon image).
	inner := enc
	if e.vr == "UN" {
		inner = encoding{implicit: true} // PS3.5 6.2.2: UN sequences are implicit VR LE
	}
	return skipSequence(s, e.valOff, inner, depth+1)
}

// skipSequence skips the items of an undefined-length sequence starting at
// off and returns the offset after its Sequence Delimitation Item.
func skipSequence(s *stream, off int64, enc encoding, depth int) (int64, error) {
	if depth > maxDepth {
		return 0, fmt.Errorf("sequences nested deeper than %d", maxDepth)
	}
	bo := enc.order()
	for {
		if err := s.need(off + 8); err != nil {
			return 0, fmt.Errorf("sequence item at byte %d: %w", off, err)
		}
		tag, length := s.tag(off, bo), s.u32(off+4, bo)
		switch tag {
		case tagSeqDelim:
			return off + 8, nil
		case tagItem:
			if length != undefinedLength {
				if !s.avail(off+8, int64(length)) {
					return 0, fmt.Errorf("item at byte %d: %w", off, errTruncated)
				}
				off += 8 + int64(length)
				continue
			}
			end, err := skipItem(s, off+8, enc, depth)
			if err != nil {
				return 0, err
			}
			off = end
		default:
			return 0, fmt.Errorf("expected a sequence item at byte %d, found (%04X,%04X)", off, tag>>16, tag&0xFFFF)
		}
	}
}

// skipItem skips the elements of an undefined-length item up to and
// including its Item Delimitation Item.
func skipItem(s *stream, off int64, enc encoding, depth int) (int64, error) {
	for {
		e, err := readElement(s, off, enc)
		if err != nil {
			return 0, fmt.Errorf("item element at byte %d: %w", off, err)
		}
		if e.tag == tagItemDelim {
			return off + 8, nil
		}
		if e.tag>>16 == 0xFFFE {
			return 0, fmt.Errorf("unexpected (FFFE,%04X) at byte %d inside an item", e.tag&0xFFFF, off)
		}
		if !enc.implicit && !knownVRs[e.vr] && !validVRBytes(e.vr) {
			return 0, fmt.Errorf("element (%04X,%04X) at byte %d has invalid VR %q", e.tag>>16, e.tag&0xFFFF, off, e.vr)
		}
		off, err = skipValue(s, e, enc, depth)
		if err != nil {
			return 0, err
		}
	}
}

// meta is what the file meta information says.
type meta struct {
	transferSyntax string
	sopClass       string
	present        bool // a group 0002 was found
}

// parseMeta reads group 0002 elements (explicit VR little endian, or
// implicit for some broken writers) from off and returns the offset of the
// first data set element.
func parseMeta(s *stream, off int64) (meta, int64, error) {
	var m meta
	groupEnd := int64(-1)
	for {
		if groupEnd >= 0 && off >= groupEnd {
			// The group length says the meta ends here; trust it unless
			// another group 0002 element follows (a wrong length).
			if s.atEnd(off+7) || s.need(off+8) != nil || binary.LittleEndian.Uint16(s.buf[off:]) != 2 ||
				!knownVRs[string(s.buf[off+4:off+6])] {
				return m, off, nil
			}
		}
		if s.atEnd(off + 7) {
			return m, off, nil
		}
		if err := s.need(off + 8); err != nil {
			return m, off, err
		}
		if binary.LittleEndian.Uint16(s.buf[off:]) != 2 {
			return m, off, nil
		}
		m.present = true
		enc := encoding{}
		if !knownVRs[string(s.buf[off+4:off+6])] {
			enc.implicit = true
		}
		e, err := readElement(s, off, enc)
		if err != nil {
			return m, off, fmt.Errorf("file meta element at byte %d: %w", off, err)
		}
		if e.length == undefinedLength || !s.avail(e.valOff, int64(e.length)) || e.length > 1<<16 {
			return m, off, fmt.Errorf("file meta element (0002,%04X) at byte %d has bad length %d", e.tag&0xFFFF, off, e.length)
		}
		end := e.valOff + int64(e.length)
		if err := s.need(end); err != nil {
			return m, off, fmt.Errorf("file meta element (0002,%04X): %w", e.tag&0xFFFF, err)
		}
		val := s.buf[e.valOff:end]
		switch e.tag {
		case 0x00020000:
			if e.length == 4 {
				groupEnd = end + int64(binary.LittleEndian.Uint32(val))
			}
		case 0x00020010:
			m.transferSyntax = trimUID(val)
		case 0x00020002:
			m.sopClass = trimUID(val)
		}
		off = end
	}
}

func trimUID(b []byte) string { return strings.Trim(string(b), " \x00") }

// sniffEncoding guesses how a data set without (usable) file meta is
// encoded, from its first two elements at off. It accepts only a data set
// whose first element is in group 0002 or 0008 (every DICOM data set holds
// SOP Common attributes in group 0008) and whose two first elements are
// plausible in the same encoding.
func sniffEncoding(s *stream, off int64) (encoding, bool) {
	if err := s.need(off + 8); err != nil {
		return encoding{}, false
	}
	for _, enc := range []encoding{{}, {big: true}, {implicit: true}} {
		if plausible(s, off, enc) {
			return enc, true
		}
	}
	return encoding{}, false
}

func plausible(s *stream, off int64, enc encoding) bool {
	prev := uint32(0)
	for i := 0; i < 2; i++ {
		if s.atEnd(off+7) && i > 0 {
			return true // a one-element data set
		}
		e, err := readElement(s, off, enc)
		if err != nil {
			return false
		}
		g := e.tag >> 16
		if i == 0 && g != 0x0002 && g != 0x0008 {
			return false
		}
		if e.tag < prev || g == 0xFFFE || g > 0x7FE0 && g != 0xFFFC {
			return false
		}
		if !enc.implicit && !knownVRs[e.vr] {
			return false
		}
		if e.length == undefinedLength {
			return i > 0 // a sequence as second element: accept
		}
		if !s.avail(e.valOff, int64(e.length)) || (s.size < 0 && e.length > maxHeaderBytes) {
			return false
		}
		prev = e.tag
		off = e.valOff + int64(e.length)
	}
	return true
}

// fileLayout is the structure of one DICOM file found by scanFile.
type fileLayout struct {
	ts         string // declared transfer syntax UID ("" when none)
	enc        encoding
	deflated   bool
	raw        bool  // no preamble
	shift      int64 // stray bytes skipped before a raw data set
	metaSOP    string
	dsStart    int64  // file offset of the data set (deflated: of the compressed data)
	header     []byte // data set bytes before Pixel Data (inflated when deflated)
	lay        layout // offsets relative to header (data set start = 0)
	bytesRead  int64
	warnings   []string
	headerSize int64 // file bytes before Pixel Data
}

// errNotDICOM marks content that is not DICOM at all.
var errNotDICOM = errors.New("not a DICOM file")

// scanFile locates the meta header, transfer syntax, data set and Pixel Data
// element of a file of the given size, reading only header bytes.
func scanFile(ra io.ReaderAt, size int64) (*fileLayout, error) {
	s := newFileStream(ra, 0, size)
	fl := &fileLayout{}
	if size < 8 {
		return nil, errNotDICOM
	}
	if err := s.need(min(size, firstRead)); err != nil {
		return nil, err
	}
	if bytes.HasPrefix(s.buf, []byte("PK\x03\x04")) || bytes.HasPrefix(s.buf, []byte("PK\x05\x06")) {
		return nil, errZip
	}
	var dsOff int64
	if size >= 132 && s.need(132) == nil && string(s.buf[128:132]) == "DICM" {
		m, end, err := parseMeta(s, 132)
		if err != nil {
			return nil, fmt.Errorf("file meta information: %w", err)
		}
		fl.ts, fl.metaSOP, dsOff = m.transferSyntax, m.sopClass, end
	} else {
		fl.raw = true
		found := false
		for shift := int64(0); shift < 8 && !found; shift++ {
			if s.need(shift+8) != nil {
				break
			}
			if binary.LittleEndian.Uint16(s.buf[shift:]) == 2 && knownVRs[string(s.buf[shift+4:shift+6])] {
				// File meta without a preamble.
				m, end, err := parseMeta(s, shift)
				if err != nil {
					return nil, fmt.Errorf("file meta information: %w", err)
				}
				fl.ts, fl.metaSOP, dsOff, fl.shift = m.transferSyntax, m.sopClass, end, shift
				found = true
				break
			}
			if _, ok := sniffEncoding(s, shift); ok {
				dsOff, fl.shift, found = shift, shift, true
			}
		}
		if !found {
			return nil, errNotDICOM
		}
		if fl.shift > 0 {
			fl.warnings = append(fl.warnings, fmt.Sprintf("data set starts after %d stray byte(s)", fl.shift))
		}
	}
	fl.dsStart = dsOff

	switch fl.ts {
	case tsDeflatedLE:
		fl.deflated = true
		fl.enc = encoding{}
		ds := newReaderStream(flate.NewReader(io.NewSectionReader(ra, dsOff, size-dsOff)))
		lay, err := walkDataset(ds, 0, fl.enc)
		if err == nil {
			err = ds.need(lay.end)
		}
		fl.bytesRead = s.read + int64(len(ds.buf)) // compressed bytes read are at most this
		if err != nil {
			return nil, fmt.Errorf("deflated data set: %w", err)
		}
		fl.header, fl.lay = ds.buf[:lay.end], lay
		fl.headerSize = size // the whole compressed stream precedes the pixels
		return fl, nil
	case tsImplicitLE:
		fl.enc = encoding{implicit: true}
	case tsExplicitBE:
		fl.enc = encoding{big: true}
	case "":
		enc, ok := sniffEncoding(s, dsOff)
		if !ok {
			if s.atEnd(dsOff + 7) {
				return nil, errors.New("file meta information without a data set")
			}
			return nil, errors.New("no transfer syntax in the file meta information and the data set encoding cannot be recognised")
		}
		fl.enc = enc
		if !fl.raw {
			fl.warnings = append(fl.warnings, "file meta information has no TransferSyntaxUID; the data set is "+enc.String())
		}
	default:
		fl.enc = encoding{} // explicit VR LE, also for every encapsulated syntax
	}
	// A declared explicit syntax whose first element is implicit (or the
	// reverse) is a known writer bug: follow the data.
	if !fl.raw || fl.ts != "" {
		if !s.atEnd(dsOff+7) && !plausible(s, dsOff, fl.enc) {
			if enc, ok := sniffEncoding(s, dsOff); ok && enc != fl.enc {
				fl.warnings = append(fl.warnings, fmt.Sprintf("transfer syntax %s declared but the data set is %s", fl.ts, enc))
				fl.enc = enc
			}
		}
	}
	lay, err := walkDataset(s, dsOff, fl.enc)
	if err == nil {
		// The walker skips values without reading them; the library
		// needs every header byte.
		err = s.need(lay.end)
	}
	fl.bytesRead = s.read
	if err != nil {
		return nil, err
	}
	fl.header = s.buf[dsOff:lay.end]
	fl.headerSize = lay.end
	// Make the layout relative to the data set start.
	rel := func(e element) element { e.off -= dsOff; e.valOff -= dsOff; return e }
	lay.pixel = rel(lay.pixel)
	for i := range lay.top {
		lay.top[i] = rel(lay.top[i])
	}
	lay.start, lay.end = 0, lay.end-dsOff
	fl.lay = lay
	return fl, nil
}

// pixelValueOffset returns the file offset of the Pixel Data value (for a
// deflated file, the offset in the inflated data set).
func (fl *fileLayout) pixelValueOffset() int64 {
	if fl.deflated {
		return fl.lay.pixel.valOff
	}
	return fl.dsStart + fl.lay.pixel.valOff
}

// topValue returns the raw value of a top-level element read by the walker.
func (fl *fileLayout) topValue(tag uint32) ([]byte, string, bool) {
	for _, e := range fl.lay.top {
		if e.tag == tag && e.length != undefinedLength {
			end := e.valOff + int64(e.length)
			if end <= int64(len(fl.header)) {
				return fl.header[e.valOff:end], e.vr, true
			}
		}
	}
	return nil, "", false
}

// synthMeta returns a preamble and minimal file meta header declaring the
// native transfer syntax uid, for handing a bare data set to the library.
func synthMeta(uid string) []byte {
	val := []byte(uid)
	if len(val)%2 == 1 {
		val = append(val, 0)
	}
	var b bytes.Buffer
	b.Write(make([]byte, 128))
	b.WriteString("DICM")
	el := func(elem uint16, vr string, v []byte) {
		var h [8]byte
		binary.LittleEndian.PutUint16(h[0:], 2)
		binary.LittleEndian.PutUint16(h[2:], elem)
		copy(h[4:], vr)
		binary.LittleEndian.PutUint16(h[6:], uint16(len(v)))
		b.Write(h[:])
		b.Write(v)
	}
	grp := make([]byte, 4)
	binary.LittleEndian.PutUint32(grp, uint32(8+len(val)))
	el(0x0000, "UL", grp)
	el(0x0010, "UI", val)
	return b.Bytes()
}
