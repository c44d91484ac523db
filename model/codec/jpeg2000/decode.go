// Package jpeg2000 decodes JPEG 2000 images (ISO/IEC 15444-1, ITU-T T.800)
// in pure Go, so that the same code runs natively and under js/wasm.
//
// It reads raw J2K codestreams and JP2 files, with any number of tiles and
// tile-parts, quality layers, precincts, all five progression orders and
// progression order changes (POC), packed packet headers (PPM, PPT), SOP
// and EPH markers, every code-block style (bypass, reset, terminate on each
// pass, vertically causal, predictable termination, segmentation symbols),
// region-of-interest (maxshift) coding, the reversible 5/3 and irreversible
// 9/7 wavelets with any number of levels and any image, tile or component
// offsets, the reversible and irreversible multiple component transforms,
// and signed or unsigned samples of up to 31 bits. Part 2 extensions and
// HTJ2K (Part 15) are rejected with an error.
//
// Decoding is strict about truncation: a codestream that ends before all of
// its packets is an error, not a partial image, because DICOM lossless data
// must never be silently wrong.
//
// The file dicom.go registers the decoder for the DICOM JPEG 2000 transfer
// syntaxes; see [DICOMDecoder] for how header and codestream disagreements
// are resolved.
package jpeg2000

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"sscscore/model/parallel"
)

// Image is a decoded JPEG 2000 image.
type Image struct {
	// Width and Height are the image size in samples (on the grid of the
	// components, which must all have the same sub-sampling).
	Width, Height int
	// NumComponents is the number of components (1 for grey, 3 for colour).
	NumComponents int
	// Precision is the bit depth of component 0, Signed its signedness;
	// Pix holds the samples as coded: in [-2^(p-1), 2^(p-1)) when Signed,
	// else in [0, 2^p).
	Precision int
	Signed    bool
	// Pix holds the samples, component-interleaved, row by row:
	// Pix[(y*Width+x)*NumComponents+c].
	Pix []int32
}

// Config is what the main header says about an image.
type Config struct {
	Width, Height int
	NumComponents int
	Precision     int
	Signed        bool
	// Reversible is true when component 0 uses the reversible 5/3 wavelet
	// (lossless coding is possible; it is lossless when all layers are kept).
	Reversible bool
	// Tiles is the number of tiles, Levels the decomposition levels and
	// Layers the quality layers of the main header's coding style.
	Tiles, Levels, Layers int
}

// DecodeConfig returns the image parameters of a codestream or JP2 file
// without decoding the samples.
func DecodeConfig(data []byte) (Config, error) {
	raw, err := codestreamOf(data)
	if err != nil {
		return Config{}, err
	}
	cs, err := parseCodestream(raw, false)
	if err != nil {
		return Config{}, err
	}
	w, h, err := cs.outputSize()
	if err != nil {
		return Config{}, err
	}
	c0 := cs.siz.comps[0]
	cfg := Config{
		Width: w, Height: h, NumComponents: len(cs.siz.comps),
		Precision: c0.precision, Signed: c0.signed,
		Tiles:  cs.siz.ntx * cs.siz.nty,
		Levels: cs.main.codCS.levels, Layers: cs.main.cod.layers,
	}
	cfg.Reversible = cs.main.codCS.reversible
	if s, ok := cs.main.coc[0]; ok {
		cfg.Reversible, cfg.Levels = s.reversible, s.levels
	}
	return cfg, nil
}

// Decode decodes a JPEG 2000 codestream or JP2 file.
//
// So that a few hostile header bytes cannot make it allocate gigabytes, it
// refuses images of more than 2^26 samples, and of more than 2^24 samples
// unless the data has at least one byte per 4096 samples (no real image
// compresses better; a blank 512x512 frame takes about 100 bytes).
func Decode(data []byte) (*Image, error) {
	return decode(data, sampleLimit(len(data)))
}

func sampleLimit(n int) int {
	return min(defaultMaxPix, max(1<<24, n*4096))
}

// decode decodes data, refusing images of more than maxSamples samples.
func decode(data []byte, maxSamples int) (img *Image, err error) {
	// Bounds are checked explicitly everywhere; this recover is a last line
	// of defence so that a bug can never take down a whole folder load.
	// (The fuzz test calls decodeUnguarded, so that such bugs show.)
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, formatErr("internal error decoding codestream: %v", r)
		}
	}()
	return decodeUnguarded(data, maxSamples)
}

