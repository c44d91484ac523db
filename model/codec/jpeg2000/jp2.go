package jpeg2000

import (
	"bytes"
	"encoding/binary"
)

// codestreamOf returns the JPEG 2000 codestream in data: data itself when it
// starts with the SOC marker, or the contents of the first contiguous
// codestream box ("jp2c") when data is a JP2 file. Some DICOM writers put a
// whole JP2 file in the pixel data although the standard asks for a bare
// codestream; both are accepted.
func codestreamOf(data []byte) ([]byte, error) {
	if len(data) >= 2 && binary.BigEndian.Uint16(data) == mSOC {
		return data, nil
	}
	if len(data) >= 8 && bytes.Equal(data[4:8], []byte("jP  ")) {
		return jp2Codestream(data)
	}
	if len(data) >= 8 && bytes.Equal(data[4:8], []byte("jp2c")) {
		// A lone codestream box without the JP2 signature.
		return jp2Codestream(data)
	}
	return nil, formatErr("data is neither a JPEG 2000 codestream (no SOC marker) nor a JP2 file")
}

// jp2Codestream walks the top-level boxes of a JP2 file to the first "jp2c"
// box.
func jp2Codestream(data []byte) ([]byte, error) {
	pos := 0
	for pos+8 <= len(data) {
		lbox := uint64(binary.BigEndian.Uint32(data[pos:]))
		typ := string(data[pos+4 : pos+8])
		hdr := uint64(8)
		switch lbox {
		case 0: // box runs to the end of the file
			lbox = uint64(len(data) - pos)
		case 1: // 64-bit extended length
			if pos+16 > len(data) {
				return nil, formatErr("JP2 box %q truncated", typ)
			}
			lbox = binary.BigEndian.Uint64(data[pos+8:])
			hdr = 16
		}
		if lbox < hdr {
			return nil, formatErr("JP2 box %q has bad length %d", typ, lbox)
		}
		end := uint64(pos) + lbox
		if end > uint64(len(data)) {
			if typ != "jp2c" {
				return nil, formatErr("JP2 box %q runs past the end of the data", typ)
			}
			end = uint64(len(data)) // truncated codestream: let the parser judge
		}
		if typ == "jp2c" {
			cs := data[uint64(pos)+hdr : end]
			if len(cs) < 2 || binary.BigEndian.Uint16(cs) != mSOC {
				return nil, formatErr("JP2 codestream box does not start with SOC")
			}
			return cs, nil
		}
		pos = int(end)
	}
	return nil, formatErr("JP2 file has no codestream box (jp2c)")
}
