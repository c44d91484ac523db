package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// attrSource gives typed access to the attributes of one data set or
// sequence item, whichever parser read it.
type attrSource interface {
	strings(t tag.Tag) ([]string, bool)
	ints(t tag.Tag) ([]int, bool)
	raw(t tag.Tag) ([]byte, bool)
	items(t tag.Tag) []attrSource
}

// parseHeader parses the header bytes of fl with github.com/suyashkumar/dicom
// (the main parser), recovering from its panics. When the library fails on a
// header the walker could read, the top-level elements are read by
// rawSource instead and the library's complaint is returned as a warning.
func parseHeader(fl *fileLayout) (src attrSource, warning string) {
	ds, err := libraryParse(fl)
	if err == nil {
		return libSource(ds.Elements), ""
	}
	return &rawSource{fl: fl}, "header read without the DICOM library, which failed: " + err.Error()
}

// libraryParse runs the DICOM library on the header bytes (never the pixel
// bytes), behind a synthesized file meta header.
func libraryParse(fl *fileLayout) (ds dicom.Dataset, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("DICOM library panic: %v", r)
		}
	}()
	m := synthMeta(fl.enc.uid())
	in := io.MultiReader(bytes.NewReader(m), bytes.NewReader(fl.header))
	ds, err = dicom.Parse(in, int64(len(m)+len(fl.header)), nil,
		dicom.SkipPixelData(), dicom.AllowUnknownSpecificCharacterSet())
	if err != nil {
		return ds, fmt.Errorf("DICOM library: %w", err)
	}
	return ds, nil
}

// libSource is a data set or item parsed by the DICOM library.
type libSource []*dicom.Element

func (l libSource) find(t tag.Tag) *dicom.Element {
	for _, e := range l {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

func (l libSource) strings(t tag.Tag) ([]string, bool) {
	e := l.find(t)
	if e == nil || e.Value == nil {
		return nil, false
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = strings.Trim(s, " \x00")
		}
		return out, true
	case []byte:
		return splitText(v), true
	case []int:
		out := make([]string, len(v))
		for i, n := range v {
			out[i] = strconv.Itoa(n)
		}
		return out, true
	case []float64:
		out := make([]string, len(v))
		for i, f := range v {
			out[i] = strconv.FormatFloat(f, 'g', -1, 64)
		}
		return out, true
	}
	return nil, false
}

func (l libSource) ints(t tag.Tag) ([]int, bool) {
	e := l.find(t)
	if e == nil || e.Value == nil {
		return nil, false
	}
	switch v := e.Value.GetValue().(type) {
	case []int:
		return v, len(v) > 0
	case []string:
		return parseInts(v)
	case []byte:
		return bytesInts(v, e.RawValueRepresentation, binary.LittleEndian)
	}
	return nil, false
}

func (l libSource) raw(t tag.Tag) ([]byte, bool) {
	e := l.find(t)
	if e == nil || e.Value == nil {
		return nil, false
	}
	switch v := e.Value.GetValue().(type) {
	case []byte:
		return v, true
	case []int:
		// OW/US data read as integers: re-encode as 16-bit little endian.
		b := make([]byte, 2*len(v))
		for i, n := range v {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(n))
		}
		return b, true
	}
	return nil, false
}