func decodeUnguarded(data []byte, maxSamples int) (img *Image, err error) {
	raw, err := codestreamOf(data)
	if err != nil {
		return nil, err
	}
	cs, err := parseCodestream(raw, false)
	if err != nil {
		return nil, err
	}
	w, h, err := cs.outputSize()
	if err != nil {
		return nil, err
	}
	nc := len(cs.siz.comps)
	if w*h > maxSamples || w*h*nc > maxSamples {
		return nil, formatErr("image of %dx%dx%d samples is too large (limit %d)", w, h, nc, maxSamples)
	}
	c0 := cs.siz.comps[0]
	img = &Image{Width: w, Height: h, NumComponents: nc, Precision: c0.precision, Signed: c0.signed}
	img.Pix = make([]int32, w*h*nc)
	d := &decoder{cs: cs, img: img, data: raw}
	if err := d.run(); err != nil {
		return nil, err
	}
	return img, nil
}

// outputSize returns the component grid size, requiring equal
// sub-sampling of all components.
func (cs *codestream) outputSize() (w, h int, err error) {
	s := &cs.siz
	for i, c := range s.comps {
		if c.dx != s.comps[0].dx || c.dy != s.comps[0].dy {
			return 0, 0, unsupportedErr("component %d is sub-sampled differently from component 0 (not supported)", i)
		}
	}
	x0, y0, x1, y1 := s.compRect(0)
	return x1 - x0, y1 - y0, nil
}

type decoder struct {
	cs   *codestream
	img  *Image
	data []byte
}

func (d *decoder) run() error {
	cs := d.cs
	// Group tile-parts by tile, in codestream order, and split PPM headers.
	type tileData struct {
		parts [][]byte
		hdr   []byte
		ppt   bool
	}
	tiles := map[int]*tileData{}
	var order []int
	ppm := cs.ppm
	for _, tp := range cs.parts {
		t := tiles[tp.tile]
		if t == nil {
			t = &tileData{}
			tiles[tp.tile] = t
			order = append(order, tp.tile)
		}
		t.parts = append(t.parts, tp.body)
		if cs.ppm != nil {
			if len(ppm) < 4 {
				return formatErr("PPM marker segments end before tile-part %d of tile %d", tp.index, tp.tile)
			}
			n := int(uint32(ppm[0])<<24 | uint32(ppm[1])<<16 | uint32(ppm[2])<<8 | uint32(ppm[3]))
			if n > len(ppm)-4 {
				return formatErr("PPM packet headers of tile %d are truncated", tp.tile)
			}
			t.hdr = append(t.hdr, ppm[4:4+n]...)
			ppm = ppm[4+n:]
		}
		for _, p := range tp.ppt {
			t.hdr = append(t.hdr, p...)
			t.ppt = true
		}
		if t.ppt && cs.ppm != nil {
			return formatErr("tile %d has both PPM and PPT packet headers", tp.tile)
		}
	}
	ntiles := cs.siz.ntx * cs.siz.nty
	if len(order) < ntiles {
		if cs.truncated {
			return formatErr("codestream truncated: %d of %d tiles present", len(order), ntiles)
		}
		return formatErr("codestream has %d of %d tiles", len(order), ntiles)
	}
	var t1 t1Decoder
	var tmpI []int32
	var tmpF []float32
	for _, ti := range order {
		t := tiles[ti]
		body := t.parts[0]
		if len(t.parts) > 1 {
			n := 0
			for _, p := range t.parts {
				n += len(p)
			}
			body = make([]byte, 0, n)
			for _, p := range t.parts {
				body = append(body, p...)
			}
		}
		hdr := t.hdr
		if (cs.ppm != nil || t.ppt) && hdr == nil {
			hdr = []byte{}
		}
		td, err := d.setupTile(ti, body, hdr)
		if err != nil {
			return err
		}
		if err := td.forEachPacket(); err != nil {
			return err
		}
		if err := d.decodeBlocks(td, &t1); err != nil {
			return err
		}
		for c := range td.comps {
			tc := &td.comps[c]
			if tc.cs.reversible {
				tmpI = idwt53(tc.ibuf, tc.width(), tc.res, tmpI)
			} else {
				tmpF = idwt97(tc.fbuf, tc.width(), tc.res, tmpF)
			}
		}
		if err := d.store(td); err != nil {
			return err
		}
	}
	return nil
}

