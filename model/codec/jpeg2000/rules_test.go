package jpeg2000

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"

	"sscscore/model/codec"
)

func fixture(t *testing.T, name string) (fixtureCase, []byte) {
	t.Helper()
	for _, fc := range fixtureCases {
		if fc.name == name {
			b, err := os.ReadFile(fc.file())
			if err != nil {
				t.Fatalf("os.ReadFile: got error %v, want nil", err)
			}
			return fc, b
		}
	}
	t.Fatalf("fixtures: got none named %s, want one", name)
	return fixtureCase{}, nil
}

// TestDICOMSignRules checks the header/codestream disagreement rules of
// DICOMDecoder on fixtures whose samples are known.
func TestDICOMSignRules(t *testing.T) {
	cases := []struct {
		fixture   string
		bs, pr    int
		transform func(v int32) int32
	}{
		// Agreement: samples as coded, whatever BitsStored says.
		{"u12_default", 12, 0, func(v int32) int32 { return v }},
		{"u12_default", 16, 0, func(v int32) int32 { return v }},
		{"s16", 16, 1, func(v int32) int32 { return v }},
		// Unsigned 12-bit codestream, signed header: sign-extend from 12.
		{"u12_default", 12, 1, func(v int32) int32 { return v << 20 >> 20 }},
		// Signed 12-bit codestream, unsigned header: mask to 12 bits.
		{"s12", 12, 0, func(v int32) int32 { return v & 0xFFF }},
		// Full 16 bits, unsigned codestream, signed header: two's complement.
		{"u16_full", 16, 1, func(v int32) int32 { return int32(int16(v)) }},
		// Full 16 bits, signed codestream, unsigned header: keep the sign.
		{"s16", 16, 0, func(v int32) int32 { return v }},
	}
	for _, c := range cases {
		fc, data := fixture(t, c.fixture)
		fi := codec.FrameInfo{Rows: fc.h, Columns: fc.w, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: c.bs, PixelRepresentation: c.pr}
		dst := make([]int32, fi.Len())
		if err := (DICOMDecoder{}).Decode(data, fi, dst); err != nil {
			t.Fatalf("%s: got error %v, want nil", c.fixture, err)
		}
		want := synthImage(fc)[0]
		for i := range dst {
			if w := c.transform(want[i]); dst[i] != w {
				t.Fatalf("%s BitsStored %d PixRep %d: sample %d = %d, want %d", c.fixture, c.bs, c.pr, i, dst[i], w)
			}
		}
	}
}

func TestDICOMErrors(t *testing.T) {
	fc, data := fixture(t, "u12_default")
	ok := codec.FrameInfo{Rows: fc.h, Columns: fc.w, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12}
	cases := []struct {
		name string
		data []byte
		fi   codec.FrameInfo
		dst  int
		want string
	}{
		{"size", data, codec.FrameInfo{Rows: fc.h + 1, Columns: fc.w, SamplesPerPixel: 1, BitsAllocated: 16, BitsStored: 12}, fc.w * (fc.h + 1), "header says"},
		{"components", data, codec.FrameInfo{Rows: fc.h, Columns: fc.w, SamplesPerPixel: 3, BitsAllocated: 16, BitsStored: 12}, 3 * fc.w * fc.h, "header says"},
		{"container", data, codec.FrameInfo{Rows: fc.h, Columns: fc.w, SamplesPerPixel: 1, BitsAllocated: 8, BitsStored: 8}, fc.w * fc.h, "BitsAllocated"},
		{"dst", data, ok, 10, "destination"},
		{"not j2k", []byte("DICM is not a codestream"), ok, fc.w * fc.h, "neither"},
		{"empty", nil, ok, fc.w * fc.h, "neither"},
		{"truncated", data[:len(data)/2], ok, fc.w * fc.h, "ends"},
	}
	for _, c := range cases {
		err := (DICOMDecoder{}).Decode(c.data, c.fi, make([]int32, c.dst))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error about %q", c.name, err, c.want)
		}
	}
}

