package jpeg2000

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Conformance fixtures: small synthetic images encoded by an independent
// encoder (OpenJPEG 2.5.0's opj_compress, Debian package libopenjp2-tools)
// with every feature the decoder claims. The images are generated here
// (synthImage) so lossless fixtures are checked sample for sample against
// the image that was encoded; lossy ones are checked against OpenJPEG's own
// decoding (opj_decompress output stored as NAME.opj.raw, little-endian
// 16-bit, planar) to within one grey level, and against the original.
//
// Regenerate with: J2K_GEN=1 go test -run TestGenerateFixtures ./model/codec/jpeg2000
// (needs opj_compress and opj_decompress on PATH).

type fixtureCase struct {
	name          string
	w, h, nc      int
	bits          int
	signed        bool
	sub           int // component sub-sampling (1 = none)
	args          string
	lossy         bool
	ext           string  // ".j2k" (default) or ".jp2"
	minPSNR       float64 // lossy: floor for the PSNR against the original (OpenJPEG's own, rounded down)
	description   string
	maxOpjDiff    int  // tolerated difference from OpenJPEG (lossy), default 1
	rewritePacked bool // also tested with packet headers moved to PPM and PPT
}

var fixtureCases = []fixtureCase{
	{name: "u12_default", w: 97, h: 75, nc: 1, bits: 12, args: "", description: "12-bit unsigned, 5 levels, 64x64 blocks, odd size", rewritePacked: true},
	{name: "u16_full", w: 64, h: 48, nc: 1, bits: 16, args: "-n 4", description: "16-bit unsigned, full range"},
	{name: "s16", w: 61, h: 53, nc: 1, bits: 16, signed: true, args: "-n 4", description: "16-bit signed"},
	{name: "s12", w: 50, h: 40, nc: 1, bits: 12, signed: true, args: "-n 3", description: "12-bit signed"},
	{name: "u8", w: 33, h: 17, nc: 1, bits: 8, args: "-n 3", description: "8-bit unsigned"},
	{name: "u2", w: 40, h: 30, nc: 1, bits: 2, args: "-n 2", description: "2-bit unsigned"},
	{name: "levels0", w: 45, h: 31, nc: 1, bits: 12, args: "-n 1", description: "no wavelet levels"},
	{name: "levels7", w: 130, h: 129, nc: 1, bits: 12, args: "-n 8", description: "7 levels down to 2x2"},
	{name: "tiles", w: 97, h: 75, nc: 1, bits: 12, args: "-t 32,24 -n 3", description: "12 tiles"},
	{name: "tiles_offsets", w: 90, h: 70, nc: 1, bits: 12, args: "-d 7,9 -T 3,5 -t 33,21 -n 3", description: "image and tile offsets, odd tile size"},
	{name: "offsets_levels", w: 33, h: 17, nc: 1, bits: 10, args: "-d 1,3 -n 4", description: "odd image offset with 3 levels"},
	{name: "lrcp_layers", w: 97, h: 75, nc: 1, bits: 12, args: "-p LRCP -c [16,16],[16,16],[32,32] -r 30,10,1 -n 4", description: "LRCP, precincts, 3 layers", rewritePacked: true},
	{name: "rlcp_layers", w: 97, h: 75, nc: 1, bits: 12, args: "-p RLCP -c [16,16],[16,16],[32,32] -r 30,10,1 -n 4", description: "RLCP, precincts, 3 layers"},
	{name: "rpcl_layers", w: 97, h: 75, nc: 3, bits: 8, args: "-p RPCL -c [16,16],[16,16],[32,32] -r 30,10,1 -n 4 -mct 0", description: "RPCL, 3 components"},
	{name: "pcrl_layers", w: 97, h: 75, nc: 3, bits: 8, args: "-p PCRL -c [16,16],[16,16],[32,32] -r 30,10,1 -n 4 -mct 0", description: "PCRL, 3 components"},
	{name: "cprl_layers", w: 97, h: 75, nc: 3, bits: 8, args: "-p CPRL -c [16,16],[16,16],[32,32] -r 30,10,1 -n 4 -mct 0", description: "CPRL, 3 components"},
	{name: "rpcl_tiles_offsets", w: 90, h: 70, nc: 3, bits: 8, args: "-p RPCL -c [8,8],[16,16] -d 3,5 -T 1,2 -t 40,30 -n 3 -r 20,1 -mct 0", description: "RPCL with tile and image offsets"},
	{name: "pcrl_subsampled", w: 80, h: 60, nc: 3, bits: 8, sub: 2, args: "-p PCRL -c [16,16],[16,16] -n 3 -r 20,1 -mct 0", description: "PCRL, all components sub-sampled 2x2"},
	{name: "poc", w: 97, h: 75, nc: 3, bits: 8, args: "-n 4 -r 20,5,1 -mct 0 -POC T1=0,0,3,2,3,RPCL/T1=2,0,3,5,2,CPRL/T1=2,2,3,5,3,LRCP", description: "progression order change"},
	{name: "bypass", w: 97, h: 75, nc: 1, bits: 16, args: "-M 1 -n 3", description: "arithmetic coding bypass (lazy)"},
	{name: "bypass_layers", w: 97, h: 75, nc: 1, bits: 16, args: "-M 1 -n 3 -r 20,5,1", description: "bypass over 3 layers"},
	{name: "reset", w: 97, h: 75, nc: 1, bits: 12, args: "-M 2 -n 3", description: "context reset"},
	{name: "termall", w: 97, h: 75, nc: 1, bits: 12, args: "-M 4 -n 3 -r 20,1", description: "termination on each pass, 2 layers"},
	{name: "causal", w: 97, h: 75, nc: 1, bits: 12, args: "-M 8 -n 3", description: "vertically causal contexts"},
	{name: "predterm", w: 97, h: 75, nc: 1, bits: 12, args: "-M 16 -n 3", description: "predictable termination"},
	{name: "segsym", w: 97, h: 75, nc: 1, bits: 12, args: "-M 32 -n 3", description: "segmentation symbols"},
	{name: "allstyles", w: 97, h: 75, nc: 1, bits: 16, signed: true, args: "-M 63 -n 3 -r 10,3,1", description: "all code-block styles, 3 layers", rewritePacked: true},
	{name: "cb_4x64", w: 97, h: 75, nc: 1, bits: 12, args: "-b 4,64 -n 3", description: "4x64 code-blocks"},
	{name: "cb_64x4", w: 97, h: 75, nc: 1, bits: 12, args: "-b 64,4 -n 3", description: "64x4 code-blocks"},
	{name: "cb_16", w: 97, h: 75, nc: 1, bits: 12, args: "-b 16,16 -c [32,32],[16,16],[8,8] -n 3", description: "16x16 blocks limited by 8x8 precincts"},
	{name: "sop_eph", w: 97, h: 75, nc: 1, bits: 12, args: "-SOP -EPH -r 10,1 -n 3", description: "SOP and EPH markers", rewritePacked: true},
	{name: "plt_tlm", w: 97, h: 75, nc: 1, bits: 12, args: "-PLT -TLM -t 50,40 -n 3", description: "PLT and TLM markers"},
	{name: "tileparts_r", w: 97, h: 75, nc: 1, bits: 12, args: "-TP R -t 50,40 -n 3", description: "tile-parts per resolution", rewritePacked: true},
	{name: "tileparts_l", w: 97, h: 75, nc: 1, bits: 12, args: "-TP L -r 20,1 -n 3", description: "tile-parts per layer"},
	{name: "tileparts_c", w: 64, h: 40, nc: 3, bits: 8, args: "-TP C -mct 0 -n 3", description: "tile-parts per component"},
	{name: "rgb_rct", w: 61, h: 45, nc: 3, bits: 8, args: "-mct 1 -n 3", description: "reversible colour transform"},
	{name: "roi", w: 97, h: 75, nc: 1, bits: 12, args: "-ROI c=0,U=3 -n 3", description: "RGN maxshift"},
	{name: "jp2", w: 64, h: 48, nc: 1, bits: 12, args: "-n 3", ext: ".jp2", description: "JP2 file format"},
	{name: "tiny_1x1", w: 1, h: 1, nc: 1, bits: 12, args: "-n 1", description: "1x1 image"},
	{name: "row_40x1", w: 40, h: 1, nc: 1, bits: 12, args: "-n 1", description: "one row"},
	{name: "col_1x40", w: 1, h: 40, nc: 1, bits: 12, args: "-n 1", description: "one column"},
	{name: "irrev", w: 97, h: 75, nc: 1, bits: 12, args: "-I -r 8 -n 4", lossy: true, minPSNR: 28, description: "9/7, one layer"},
	{name: "irrev_full", w: 97, h: 75, nc: 1, bits: 16, signed: true, args: "-I -n 5", lossy: true, minPSNR: 100, maxOpjDiff: 3, description: "9/7 with every pass kept, signed 16-bit (OpenJPEG itself: 102.8 dB)"},
	{name: "irrev_layers_rpcl", w: 97, h: 75, nc: 1, bits: 12, args: "-I -r 40,10,4 -p RPCL -c [32,32],[16,16] -n 4", lossy: true, minPSNR: 32, description: "9/7, RPCL, 3 layers"},
	{name: "irrev_tiles_offsets", w: 90, h: 70, nc: 1, bits: 12, args: "-I -t 40,40 -T 3,3 -d 5,5 -r 5 -n 3", lossy: true, minPSNR: 31, description: "9/7, tiles and offsets"},
	{name: "irrev_odd_levels", w: 33, h: 17, nc: 1, bits: 10, args: "-I -d 1,3 -n 4 -r 3", lossy: true, minPSNR: 26.5, description: "9/7, odd offsets"},
	{name: "rgb_ict", w: 61, h: 45, nc: 3, bits: 8, args: "-I -mct 1 -r 6 -n 3", lossy: true, minPSNR: 26.5, description: "irreversible colour transform"},
	{name: "irrev_styles", w: 97, h: 75, nc: 1, bits: 12, args: "-I -M 63 -r 10,4 -n 3", lossy: true, minPSNR: 34, description: "9/7, all code-block styles, 2 layers"},
}

