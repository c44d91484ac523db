package ingest

import (
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

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
	samples := sc.ints(n)
	if err := img.readSamples(f.frame, samples, sc); err != nil {
		return c, err
	}
	c = toHU(samples, dst, img, f)
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
	bpp := img.bitsAlloc / 8
	frameBytes := int64(img.rows*img.cols) * int64(bpp)
	off := img.pixelOff + int64(k)*frameBytes
	var b []byte
	if img.deflated {
		ds, err := img.inflate(off + frameBytes)
		if err != nil {
			return err
		}
		b = ds[off : off+frameBytes]
	} else {
		b = sc.bytes(int(frameBytes))
		if err := readFull(img.file.R, b, off); err != nil {
			return err
		}
	}
	unpack(b, dst, bpp, img.enc.big, img.pixRep == 1, img.bitsStored)
	return nil
}

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

// inflate returns the first end bytes of a deflated data set.
func (img *imageFile) inflate(end int64) ([]byte, error) {
	size := img.file.Size - img.dsStart
	zr := flate.NewReader(io.NewSectionReader(img.file.R, img.dsStart, size))
	defer zr.Close()
	b := make([]byte, end)
	if _, err := io.ReadFull(zr, b); err != nil {
		return nil, fmt.Errorf("deflated data set: %w", err)
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
			for i := range dst {
				v := uint16(b[2*i]) | uint16(b[2*i+1])<<8
				dst[i] = int32(int16(v<<shift)) >> shift
			}
		case !big:
			mask := uint16(1<<bitsStored - 1)
			for i := range dst {
				dst[i] = int32((uint16(b[2*i]) | uint16(b[2*i+1])<<8) & mask)
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
	var frames [][]byte
	if len(img.extOffs) > 0 {
		frames, err = encap.ExtendedFrames(frags, img.extOffs, img.extLens)
	} else {
		frames, err = encap.Frames(frags, offsets, img.frames)
	}
	if err != nil {
		img.frameLayoutErr = err
		return
	}
	if len(frames) != img.frames {
		img.frameLayoutErr = fmt.Errorf("found %d frames, the header says %d", len(frames), img.frames)
		return
	}
	// Fragments are sub-slices of data: their offset is the capacity
	// difference. Frames are runs of consecutive fragments whose lengths
	// add up to the frame's length.
	fragOff := func(f []byte) int64 { return int64(cap(data) - cap(f)) }
	img.frameLayout = make([][]span, len(frames))
	// With an offset table the first frame may start after unused
	// fragments: find the fragment its first offset points at.
	fi := 0
	var firstOff uint64
	hasTable := true
	switch {
	case len(img.extOffs) >= 8:
		firstOff = binary.LittleEndian.Uint64(img.extOffs)
	case len(offsets) > 0:
		firstOff = uint64(offsets[0])
	default:
		hasTable = false
	}
	if hasTable {
		pos := uint64(0)
		for i, f := range frags {
			if pos == firstOff {
				fi = i
				break
			}
			pos += 8 + uint64(len(f))
		}
	}
	for k, fr := range frames {
		var parts []span
		var got int64
		for got < int64(len(fr)) && fi < len(frags) {
			take := int64(len(frags[fi]))
			if got+take > int64(len(fr)) {
				take = int64(len(fr)) - got // extended offset table lengths may cut the last fragment
			}
			parts = append(parts, span{off: img.pixelOff + fragOff(frags[fi]), n: take})
			got += take
			fi++
		}
		if got != int64(len(fr)) || len(parts) == 0 {
			img.frameLayoutErr = errors.New("cannot map frames onto fragments")
			return
		}
		img.frameLayout[k] = parts
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
				} else if h > math.MaxInt16 {
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
			} else if h > math.MaxInt16 {
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
			case h > math.MaxInt16:
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
	if h > math.MaxInt16 {
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