// TestTruncationAndCorruption cuts and damages codestreams everywhere: the
// decoder must return an error or an image, never panic; every truncation
// of a lossless stream before its last packet must be an error.
func TestTruncationAndCorruption(t *testing.T) {
	for _, name := range []string{"u12_default", "allstyles", "tileparts_r", "poc", "irrev_styles", "jp2"} {
		fc, data := fixture(t, name)
		step := max(1, len(data)/60)
		for n := 0; n < len(data)-2; n += step {
			img, err := decodeUnguarded(data[:n], 1<<20)
			if err == nil && !fc.lossy && n < len(data)-2 {
				// Only padding after the last packet may be cut.
				want := synthImage(fc)
				if img.Pix[len(img.Pix)-1] != want[fc.nc-1][len(want[0])-1] {
					t.Errorf("%s cut at %d of %d decodes without error to different samples, got %v, want %v", name, n, len(data), img.Pix[len(img.Pix)-1], want[fc.nc-1][len(want[0])-1])
				}
			}
		}
		b := append([]byte(nil), data...)
		for i := 0; i < len(b); i += step {
			for _, x := range []byte{0xFF, 0x01} {
				old := b[i]
				b[i] ^= x
				decodeUnguarded(b, 1<<20)
				b[i] = old
			}
		}
	}
	// A stream that OpenJPEG 2.5.0 wrote with a progression order change
	// and without some of its packets (opj_decompress returns garbage).
	data, err := os.ReadFile("testdata/bad_poc_missing_packets.j2k")
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if _, err := Decode(data); err == nil || !errors.As(err, new(FormatError)) || !strings.Contains(err.Error(), "ends before packet") {
		t.Errorf("truncated POC stream: got %v, want a FormatError saying \"ends before packet\"", err)
	}
}

// mainMarkers splits a codestream into SOC+SIZ, the other main-header
// marker segments, and the rest (from the first SOT).
func mainMarkers(t *testing.T, raw []byte) (head []byte, segs [][]byte, rest []byte) {
	t.Helper()
	pos := 4 + int(binary.BigEndian.Uint16(raw[4:]))
	head = raw[:pos]
	for binary.BigEndian.Uint16(raw[pos:]) != mSOT {
		l := int(binary.BigEndian.Uint16(raw[pos+2:]))
		segs = append(segs, raw[pos:pos+2+l])
		pos += 2 + l
	}
	return head, segs, raw[pos:]
}

func markerSeg(marker int, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(marker))
	b = binary.BigEndian.AppendUint16(b, uint16(len(body)+2))
	return append(b, body...)
}

