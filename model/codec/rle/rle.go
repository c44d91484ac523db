// Package rle decodes DICOM RLE Lossless pixel data (PS3.5 Annex G,
// transfer syntax 1.2.840.10008.1.2.5).
//
// A frame is a 64-byte header (the number of segments and up to 15 segment
// offsets) followed by PackBits-compressed segments, one per byte plane:
// for each sample in turn, its most significant byte first. 8, 16 and 32
// bits allocated and 1 or 3 samples per pixel are supported.
package rle

import (
	"encoding/binary"
	"fmt"

	"sscscore/model/codec"
)

func init() {
	codec.Register(codec.RLELossless, "RLE lossless", codec.DecoderFunc(Decode))
}

// Decode decodes one RLE frame into dst (f.Len() samples, pixel-interleaved
// when there are several samples per pixel), sign-extending from BitsStored
// when f.PixelRepresentation is 1 and masking to BitsStored otherwise.
//
// A segment that decodes to more bytes than the image holds is truncated (as
// pydicom and GDCM do); one that decodes to fewer is an error.
func Decode(frame []byte, f codec.FrameInfo, dst []int32) error {
	if f.Rows <= 0 || f.Columns <= 0 {
		return FormatError(fmt.Sprintf("invalid image size %dx%d", f.Columns, f.Rows))
	}
	spp := max(f.SamplesPerPixel, 1)
	if spp != 1 && spp != 3 {
		return UnsupportedError(fmt.Sprintf("%d samples per pixel not supported", spp))
	}
	if f.BitsAllocated != 8 && f.BitsAllocated != 16 && f.BitsAllocated != 32 {
		return UnsupportedError(fmt.Sprintf("%d bits allocated not supported", f.BitsAllocated))
	}
	if f.BitsStored < 1 || f.BitsStored > f.BitsAllocated {
		return FormatError(fmt.Sprintf("invalid bits stored %d for %d bits allocated", f.BitsStored, f.BitsAllocated))
	}
	n := f.Rows * f.Columns
	if len(dst) < n*spp {
		return fmt.Errorf("rle: destination holds %d samples, frame has %d", len(dst), n*spp)
	}
	dst = dst[:n*spp]
	if len(frame) < 64 {
		return FormatError(fmt.Sprintf("frame of %d bytes is shorter than the 64-byte header", len(frame)))
	}
	bytesPerSample := f.BitsAllocated / 8
	want := bytesPerSample * spp
	nseg := int(binary.LittleEndian.Uint32(frame))
	if nseg != want {
		return FormatError(fmt.Sprintf("header has %d segments, expected %d for %d samples of %d bits", nseg, want, spp, f.BitsAllocated))
	}
	var offsets [16]int
	for i := 0; i < nseg; i++ {
		o := binary.LittleEndian.Uint32(frame[4+4*i:])
		if o < 64 || uint64(o) > uint64(len(frame)) || (i > 0 && int(o) < offsets[i-1]) {
			return FormatError(fmt.Sprintf("segment %d offset %d is outside the %d-byte frame or out of order", i+1, o, len(frame)))
		}
		offsets[i] = int(o)
	}
	offsets[nseg] = len(frame)
	clear(dst)
	for s := 0; s < nseg; s++ {
		seg := frame[offsets[s]:offsets[s+1]]
		sample := s / bytesPerSample
		shift := uint(8 * (bytesPerSample - 1 - s%bytesPerSample))
		var err error
		if spp == 1 {
			err = unpack1(seg, dst, shift)
		} else {
			err = unpackN(seg, dst[sample:], n, spp, shift)
		}
		if err != nil {
			return FormatError(fmt.Sprintf("segment %d: %s", s+1, string(err.(FormatError))))
		}
	}
	f.Interpret(dst)
	return nil
}

// unpack1 decodes one PackBits segment, ORing each byte shifted left by
// shift into out, which it must fill.
func unpack1(seg []byte, out []int32, shift uint) error {
	pos, o := 0, 0
	for o < len(out) {
		if pos >= len(seg) {
			return FormatError(fmt.Sprintf("decodes to %d bytes, want %d", o, len(out)))
		}
		h := int(int8(seg[pos]))
		pos++
		switch {
		case h >= 0: // literal run of h+1 bytes
			if pos+h+1 > len(seg) {
				return FormatError(fmt.Sprintf("literal run of %d bytes at byte %d overruns the segment", h+1, pos-1))
			}
			k := min(h+1, len(out)-o)
			run := out[o : o+k]
			for i, b := range seg[pos : pos+k] {
				run[i] |= int32(uint32(b) << shift)
			}
			pos += h + 1
			o += k
		case h != -128: // replicate the next byte 1-h times
			if pos >= len(seg) {
				return FormatError(fmt.Sprintf("replicate run at byte %d overruns the segment", pos-1))
			}
			v := int32(uint32(seg[pos]) << shift)
			pos++
			k := min(1-h, len(out)-o)
			if v != 0 {
				run := out[o : o+k]
				for i := range run {
					run[i] |= v
				}
			}
			o += k
		}
	}
	return nil
}

// unpackN is unpack1 for the n samples out[0], out[stride], out[2*stride]...
func unpackN(seg []byte, out []int32, n, stride int, shift uint) error {
	pos, o := 0, 0
	for o < n {
		if pos >= len(seg) {
			return FormatError(fmt.Sprintf("decodes to %d bytes, want %d", o, n))
		}
		h := int(int8(seg[pos]))
		pos++
		switch {
		case h >= 0:
			if pos+h+1 > len(seg) {
				return FormatError(fmt.Sprintf("literal run of %d bytes at byte %d overruns the segment", h+1, pos-1))
			}
			k := min(h+1, n-o)
			for i, b := range seg[pos : pos+k] {
				out[(o+i)*stride] |= int32(uint32(b) << shift)
			}
			pos += h + 1
			o += k
		case h != -128:
			if pos >= len(seg) {
				return FormatError(fmt.Sprintf("replicate run at byte %d overruns the segment", pos-1))
			}
			v := int32(uint32(seg[pos]) << shift)
			pos++
			k := min(1-h, n-o)
			for i := o; i < o+k; i++ {
				out[i*stride] |= v
			}
			o += k
		}
	}
	return nil
}