// synthImage returns a deterministic test image: planar components of
// smooth ramps, an edge, and noise, spanning the full sample range.
func synthImage(fc fixtureCase) [][]int32 {
	cw, ch := fc.compSize()
	out := make([][]int32, fc.nc)
	seed := uint32(2463534242)
	rnd := func() uint32 {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		return seed
	}
	maxv := int64(1)<<fc.bits - 1
	for c := range out {
		out[c] = make([]int32, cw*ch)
		for y := 0; y < ch; y++ {
			for x := 0; x < cw; x++ {
				fx, fy := float64(x)/float64(max(cw, 2)-1), float64(y)/float64(max(ch, 2)-1)
				v := 0.5 + 0.3*math.Sin(6*fx+float64(c))*math.Cos(4*fy)
				if (x-cw/3)*(x-cw/3)+(y-ch/2)*(y-ch/2) < cw*ch/16 {
					v += 0.25
				}
				n := float64(int(rnd()%41)-20) / 400
				s := int64((v + n) * float64(maxv))
				if (x+y+c)%53 == 0 {
					s = maxv // extremes
				} else if (x*7+y+c)%59 == 0 {
					s = 0
				}
				s = min(max(s, 0), maxv)
				if fc.signed {
					s -= 1 << (fc.bits - 1)
				}
				out[c][y*cw+x] = int32(s)
			}
		}
	}
	return out
}