// setupTile resolves the coding parameters of tile ti and builds its
// structure.
func (d *decoder) setupTile(ti int, body, hdr []byte) (*tileDecoder, error) {
	cs := d.cs
	s := &cs.siz
	p, q := ti%s.ntx, ti/s.ntx
	td := &tileDecoder{idx: ti, body: body, hdr: hdr, compInfo: s.comps}
	td.x0 = max(s.tx0+p*s.tw, s.x0)
	td.y0 = max(s.ty0+q*s.th, s.y0)
	td.x1 = min(s.tx0+(p+1)*s.tw, s.x1)
	td.y1 = min(s.ty0+(q+1)*s.th, s.y1)
	th := cs.tiles[ti]
	if th == nil {
		th = &header{}
	}
	td.cod = cs.main.cod
	if th.cod != nil {
		td.cod = th.cod
	}
	switch {
	case th.hasPOC:
		td.pocs = th.pocs
	case cs.main.hasPOC:
		td.pocs = cs.main.pocs
	}
	td.comps = make([]tileComp, len(s.comps))
	for c := range td.comps {
		tc := &td.comps[c]
		ci := s.comps[c]
		tc.x0, tc.y0 = ceilDiv(td.x0, ci.dx), ceilDiv(td.y0, ci.dy)
		tc.x1, tc.y1 = ceilDiv(td.x1, ci.dx), ceilDiv(td.y1, ci.dy)
		switch {
		case th.coc[c] != nil:
			tc.cs = th.coc[c]
		case th.codCS != nil:
			tc.cs = th.codCS
		case cs.main.coc[c] != nil:
			tc.cs = cs.main.coc[c]
		default:
			tc.cs = cs.main.codCS
		}
		switch {
		case th.qcc[c] != nil:
			tc.qs = th.qcc[c]
		case th.qcd != nil:
			tc.qs = th.qcd
		case cs.main.qcc[c] != nil:
			tc.qs = cs.main.qcc[c]
		default:
			tc.qs = cs.main.qcd
		}
		if v, ok := th.rgn[c]; ok {
			tc.roiShift = v
		} else {
			tc.roiShift = cs.main.rgn[c]
		}
		if err := td.buildComp(tc, ci); err != nil {
			return nil, fmt.Errorf("tile %d component %d: %w", ti, c, err)
		}
		td.maxRes = max(td.maxRes, len(tc.res))
	}
	// Every packet takes at least one byte, so a codestream declaring more
	// packets than it has bytes is corrupt; checking this first keeps
	// hostile headers from allocating huge precinct arrays.
	if n, have := td.countPackets(), len(d.data); n > have {
		return nil, formatErr("tile %d declares %d packets but the codestream has only %d bytes", ti, n, have)
	}
	for c := range td.comps {
		tc := &td.comps[c]
		td.buildPrecincts(tc)
		n := tc.width() * tc.height()
		if tc.cs.reversible {
			tc.ibuf = make([]int32, n)
		} else {
			tc.fbuf = make([]float32, n)
		}
	}
	return td, nil
}

// parallelT1 lets tier-1 spread code-blocks over goroutines. The fuzz test
// turns it off so that a panic is not turned into an error by a worker.
var parallelT1 = true

// blockJob is one code-block to decode with its band.
type blockJob struct {
	tc *tileComp
	b  *band
	cb *codeblock
}

// decodeBlocks runs tier-1 on every code-block of the tile and writes the
// dequantized coefficients into the tile-component buffers. Blocks are
// spread over the available processors.
func (d *decoder) decodeBlocks(td *tileDecoder, t1 *t1Decoder) error {
	var jobs []blockJob
	for c := range td.comps {
		tc := &td.comps[c]
		for r := range tc.res {
			res := &tc.res[r]
			for bi := range res.bands {
				b := &res.bands[bi]
				for pi := range b.precs {
					prc := &b.precs[pi]
					for k := range prc.cbs {
						if prc.cbs[k].npasses > 0 {
							jobs = append(jobs, blockJob{tc, b, &prc.cbs[k]})
						}
					}
				}
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(jobs)/8)
	if !parallelT1 {
		workers = 1
	}
	if workers <= 1 {
		for _, j := range jobs {
			d.decodeBlock(td, t1, j)
		}
		return nil
	}
	// Code-blocks four at a time; each goroutine has its own block decoder
	// (the calling one, t1).
	t1s := make([]*t1Decoder, workers)
	t1s[0] = t1
	return parallel.For(context.Background(), (len(jobs)+3)/4, workers, func(w, c int) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = formatErr("internal error decoding a code-block: %v", r)
			}
		}()
		if t1s[w] == nil {
			t1s[w] = &t1Decoder{}
		}
		for _, j := range jobs[4*c : min(4*c+4, len(jobs))] {
			d.decodeBlock(td, t1s[w], j)
		}
		return nil
	})
}