func (l libSource) items(t tag.Tag) []attrSource {
	e := l.find(t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([]attrSource, len(seq))
	for i, it := range seq {
		els, _ := it.GetValue().([]*dicom.Element)
		out[i] = libSource(els)
	}
	return out
}

// rawSource reads top-level elements straight from the header bytes, by
// the VR in the file (explicit VR) or the dictionary (implicit VR). It is
// the fallback for headers the DICOM library cannot parse; it does not read
// into sequences.
type rawSource struct{ fl *fileLayout }

func (r *rawSource) value(t tag.Tag) ([]byte, string, bool) {
	v, vr, ok := r.fl.topValue(uint32(t.Group)<<16 | uint32(t.Element))
	if !ok {
		return nil, "", false
	}
	if vr == "" || vr == "UN" {
		if info, err := tag.Find(t); err == nil && len(info.VRs) > 0 {
			vr = info.VRs[0]
		}
	}
	return v, vr, true
}

func (r *rawSource) strings(t tag.Tag) ([]string, bool) {
	v, vr, ok := r.value(t)
	if !ok {
		return nil, false
	}
	switch vr {
	case "US", "SS", "UL", "SL":
		n, ok := bytesInts(v, vr, r.fl.enc.order())
		if !ok {
			return nil, false
		}
		out := make([]string, len(n))
		for i, x := range n {
			out[i] = strconv.Itoa(x)
		}
		return out, true
	}
	return splitText(v), true
}

func (r *rawSource) ints(t tag.Tag) ([]int, bool) {
	v, vr, ok := r.value(t)
	if !ok {
		return nil, false
	}
	switch vr {
	case "IS", "DS":
		return parseInts(splitText(v))
	}
	return bytesInts(v, vr, r.fl.enc.order())
}

func (r *rawSource) raw(t tag.Tag) ([]byte, bool) {
	v, _, ok := r.value(t)
	return v, ok
}

func (r *rawSource) items(tag.Tag) []attrSource { return nil }

func splitText(b []byte) []string {
	s := strings.Trim(string(b), " \x00")
	parts := strings.Split(s, `\`)
	for i := range parts {
		parts[i] = strings.Trim(parts[i], " \x00")
	}
	return parts
}

func parseInts(v []string) ([]int, bool) {
	out := make([]int, 0, len(v))
	for _, s := range v {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
		if err != nil {
			f, ferr := strconv.ParseFloat(s, 64)
			if ferr != nil || f != math.Trunc(f) {
				return nil, false
			}
			n = int(f)
		}
		out = append(out, n)
	}
	return out, len(out) > 0
}

func bytesInts(v []byte, vr string, bo binary.ByteOrder) ([]int, bool) {
	switch vr {
	case "UL", "SL":
		if len(v)%4 != 0 || len(v) == 0 {
			return nil, false
		}
		out := make([]int, len(v)/4)
		for i := range out {
			x := bo.Uint32(v[4*i:])
			if vr == "SL" {
				out[i] = int(int32(x))
			} else {
				out[i] = int(x)
			}
		}
		return out, true
	default: // US, SS, UN of 2-byte values, OW
		if len(v)%2 != 0 || len(v) == 0 {
			return nil, false
		}
		out := make([]int, len(v)/2)
		for i := range out {
			x := bo.Uint16(v[2*i:])
			if vr == "SS" {
				out[i] = int(int16(x))
			} else {
				out[i] = int(x)
			}
		}
		return out, true
	}
}

// Typed helpers over an attrSource.

func str(a attrSource, t tag.Tag) string {
	v, ok := a.strings(t)
	if !ok || len(v) == 0 {
		return ""
	}
	return v[0]
}

// multi returns a multi-valued string attribute joined with a backslash.
func multi(a attrSource, t tag.Tag) string {
	v, ok := a.strings(t)
	if !ok {
		return ""
	}
	var parts []string
	for _, s := range v {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, `\`)
}

func intAttr(a attrSource, t tag.Tag) (int, bool) {
	v, ok := a.ints(t)
	if !ok || len(v) == 0 {
		return 0, false
	}
	return v[0], true
}

// floats parses a DS (or FD/FL) attribute. Malformed numbers make the whole
// attribute absent.
func floats(a attrSource, t tag.Tag) ([]float64, bool) {
	v, ok := a.strings(t)
	if !ok {
		return nil, false
	}
	out := make([]float64, 0, len(v))
	for _, s := range v {
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, false
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		out = append(out, f)
	}
	return out, len(out) > 0
}

func float1(a attrSource, t tag.Tag) (float64, bool) {
	v, ok := floats(a, t)
	if !ok {
		return 0, false
	}
	return v[0], true
}

// first returns the first item of sequence t in a, or nil.
func first(a attrSource, t tag.Tag) attrSource {
	if a == nil {
		return nil
	}
	it := a.items(t)
	if len(it) == 0 {
		return nil
	}
	return it[0]
}

// modalityLUT is a Modality LUT (PS3.3 C.11.1): stored values from first to
// first+len(data)-1 map to data; values outside clamp to the ends.
type modalityLUT struct {
	first int
	data  []int32
}

func (l *modalityLUT) lookup(s int32) int32 {
	i := int(s) - l.first
	if i < 0 {
		i = 0
	} else if i >= len(l.data) {
		i = len(l.data) - 1
	}
	return l.data[i]
}

// readModalityLUT reads a Modality LUT Sequence item.
func readModalityLUT(it attrSource, signed bool) (*modalityLUT, error) {
	desc, ok := it.ints(tag.LUTDescriptor)
	if !ok || len(desc) != 3 {
		return nil, errors.New("modality LUT without a 3-value LUTDescriptor")
	}
	n, firstMapped, bits := desc[0]&0xFFFF, desc[1], desc[2]
	if n == 0 {
		n = 65536
	}
	if signed {
		firstMapped = int(int16(uint16(firstMapped)))
	}
	var vals []int
	if v, ok := it.raw(tag.LUTData); ok {
		if bits > 8 || len(v) >= 2*n {
			vals, _ = bytesInts(v, "US", binary.LittleEndian)
		} else {
			vals = make([]int, len(v))
			for i, b := range v {
				vals[i] = int(b)
			}
		}
	} else if v, ok := it.ints(tag.LUTData); ok {
		vals = v
	}
	if len(vals) < n {
		return nil, fmt.Errorf("modality LUT has %d entries, descriptor says %d", len(vals), n)
	}
	lut := &modalityLUT{first: firstMapped, data: make([]int32, n)}
	for i := range lut.data {
		lut.data[i] = int32(vals[i] & 0xFFFF)
	}
	return lut, nil
}