// TestParameterPrecedence moves the coding and quantization parameters of
// a fixture into COC/QCC and tile-part COD/QCD marker segments, with wrong
// defaults left where they must be overridden (Tile-part COC > Tile-part COD
// > Main COC > Main COD, and the same for QCC/QCD).
func TestParameterPrecedence(t *testing.T) {
	fc, data := fixture(t, "u12_default")
	head, segs, rest := mainMarkers(t, data)
	var cod, qcd []byte
	for _, s := range segs {
		switch int(binary.BigEndian.Uint16(s)) {
		case mCOD:
			cod = s[4:]
		case mQCD:
			qcd = s[4:]
		}
	}
	if cod == nil || qcd == nil {
		t.Fatalf("fixture: got COD %v, QCD %v; want both", cod != nil, qcd != nil)
	}
	// Wrong parameters: one level, 32x32 blocks, 9/7; 3 guard bits and
	// other exponents.
	badCOD := append(append([]byte(nil), cod[:5]...), 1, 3, 3, 0, 0)
	badQCD := []byte{0x60}
	for i := 0; i < 16; i++ {
		badQCD = append(badQCD, 0x50)
	}
	coc := append([]byte{0, cod[0] & 1}, cod[5:]...) // component 0
	qcc := append([]byte{0}, qcd...)
	badCOC := append([]byte{0, 0}, badCOD[5:]...)
	badQCC := append([]byte{0}, badQCD...)
	inTile := func(markers ...[]byte) []byte {
		var extra []byte
		for _, m := range markers {
			extra = append(extra, m...)
		}
		r := append([]byte(nil), rest[:12]...)
		binary.BigEndian.PutUint32(r[6:], binary.BigEndian.Uint32(rest[6:])+uint32(len(extra)))
		r = append(r, extra...)
		return append(r, rest[12:]...)
	}
	build := func(main [][]byte, tile []byte) []byte {
		out := append([]byte(nil), head...)
		for _, m := range main {
			out = append(out, m...)
		}
		return append(out, tile...)
	}
	variants := map[string][]byte{
		"main COC and QCC over main COD and QCD": build([][]byte{
			markerSeg(mCOD, badCOD), markerSeg(mQCD, badQCD), markerSeg(mCOC, coc), markerSeg(mQCC, qcc)}, rest),
		"tile COD and QCD over main COC and QCC": build([][]byte{
			markerSeg(mCOD, badCOD), markerSeg(mQCD, badQCD), markerSeg(mCOC, badCOC), markerSeg(mQCC, badQCC)},
			inTile(markerSeg(mCOD, cod), markerSeg(mQCD, qcd))),
		"tile COC and QCC over tile COD and QCD": build([][]byte{
			markerSeg(mCOD, cod), markerSeg(mQCD, qcd)},
			inTile(markerSeg(mCOD, badCOD), markerSeg(mQCD, badQCD), markerSeg(mCOC, coc), markerSeg(mQCC, qcc))),
		"QCD before COD": build([][]byte{markerSeg(mQCD, qcd), markerSeg(mCOD, cod)}, rest),
	}
	want := synthImage(fc)[0]
	for name, v := range variants {
		img, err := Decode(v)
		if err != nil {
			t.Errorf("%s: got error %v, want nil", name, err)
			continue
		}
		for i := range want {
			if img.Pix[i] != want[i] {
				t.Errorf("%s: sample %d = %d, want %d", name, i, img.Pix[i], want[i])
				break
			}
		}
	}
	// And the wrong parameters do matter: used alone they fail.
	if img, err := Decode(build([][]byte{markerSeg(mCOD, badCOD), markerSeg(mQCD, badQCD)}, rest)); err == nil && img.Pix[0] == want[0] && img.Pix[len(want)-1] == want[len(want)-1] {
		t.Error("wrong parameters alone: got a correct decode, want a wrong one (else the test proves nothing)")
	}
}

func TestDecodeConfig(t *testing.T) {
	_, data := fixture(t, "jp2")
	cfg, err := DecodeConfig(data)
	if err != nil {
		t.Fatalf("DecodeConfig: got error %v, want nil", err)
	}
	want := Config{Width: 64, Height: 48, NumComponents: 1, Precision: 12, Reversible: true, Tiles: 1, Levels: 2, Layers: 1}
	if cfg != want {
		t.Errorf("got %+v, want %+v", cfg, want)
	}
	if _, err := DecodeConfig([]byte{0xFF, 0x4F, 0xFF, 0x51, 0, 5}); err == nil {
		t.Errorf("short SIZ accepted: got nil error, want an error")
	}
}

// TestHostileSize: a 40-byte header that declares a 20000x20000 image is
// refused before anything large is allocated.
func TestHostileSize(t *testing.T) {
	siz := []byte{0, 0}
	for _, v := range []uint32{20000, 20000, 0, 0, 20000, 20000, 0, 0} {
		siz = binary.BigEndian.AppendUint32(siz, v)
	}
	siz = append(siz, 0, 1, 15, 1, 1) // one 16-bit unsigned component
	cs := []byte{0xFF, 0x4F}
	cs = append(cs, markerSeg(mSIZ, siz)...)
	cs = append(cs, markerSeg(mCOD, []byte{0, 0, 0, 1, 0, 0, 4, 4, 0, 1})...)
	cs = append(cs, markerSeg(mQCD, []byte{0x40, 0x88})...)
	cs = append(cs, 0xFF, 0x90, 0, 10, 0, 0, 0, 0, 0, 15, 0, 1, 0xFF, 0x93, 0x00, 0xFF, 0xD9)
	if _, err := DecodeConfig(cs); err != nil {
		t.Fatalf("config: got error %v, want nil", err)
	}
	_, err := Decode(cs)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("got %v, want a too-large error", err)
	}
}
