package jpeg

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math/rand"
	"strings"
	"testing"

	"sscscore/model/codec"
)

// bitWriter writes an entropy-coded segment with byte stuffing.
type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>uint(i))&1
		w.nacc++
		if w.nacc == 8 {
			w.emit(byte(w.acc))
			w.acc, w.nacc = 0, 0
		}
	}
}

func (w *bitWriter) emit(b byte) {
	w.out = append(w.out, b)
	if b == 0xFF {
		w.out = append(w.out, 0)
	}
}

func (w *bitWriter) flush() {
	for w.nacc != 0 {
		w.write(1, 1)
	}
}

func segment(m byte, payload []byte) []byte {
	b := []byte{0xFF, m}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// encodeLossless is a test encoder for lossless JPEG (SOF3) with a fixed
// Huffman table where every category 0..16 has a 5-bit code.
// planes[k] holds component k; samples are already point-transformed
// (shifted right by pt).
func encodeLossless(planes [][]int32, rows, cols, precision, psv, pt, restart int) []byte {
	nc := len(planes)
	out := []byte{0xFF, mSOI}
	sof := []byte{byte(precision), byte(rows >> 8), byte(rows), byte(cols >> 8), byte(cols), byte(nc)}
	for k := 0; k < nc; k++ {
		sof = append(sof, byte(k+1), 0x11, 0)
	}
	out = append(out, segment(mSOF3, sof)...)
	dht := []byte{0x00, 0, 0, 0, 0, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for s := 0; s <= 16; s++ {
		dht = append(dht, byte(s))
	}
	out = append(out, segment(mDHT, dht)...)
	if restart > 0 {
		out = append(out, segment(mDRI, []byte{byte(restart >> 8), byte(restart)})...)
	}
	sos := []byte{byte(nc)}
	for k := 0; k < nc; k++ {
		sos = append(sos, byte(k+1), 0x00)
	}
	sos = append(sos, byte(psv), 0, byte(pt))
	out = append(out, segment(mSOS, sos)...)
	w := &bitWriter{}
	initial := int32(1) << uint(precision-pt-1)
	rowsPerInterval := rows
	if restart > 0 {
		rowsPerInterval = restart / cols
	}
	rst := 0
	for y := 0; y < rows; y++ {
		y0 := y - y%rowsPerInterval
		if y > 0 && y == y0 {
			w.flush()
			w.out = append(w.out, 0xFF, byte(0xD0+rst%8))
			rst++
		}
		for x := 0; x < cols; x++ {
			for _, p := range planes {
				i := y*cols + x
				var pred int32
				switch {
				case x == 0 && y == y0:
					pred = initial
				case x == 0:
					pred = p[i-cols]
				case y == y0:
					pred = p[i-1]
				default:
					pred = predict(psv, p[i-1], p[i-cols], p[i-cols-1])
				}
				diff := (p[i] - pred) & 0xFFFF
				if diff > 32768 {
					diff -= 65536
				}
				a := diff
				if a < 0 {
					a = -a
				}
				s := uint(0)
				for a>>s != 0 {
					s++
				}
				w.write(uint32(s), 5)
				if s > 0 && s < 16 {
					v := diff
					if v < 0 {
						v--
					}
					w.write(uint32(v)&(1<<s-1), s)
				}
			}
		}
	}
	w.flush()
	out = append(out, w.out...)
	return append(out, 0xFF, mEOI)
}

func TestLosslessRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	type tc struct {
		rows, cols, nc, precision, psv, pt, restart, bitsStored, pixrep int
	}
	var tests []tc
	for psv := 1; psv <= 7; psv++ {
		tests = append(tests, tc{13, 17, 1, 16, psv, 0, 0, 16, 0})
	}
	tests = append(tests,
		tc{9, 11, 1, 12, 1, 2, 0, 12, 0},   // point transform
		tc{12, 10, 1, 16, 6, 0, 30, 16, 1}, // restart every 3 lines, signed
		tc{8, 8, 3, 8, 4, 0, 0, 8, 0},      // colour, interleaved
		tc{8, 8, 3, 8, 7, 1, 16, 8, 0},     // colour, restarts, point transform
		tc{10, 10, 1, 2, 1, 0, 0, 2, 0},    // 2-bit precision
		tc{6, 40, 1, 16, 1, 0, 0, 12, 1},   // 16-bit stream of a 12-bit signed image
		tc{5, 5, 1, 16, 5, 0, 0, 16, 0},    // extreme differences
	)
	for _, tt := range tests {
		n := tt.rows * tt.cols
		planes := make([][]int32, tt.nc)
		for k := range planes {
			planes[k] = make([]int32, n)
			for i := range planes[k] {
				v := int32(rng.Intn(1 << uint(tt.precision-tt.pt)))
				if i > 0 && rng.Intn(2) == 0 { // smooth regions
					v = planes[k][i-1] + int32(rng.Intn(5)) - 2
					v = max(0, min(v, 1<<uint(tt.precision-tt.pt)-1))
				}
				planes[k][i] = v
			}
		}
		if tt.precision == 16 && tt.psv == 5 {
			for i := range planes[0] {
				planes[0][i] = int32(i%2) * 65535
			}
		}
		stream := encodeLossless(planes, tt.rows, tt.cols, tt.precision, tt.psv, tt.pt, tt.restart)
		info := codec.FrameInfo{Rows: tt.rows, Columns: tt.cols, SamplesPerPixel: tt.nc, BitsAllocated: 16, BitsStored: tt.bitsStored, PixelRepresentation: tt.pixrep}
		dst := make([]int32, info.Len())
		if err := Decode(stream, info, dst); err != nil {
			t.Fatalf("%+v: got error %v, want nil", tt, err)
		}
		for i := 0; i < n; i++ {
			for k := 0; k < tt.nc; k++ {
				raw := uint32(planes[k][i]) << uint(tt.pt)
				var want int32
				if tt.pixrep == 1 {
					s := 32 - tt.bitsStored
					want = int32(raw<<s) >> s
				} else {
					want = int32(raw & (1<<tt.bitsStored - 1))
				}
				if got := dst[i*tt.nc+k]; got != want {
					t.Fatalf("%+v: sample %d comp %d = %d, want %d", tt, i, k, got, want)
				}
			}
		}
		// Every truncation must give an error, never a panic.
		for cut := 1; cut < len(stream); cut += max(1, len(stream)/50) {
			_ = Decode(stream[:cut], info, dst)
		}
		if err := Decode(stream[:len(stream)*2/3], info, dst); err == nil {
			t.Errorf("%+v: truncated stream decoded without error: got nil error, want an error", tt)
		}
	}
}

func TestErrors(t *testing.T) {
	planes := [][]int32{make([]int32, 16)}
	good := encodeLossless(planes, 4, 4, 8, 1, 0, 0)
	info := codec.FrameInfo{Rows: 4, Columns: 4, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	badPsv := bytes.Replace(good, []byte{1, 1, 0x00, 1, 0, 0}, []byte{1, 1, 0x00, 9, 0, 0}, 1)
	tests := []struct {
		name  string
		frame []byte
		info  codec.FrameInfo
		err   string
	}{
		{"no SOI", good[2:], info, "SOI"},
		{"size", good, codec.FrameInfo{Rows: 5, Columns: 4, BitsAllocated: 8, BitsStored: 8}, "header says 4x5"},
		{"samples", good, codec.FrameInfo{Rows: 4, Columns: 4, SamplesPerPixel: 3, BitsAllocated: 8, BitsStored: 8}, "components"},
		{"predictor", badPsv, info, "predictor 9"},
		{"truncated", good[:30], info, "beyond the 30-byte stream"},
		{"bad size", good, codec.FrameInfo{Rows: 0, Columns: 4, BitsStored: 8}, "image size"},
		{"progressive", append([]byte{0xFF, 0xD8}, segment(0xC2, []byte{12, 0, 4, 0, 4, 1, 1, 0x11, 0})...), info, "SOF2"},
		{"arithmetic", append([]byte{0xFF, 0xD8}, segment(0xC9, []byte{8, 0, 4, 0, 4, 1, 1, 0x11, 0})...), info, "SOF9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Decode(tt.frame, tt.info, make([]int32, 64))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// TestSequentialMatchesStd checks the DCT decoder used for 12-bit frames on
// 8-bit streams against image/jpeg (they differ by IDCT rounding only).
func TestSequentialMatchesStd(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for _, colour := range []bool{false, true} {
		const w, h = 61, 45
		var img image.Image
		if colour {
			m := image.NewRGBA(image.Rect(0, 0, w, h))
			for i := range m.Pix {
				m.Pix[i] = byte(i/4%w*4 + rng.Intn(40))
			}
			img = m
		} else {
			m := image.NewGray(image.Rect(0, 0, w, h))
			for i := range m.Pix {
				m.Pix[i] = byte(i%w*3 + i/w + rng.Intn(30))
			}
			img = m
		}
		var buf bytes.Buffer
		if err := stdjpeg.Encode(&buf, img, &stdjpeg.Options{Quality: 90}); err != nil {
			t.Fatalf("stdjpeg.Encode: got error %v, want nil", err)
		}
		ref, err := stdjpeg.Decode(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("stdjpeg.Decode: got error %v, want nil", err)
		}
		nc := 1
		if colour {
			nc = 3
		}
		info := codec.FrameInfo{Rows: h, Columns: w, SamplesPerPixel: nc, BitsAllocated: 8, BitsStored: 8}
		d := &decoder{data: buf.Bytes(), info: info, dst: make([]int32, info.Len())}
		if err := d.run(); err != nil {
			t.Fatalf("d.run: got error %v, want nil", err)
		}
		maxd := int32(0)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var want []int32
				switch m := ref.(type) {
				case *image.Gray:
					want = []int32{int32(m.GrayAt(x, y).Y)}
				case *image.YCbCr:
					c := m.YCbCrAt(x, y)
					want = []int32{int32(c.Y), int32(c.Cb), int32(c.Cr)}
				default:
					t.Fatalf("reference image: got type %T, want *image.Gray or *image.YCbCr", ref)
				}
				for k := range want {
					diff := d.planes[k][y*w+x] - want[k]
					maxd = max(maxd, diff, -diff)
				}
			}
		}
		// image/jpeg upsamples chroma by replication too, so only IDCT
		// rounding differs.
		if maxd > 2 {
			t.Errorf("colour=%v: max difference %d from image/jpeg, want <= 2", colour, maxd)
		}
	}
}

// TestBaselineGray: an 8-bit grey baseline frame is returned without colour
// conversion.
func TestBaselineGray(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, m, &stdjpeg.Options{Quality: 100}); err != nil {
		t.Fatalf("stdjpeg.Encode: got error %v, want nil", err)
	}
	info := codec.FrameInfo{Rows: 16, Columns: 16, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}
	dst := make([]int32, 256)
	if err := Decode(buf.Bytes(), info, dst); err != nil {
		t.Fatalf("Decode: got error %v, want nil", err)
	}
	for i, v := range dst {
		if d := v - int32(m.Pix[i]); d > 3 || d < -3 {
			t.Fatalf("sample %d = %d, want about %d", i, v, m.Pix[i])
		}
	}
	wrong := info
	wrong.Rows = 17
	if err := Decode(buf.Bytes(), wrong, make([]int32, 17*16)); err == nil || !strings.Contains(err.Error(), "header says 16x17") {
		t.Errorf("size mismatch: got error %v, want one saying \"header says 16x17\"", err)
	}
	c := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < 256; i++ {
		c.Set(i%16, i/16, color.RGBA{200, 30, 90, 255})
	}
	buf.Reset()
	if err := stdjpeg.Encode(&buf, c, &stdjpeg.Options{Quality: 100}); err != nil {
		t.Fatalf("stdjpeg.Encode: got error %v, want nil", err)
	}
	info.SamplesPerPixel = 3
	dst = make([]int32, 3*256)
	if err := Decode(buf.Bytes(), info, dst); err != nil {
		t.Fatalf("Decode: got error %v, want nil", err)
	}
	for k, want := range []int32{200, 30, 90} {
		if d := dst[3*100+k] - want; d > 4 || d < -4 {
			t.Errorf("RGB sample %d = %d, want about %d", k, dst[3*100+k], want)
		}
	}
}

func TestRegistered(t *testing.T) {
	for _, uid := range []string{codec.JPEGLossless, codec.JPEGLosslessSV1, codec.JPEGBaseline8, codec.JPEGExtended12} {
		if _, ok := codec.Lookup(uid); !ok {
			t.Errorf("Lookup(%s): got no decoder, want one registered", uid)
		}
	}
}
