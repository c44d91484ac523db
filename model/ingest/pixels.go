package ingest

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"unsafe"

	"sscscore/model/codec"
	"sscscore/model/codec/encap"
	"sscscore/model/volume"
)

// scratch holds the per-goroutine buffers of slice decoding.
type scratch struct {
	raw     []byte
	samples []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (s *scratch) bytes(n int) []byte {
	if cap(s.raw) < n {
		s.raw = make([]byte, n)
	}
	return s.raw[:n]
}

func (s *scratch) ints(n int) []int32 {
	if cap(s.samples) < n {
		s.samples = make([]int32, n)
	}
	return s.samples[:n]
}

// huCounts counts voxels changed while converting to Hounsfield units.
type huCounts struct {
	padding  int64 // PixelPaddingValue (range) set to air
	belowAir int64 // below -1024 HU (outside the field of view) set to air
	clipped  int64 // above 32767 HU, clipped
}

func (c *huCounts) add(o huCounts) {
	c.padding += o.padding
	c.belowAir += o.belowAir
	c.clipped += o.clipped
}

// decodeFrame decodes frame f into dst (rows*cols HU values, standard
// axial layout when flipX/flipY say so).
func decodeFrame(f *frameHeader, dst []int16, flipX, flipY bool, sc *scratch) (c huCounts, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	img := f.img
	n := img.rows * img.cols
	if len(dst) < n {
		return c, fmt.Errorf("destination holds %d values, slice has %d", len(dst), n)
	}
	dst = dst[:n]
	if ic, ok := intRescale(img, f); ok && !img.encaps && img.bitsAlloc == 16 && !img.enc.big {
		// The common case, fused: 16-bit little-endian stored values
		// straight to HU.
		b, err := img.nativeFrame(f.frame, sc)
		if err != nil {
			return c, err
		}
		c = le16ToHU(b, dst, img, ic)
	} else {
		samples := sc.ints(n)
		if err := img.readSamples(f.frame, samples, sc); err != nil {
			return c, err
		}
		c = toHU(samples, dst, img, f)
	}
	if flipX || flipY {
		flip(dst, img.rows, img.cols, flipX, flipY)
	}
	return c, nil
}

// readSamples fills dst with the stored values of frame k, sign-extended
// from BitsStored for signed pixels and masked to BitsStored otherwise.
func (img *imageFile) readSamples(k int, dst []int32, sc *scratch) error {
	if img.encaps {
		return img.decodeEncapsulated(k, dst, sc)
	}
	b, err := img.nativeFrame(k, sc)
	if err != nil {
		return err
	}
	unpack(b, dst, img.bitsAlloc/8, img.enc.big, img.pixRep == 1, img.bitsStored)
	return nil
}

// nativeFrame returns the bytes of native frame k.
func (img *imageFile) nativeFrame(k int, sc *scratch) ([]byte, error) {
	frameBytes := int64(img.rows*img.cols) * int64(img.bitsAlloc/8)
	off := img.pixelOff + int64(k)*frameBytes
	if img.deflated {
		ds, err := img.inflate(off + frameBytes)
		if err != nil {
			return nil, err
		}
		return ds[off : off+frameBytes], nil
	}
	b := sc.bytes(int(frameBytes))
	if err := readFull(img.file.R, b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// intRescale reports whether frame f's rescale is an integer offset (slope
// 1, integral intercept, no LUT) and returns the offset.
func intRescale(img *imageFile, f *frameHeader) (int32, bool) {
	if img.lut != nil || f.slope != 1 || f.intercept != math.Trunc(f.intercept) || math.Abs(f.intercept) >= 1<<20 {
		return 0, false
	}
	return int32(f.intercept), true
}

// le16Params are the conversion parameters of le16ToHU.
type le16Params struct {
	signed       bool
	shift        uint   // 16 - BitsStored
	mask         uint16 // BitsStored low bits
	ic           int16  // integer rescale intercept
	hasPad       bool
	padLo, padHi int16
}

// le16ToHU converts 16-bit little-endian stored values to HU with an
// integer rescale: sign extension or masking to BitsStored, padding to
// air, values below air to air, clip at 32767 (counted at or above). With
// GOEXPERIMENT=simd a vector kernel does the bulk when every intermediate
// fits int16; the scalar loops without padding are branch-free.
func le16ToHU(b []byte, dst []int16, img *imageFile, ic int32) huCounts {
	u := asUint16(b[:2*len(dst)])
	dst = dst[:len(u)]
	shift := uint(16 - img.bitsStored)
	mask := uint16(1<<img.bitsStored - 1)
	signed := img.pixRep == 1
	var c huCounts
	fits := func(v int32) bool { return v >= -32768 && v <= 32767 }
	if fits(ic) && (signed || img.bitsStored <= 15) && (!img.hasPad || fits(img.padLo) && fits(img.padHi)) {
		done, vc := le16ToHUVec(u, dst, le16Params{
			signed: signed, shift: shift, mask: mask, ic: int16(ic),
			hasPad: img.hasPad, padLo: int16(img.padLo), padHi: int16(img.padHi),
		})
		c = vc
		u, dst = u[done:], dst[done:]
	}
	var below, clipped, padding int64
	switch {
	case img.hasPad:
		padLo, padHi := img.padLo, img.padHi
		for i, v := range u {
			var s int32
			if signed {
				s = int32(int16(v<<shift)) >> shift
			} else {
				s = int32(v & mask)
			}
			if s >= padLo && s <= padHi {
				dst[i] = volume.Air
				padding++
				continue
			}
			h := s + ic
			below += int64(uint32(h-volume.Air) >> 31)
			clipped += int64(uint32(math.MaxInt16-1-h) >> 31)
			dst[i] = int16(min(max(h, volume.Air), math.MaxInt16))
		}
	case signed:
		var lo, hi uint32
		for i, v := range u {
			h := int32(int16(v<<shift))>>shift + ic
			lo += uint32(h-volume.Air) >> 31
			hi += uint32(math.MaxInt16-1-h) >> 31
			dst[i] = int16(min(max(h, volume.Air), math.MaxInt16))
		}
		below, clipped = int64(lo), int64(hi)
	case ic >= volume.Air && int32(mask)+ic < math.MaxInt16:
		// Unsigned values whose every HU is in range (the usual storage
		// with intercept -1024): nothing to clamp or count.
		for i, v := range u {
			dst[i] = int16(int32(v&mask) + ic)
		}
	default:
		var lo, hi uint32
		for i, v := range u {
			h := int32(v&mask) + ic
			lo += uint32(h-volume.Air) >> 31
			hi += uint32(math.MaxInt16-1-h) >> 31
			dst[i] = int16(min(max(h, volume.Air), math.MaxInt16))
		}
		below, clipped = int64(lo), int64(hi)
	}
	c.add(huCounts{padding: padding, belowAir: below, clipped: clipped})
	return c
}

// littleEndianHost is true on the hosts we build for (amd64, arm64, wasm).
var littleEndianHost = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// asUint16 views little-endian 16-bit samples as []uint16 without copying
// on little-endian hosts (and copies elsewhere).
func asUint16(b []byte) []uint16 {
	n := len(b) / 2
	if n == 0 {
		return nil
	}
	if littleEndianHost && uintptr(unsafe.Pointer(&b[0]))%2 == 0 {
		return unsafe.Slice((*uint16)(unsafe.Pointer(&b[0])), n)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}

// readFull reads len(b) bytes at off.
func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		return fmt.Errorf("pixel data: read %d of %d bytes at offset %d: %w", n, len(b), off, errTruncated)
	}
	return fmt.Errorf("pixel data: %w", err)
}

// inflate returns the first end bytes of a deflated data set. A
// multi-frame file keeps its inflated pixel data, so that decoding all its
// frames inflates it once.
func (img *imageFile) inflate(end int64) ([]byte, error) {
	if img.frames > 1 {
		img.inflMu.Lock()
		defer img.inflMu.Unlock()
		if int64(len(img.inflated)) >= end {
			return img.inflated, nil
		}
		end = img.pixelOff + int64(img.frames)*int64(img.rows*img.cols)*int64(img.bitsAlloc/8)
	}
	size := img.file.Size - img.dsStart
	zr := flate.NewReader(io.NewSectionReader(img.file.R, img.dsStart, size))
	defer zr.Close()
	b := make([]byte, end)
	if _, err := io.ReadFull(zr, b); err != nil {
		return nil, fmt.Errorf("deflated data set: %w", err)
	}
	if img.frames > 1 {
		img.inflated = b
	}
	return b, nil
}

// unpack converts native little- or big-endian samples of bpp bytes.
func unpack(b []byte, dst []int32, bpp int, big, signed bool, bitsStored int) {
	switch bpp {
	case 1:
		shift := uint(8 - bitsStored)
		for i := range dst {
			v := b[i] << shift
			if signed {
				dst[i] = int32(int8(v)) >> shift
			} else {
				dst[i] = int32(v >> shift)
			}
		}
	case 2:
		shift := uint(16 - bitsStored)
		b = b[:2*len(dst)]
		switch {
		case !big && signed:
			u := asUint16(b)
			dst = dst[:len(u)]
			for i, v := range u {
				dst[i] = int32(int16(v<<shift)) >> shift
			}
		case !big:
			mask := uint16(1<<bitsStored - 1)
			u := asUint16(b)
			dst = dst[:len(u)]
			for i, v := range u {
				dst[i] = int32(v & mask)
			}
		case signed:
			for i := range dst {
				v := uint16(b[2*i+1]) | uint16(b[2*i])<<8
				dst[i] = int32(int16(v<<shift)) >> shift
			}
		default:
			mask := uint16(1<<bitsStored - 1)
			for i := range dst {
				dst[i] = int32((uint16(b[2*i+1]) | uint16(b[2*i])<<8) & mask)
			}
		}
	case 4:
		var bo binary.ByteOrder = binary.LittleEndian
		if big {
			bo = binary.BigEndian
		}
		shift := uint(32 - bitsStored)
		for i := range dst {
			v := bo.Uint32(b[4*i:]) << shift
			if signed {
				dst[i] = int32(v) >> shift
			} else {
				u := v >> shift
				if u > math.MaxInt32 {
					u = math.MaxInt32
				}
				dst[i] = int32(u)
			}
		}
	}
}

// decodeEncapsulated decodes frame k of compressed pixel data.
func (img *imageFile) decodeEncapsulated(k int, dst []int32, sc *scratch) error {
	var frame []byte
	if img.frames == 1 {
		data, err := img.readPixelValue()
		if err != nil {
			return err
		}
		offsets, frags, err := encap.Parse(data)
		if err != nil {
			return err
		}
		frames, err := encap.Frames(frags, offsets, 1)
		if err != nil {
			return err
		}
		frame = frames[0]
	} else {
		img.frameLayoutOnce.Do(img.layoutFrames)
		if img.frameLayoutErr != nil {
			return img.frameLayoutErr
		}
		parts := img.frameLayout[k]
		first, last := parts[0], parts[len(parts)-1]
		span := sc.bytes(int(last.off + last.n - first.off))
		if err := readFull(img.file.R, span, first.off); err != nil {
			return err
		}
		if len(parts) == 1 {
			frame = span
		} else {
			frame = make([]byte, 0, len(span))
			for _, p := range parts {
				frame = append(frame, span[p.off-first.off:p.off-first.off+p.n]...)
			}
		}
	}
	fi := codec.FrameInfo{
		Rows: img.rows, Columns: img.cols, SamplesPerPixel: 1,
		BitsAllocated: img.bitsAlloc, BitsStored: img.bitsStored, PixelRepresentation: img.pixRep,
	}
	if err := img.dec.Decode(frame, fi, dst); err != nil {
		return fmt.Errorf("%s: %w", codec.SyntaxName(img.ts), err)
	}
	return nil
}

// readPixelValue reads the encapsulated Pixel Data value: from its start to
// the end of the file (the Sequence Delimitation Item ends it there).
func (img *imageFile) readPixelValue() ([]byte, error) {
	n := img.file.Size - img.pixelOff
	if n <= 0 {
		return nil, fmt.Errorf("pixel data: %w", errTruncated)
	}
	b := make([]byte, n)
	if err := readFull(img.file.R, b, img.pixelOff); err != nil {
		return nil, err
	}
	return b, nil
}

// layoutFrames finds, once per multi-frame compressed file, the file byte
// ranges of each frame's fragments, so that a lazy volume reads only the
// frame it decodes.
func (img *imageFile) layoutFrames() {
	data, err := img.readPixelValue()
	if err != nil {
		img.frameLayoutErr = err
		return
	}
	offsets, frags, err := encap.Parse(data)
	if err != nil {
		img.frameLayoutErr = err
		return
	}
	// Fragments are sub-slices of data: their offset is the capacity
	// difference.
	part := func(f []byte, n int64) span {
		return span{off: img.pixelOff + int64(cap(data)-cap(f)), n: n}
	}
	img.frameLayout = make([][]span, img.frames)
	if len(img.extOffs) == 0 {
		ranges, err := encap.FrameRanges(frags, offsets, img.frames)
		if err != nil {
			img.frameLayoutErr = err
			return
		}
		if len(ranges) != img.frames {
			img.frameLayoutErr = fmt.Errorf("found %d frames, the header says %d", len(ranges), img.frames)
			return
		}
		for k, r := range ranges {
			for _, f := range frags[r.First:r.End] {
				img.frameLayout[k] = append(img.frameLayout[k], part(f, int64(len(f))))
			}
		}
		return
	}
	// Extended Offset Table: frames are runs of consecutive fragments from
	// the first offset on, the last one possibly cut by the lengths table.
	frames, err := encap.ExtendedFrames(frags, img.extOffs, img.extLens)
	if err != nil {
		img.frameLayoutErr = err
		return
	}
	if len(frames) != img.frames {
		img.frameLayoutErr = fmt.Errorf("found %d frames, the header says %d", len(frames), img.frames)
		return
	}
	fi, pos, first := 0, uint64(0), binary.LittleEndian.Uint64(img.extOffs)
	for fi < len(frags) && pos != first {
		pos += 8 + uint64(len(frags[fi]))
		fi++
	}
	for k, fr := range frames {
		var got int64
		for got < int64(len(fr)) && fi < len(frags) {
			take := min(int64(len(frags[fi])), int64(len(fr))-got)
			img.frameLayout[k] = append(img.frameLayout[k], part(frags[fi], take))
			got += take
			fi++
		}
		if got != int64(len(fr)) {
			img.frameLayoutErr = errors.New("cannot map the extended offset table onto the fragments")
			return
		}
	}
}

// toHU converts stored values to Hounsfield units: padding to air, then the
// Modality LUT or rescale, values below -1024 HU (outside the reconstruction
// field) to air, and a clip to the int16 range.
func toHU(s []int32, dst []int16, img *imageFile, f *frameHeader) (c huCounts) {
	padLo, padHi, hasPad := img.padLo, img.padHi, img.hasPad
	switch {
	case img.lut != nil:
		for i, v := range s {
			if hasPad && v >= padLo && v <= padHi {
				dst[i] = volume.Air
				c.padding++
				continue
			}
			dst[i] = clampHU(img.lut.lookup(v), &c)
		}
	case f.slope == 1 && f.intercept == math.Trunc(f.intercept) && math.Abs(f.intercept) < 1<<20:
		ic := int32(f.intercept)
		if !hasPad {
			for i, v := range s {
				h := v + ic
				if h < volume.Air {
					h = volume.Air
					c.belowAir++
				} else if h >= math.MaxInt16 {
					h = math.MaxInt16
					c.clipped++
				}
				dst[i] = int16(h)
			}
			return c
		}
		for i, v := range s {
			if v >= padLo && v <= padHi {
				dst[i] = volume.Air
				c.padding++
				continue
			}
			h := v + ic
			if h < volume.Air {
				h = volume.Air
				c.belowAir++
			} else if h >= math.MaxInt16 {
				h = math.MaxInt16
				c.clipped++
			}
			dst[i] = int16(h)
		}
	default:
		for i, v := range s {
			if hasPad && v >= padLo && v <= padHi {
				dst[i] = volume.Air
				c.padding++
				continue
			}
			h := math.Round(float64(v)*f.slope + f.intercept)
			switch {
			case h < volume.Air:
				dst[i] = volume.Air
				c.belowAir++
			case h >= math.MaxInt16:
				dst[i] = math.MaxInt16
				c.clipped++
			default:
				dst[i] = int16(h)
			}
		}
	}
	return c
}

func clampHU(h int32, c *huCounts) int16 {
	if h < volume.Air {
		c.belowAir++
		return volume.Air
	}
	if h >= math.MaxInt16 {
		c.clipped++
		return math.MaxInt16
	}
	return int16(h)
}

// flip mirrors an image left-right and/or top-bottom in place.
func flip(p []int16, rows, cols int, fx, fy bool) {
	if fx {
		for r := 0; r < rows; r++ {
			row := p[r*cols : (r+1)*cols]
			for i, j := 0, cols-1; i < j; i, j = i+1, j-1 {
				row[i], row[j] = row[j], row[i]
			}
		}
	}
	if fy {
		for i, j := 0, rows-1; i < j; i, j = i+1, j-1 {
			a, b := p[i*cols:(i+1)*cols], p[j*cols:(j+1)*cols]
			for x := range a {
				a[x], b[x] = b[x], a[x]
			}
		}
	}
}