func (fc fixtureCase) compSize() (int, int) {
	s := max(fc.sub, 1)
	return (fc.w + s - 1) / s, (fc.h + s - 1) / s
}

func (fc fixtureCase) file() string {
	ext := fc.ext
	if ext == "" {
		ext = ".j2k"
	}
	return filepath.Join("testdata", fc.name+ext)
}

// TestGenerateFixtures writes the fixtures with OpenJPEG. It runs only
// with J2K_GEN=1.
func TestGenerateFixtures(t *testing.T) {
	if os.Getenv("J2K_GEN") != "1" {
		t.Skip("set J2K_GEN=1 to regenerate the fixtures with opj_compress")
	}
	tmp := t.TempDir()
	for _, fc := range fixtureCases {
		img := synthImage(fc)
		raw := filepath.Join(tmp, fc.name+".raw")
		var buf []byte
		for _, plane := range img {
			for _, v := range plane {
				if fc.bits <= 8 {
					buf = append(buf, byte(v))
				} else {
					buf = binary.BigEndian.AppendUint16(buf, uint16(v))
				}
			}
		}
		if err := os.WriteFile(raw, buf, 0o644); err != nil {
			t.Fatalf("os.WriteFile: got error %v, want nil", err)
		}
		sign := "u"
		if fc.signed {
			sign = "s"
		}
		format := fmt.Sprintf("%d,%d,%d,%d,%s", fc.w, fc.h, fc.nc, fc.bits, sign)
		if fc.sub > 1 {
			subs := make([]string, fc.nc)
			for i := range subs {
				subs[i] = fmt.Sprintf("%dx%d", fc.sub, fc.sub)
			}
			format += "@" + strings.Join(subs, ":")
		}
		args := append([]string{"-i", raw, "-o", fc.file(), "-F", format}, strings.Fields(fc.args)...)
		if out, err := exec.Command("opj_compress", args...).CombinedOutput(); err != nil || strings.Contains(string(out), "failed") {
			t.Errorf("%s: opj_compress %v: got error %v, want nil\n%s", fc.name, args, err, out)
			continue
		}
		if fc.lossy {
			out := filepath.Join(tmp, fc.name+".out.raw")
			if o, err := exec.Command("opj_decompress", "-i", fc.file(), "-o", out).CombinedOutput(); err != nil {
				t.Errorf("%s: opj_decompress: got error %v, want nil\n%s", fc.name, err, o)
				continue
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("os.ReadFile: got error %v, want nil", err)
			}
			// Store as 16-bit little-endian whatever the depth.
			if fc.bits <= 8 {
				w := make([]byte, 0, 2*len(b))
				for _, v := range b {
					w = binary.LittleEndian.AppendUint16(w, uint16(v))
				}
				b = w
			}
			if err := os.WriteFile(filepath.Join("testdata", fc.name+".opj.raw"), b, 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
		}
	}
}

func TestFixtures(t *testing.T) {
	for _, fc := range fixtureCases {
		t.Run(fc.name, func(t *testing.T) {
			data, err := os.ReadFile(fc.file())
			if err != nil {
				t.Fatalf("os.ReadFile: got error %v, want nil", err)
			}
			checkFixture(t, fc, data, "")
			if fc.rewritePacked {
				for _, mode := range []string{"PPM", "PPT"} {
					packed, err := movePacketHeaders(data, mode == "PPM")
					if err != nil {
						t.Fatalf("%s rewrite: got error %v, want nil", mode, err)
					}
					checkFixture(t, fc, packed, mode)
				}
			}
		})
	}
}

func checkFixture(t *testing.T, fc fixtureCase, data []byte, variant string) {
	t.Helper()
	img, err := Decode(data)
	if err != nil {
		t.Fatalf("%s %s: got error %v, want nil", fc.description, variant, err)
	}
	cw, ch := fc.compSize()
	if img.Width != cw || img.Height != ch || img.NumComponents != fc.nc || img.Precision != fc.bits || img.Signed != fc.signed {
		t.Fatalf("%s: got %dx%dx%d %d-bit signed=%v, want %dx%dx%d %d-bit signed=%v", variant, img.Width, img.Height,
			img.NumComponents, img.Precision, img.Signed, cw, ch, fc.nc, fc.bits, fc.signed)
	}
	want := synthImage(fc)
	n := cw * ch
	if !fc.lossy {
		for c := 0; c < fc.nc; c++ {
			for i := 0; i < n; i++ {
				if got := img.Pix[i*fc.nc+c]; got != want[c][i] {
					t.Fatalf("%s: component %d sample (%d,%d) = %d, want %d", variant, c, i%cw, i/cw, got, want[c][i])
				}
			}
		}
		return
	}
	ref, err := os.ReadFile(filepath.Join("testdata", fc.name+".opj.raw"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if len(ref) != 2*n*fc.nc {
		t.Fatalf("reference has %d bytes, want %d", len(ref), 2*n*fc.nc)
	}
	maxOpj := max(fc.maxOpjDiff, 1)
	var worst, ndiff int
	var se float64
	for c := 0; c < fc.nc; c++ {
		for i := 0; i < n; i++ {
			got := img.Pix[i*fc.nc+c]
			r := int32(binary.LittleEndian.Uint16(ref[2*(c*n+i):]))
			if fc.signed {
				r = int32(int16(r))
			}
			if fc.bits < 16 && fc.signed {
				r = r << (32 - fc.bits) >> (32 - fc.bits)
			}
			d := int(got - r)
			if d < 0 {
				d = -d
			}
			if d > 0 {
				ndiff++
			}
			worst = max(worst, d)
			e := float64(got - want[c][i])
			se += e * e
		}
	}
	// Float rounding makes a few samples differ by one grey level (more at
	// 16 bits); elsewhere the decoders agree.
	if worst > maxOpj || (maxOpj == 1 && ndiff > n*fc.nc/50+1) {
		t.Errorf("%s: got differences from OpenJPEG of up to %d in %d of %d samples, want at most %d (in at most %d samples when 1)", variant, worst, ndiff, n*fc.nc, maxOpj, n*fc.nc/50+1)
	}
	peak := float64(int64(1)<<fc.bits - 1)
	psnr := 10 * math.Log10(peak*peak/(se/float64(n*fc.nc)))
	if psnr < fc.minPSNR {
		t.Errorf("%s: PSNR %.1f dB against the original, want >= %.1f", variant, psnr, fc.minPSNR)
	}
	t.Logf("%s: max diff from OpenJPEG %d (%d samples), PSNR %.1f dB", variant, worst, ndiff, psnr)
}