func (d *decoder) decodeBlock(td *tileDecoder, t *t1Decoder, j blockJob) {
	tc, b, cb := j.tc, j.b, j.cb
	t.decodeBlock(cb, td.body, b.orient, tc.cs.cbStyle, tc.roiShift)
	w, h := cb.x1-cb.x0, cb.y1-cb.y0
	stride := tc.width()
	ox := cb.x0 - b.x0 + b.offx
	oy := cb.y0 - b.y0 + b.offy
	if tc.cs.reversible {
		for y := 0; y < h; y++ {
			src := (y+1)*t.stride + 1
			dst := tc.ibuf[(oy+y)*stride+ox : (oy+y)*stride+ox+w]
			for x := range dst {
				v := t.data[src+x] >> 1
				if t.flags[src+x]&fNeg != 0 {
					v = -v
				}
				dst[x] = v
			}
		}
		return
	}
	step := b.step * 0.5
	for y := 0; y < h; y++ {
		src := (y+1)*t.stride + 1
		dst := tc.fbuf[(oy+y)*stride+ox : (oy+y)*stride+ox+w]
		for x := range dst {
			v := float32(t.data[src+x]) * step
			if t.flags[src+x]&fNeg != 0 {
				v = -v
			}
			dst[x] = v
		}
	}
}

// store applies the inverse multiple component transform, the DC level
// shift and clamping, and copies the tile into the image.
func (d *decoder) store(td *tileDecoder) error {
	img := d.img
	nc := len(td.comps)
	if td.cod.mct == 1 && nc >= 3 {
		c0, c1, c2 := &td.comps[0], &td.comps[1], &td.comps[2]
		n := c0.width() * c0.height()
		if c1.width()*c1.height() != n || c2.width()*c2.height() != n {
			return formatErr("tile %d: multiple component transform over components of different sizes", td.idx)
		}
		switch {
		case c0.cs.reversible && c1.cs.reversible && c2.cs.reversible:
			y, u, v := c0.ibuf, c1.ibuf[:n], c2.ibuf[:n]
			for i := range y {
				g := y[i] - (u[i]+v[i])>>2
				y[i], u[i], v[i] = v[i]+g, g, u[i]+g
			}
		case !c0.cs.reversible && !c1.cs.reversible && !c2.cs.reversible:
			y, cb, cr := c0.fbuf, c1.fbuf[:n], c2.fbuf[:n]
			for i := range y {
				yy, b, r := y[i], cb[i], cr[i]
				y[i] = yy + float32(1.402*r)
				cb[i] = yy - float32(0.344136*b) - float32(0.714136*r)
				cr[i] = yy + float32(1.772*b)
			}
		default:
			return formatErr("tile %d: multiple component transform over components with different wavelets", td.idx)
		}
	}
	ox, oy, _, _ := d.cs.siz.compRect(0)
	for c := range td.comps {
		tc := &td.comps[c]
		ci := d.cs.siz.comps[c]
		var shift, lo, hi int64
		if ci.signed {
			lo, hi = -(1 << (ci.precision - 1)), 1<<(ci.precision-1)-1
		} else {
			shift = 1 << (ci.precision - 1)
			lo, hi = 0, 1<<ci.precision-1
		}
		w := tc.width()
		for y := 0; y < tc.height(); y++ {
			dst := ((tc.y0-oy+y)*img.Width+(tc.x0-ox))*nc + c
			if tc.cs.reversible {
				for _, v := range tc.ibuf[y*w : y*w+w] {
					s := int64(v) + shift
					img.Pix[dst] = int32(min(max(s, lo), hi))
					dst += nc
				}
			} else {
				flo, fhi := float64(lo), float64(hi)
				for _, v := range tc.fbuf[y*w : y*w+w] {
					f := math.RoundToEven(float64(v)) + float64(shift)
					if !(f >= flo) { // also catches NaN
						f = flo
					} else if f > fhi {
						f = fhi
					}
					img.Pix[dst] = int32(f)
					dst += nc
				}
			}
		}
	}
	return nil
}
