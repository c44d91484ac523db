package dcmwrite

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/volume"
)

// testVolume returns a small volume with a recognisable voxel pattern.
func testVolume(t testing.TB, nz, ny, nx int, lo int) *volume.Volume {
	t.Helper()
	g := volume.Geometry{
		Nz: nz, Ny: ny, Nx: nx,
		Spacing:   [3]float64{0.7, 0.7, 1.25},
		Origin:    [3]float64{-179.65, -180.35, 100.5},
		Direction: [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, -1}},
	}
	for k := 0; k < nz; k++ {
		g.SliceZ = append(g.SliceZ, 100.5-1.25*float64(k))
	}
	vox := make([]int16, nz*ny*nx)
	for i := range vox {
		vox[i] = int16(lo + (i*37)%3000)
	}
	v, err := volume.FromVoxels(g, vox)
	if err != nil {
		t.Fatalf("volume.FromVoxels: got error %v, want nil", err)
	}
	return v
}

func TestUIDDeterministic(t *testing.T) {
	a, b, c := UID("x"), UID("x"), UID("y")
	if a != b || a == c {
		t.Fatalf("UID(x), UID(x), UID(y): got %s %s %s, want the first two equal, the third different", a, b, c)
	}
	if !strings.HasPrefix(a, "2.25.") || len(a) > 64 {
		t.Fatalf("UID: got %q, want 2.25.<digits>, at most 64 characters", a)
	}
	for _, r := range a {
		if r != '.' && (r < '0' || r > '9') {
			t.Fatalf("UID: got %q, want only digits and dots", a)
		}
	}
}

func TestDS(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {-1024, "-1024"}, {0.646484375, "0.646484375"}, {1.0 / 3, "0.33333333333333"},
		{-123.45678901234567, "-123.45678901235"},
	} {
		if got := DS(c.v); got != c.want || len(got) > 16 {
			t.Errorf("DS(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestWriteSliceReadBack(t *testing.T) {
	for _, c := range []struct {
		name string
		meta SeriesMeta
		lo   int
	}{
		{"signed-explicit", SeriesMeta{Signed: true, Kernel: "B70f"}, -1500},
		{"unsigned-implicit", SeriesMeta{Intercept: -1024, ImplicitVR: true}, -1024},
		{"unsigned-12bit", SeriesMeta{Intercept: -1024, BitsStored: 12}, -1024},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := testVolume(t, 3, 4, 5, c.lo)
			var buf bytes.Buffer
			if err := WriteSlice(&buf, v, 1, c.meta); err != nil {
				t.Fatalf("WriteSlice: got error %v, want nil", err)
			}
			dset, err := dicom.Parse(bytes.NewReader(buf.Bytes()), int64(buf.Len()), nil, dicom.SkipProcessingPixelDataValue())
			if err != nil {
				t.Fatalf("dicom.Parse: got error %v, want nil", err)
			}
			str := func(tg tag.Tag) string {
				e, err := dset.FindElementByTag(tg)
				if err != nil {
					t.Fatalf("%v: got error %v, want nil", tg, err)
				}
				return strings.Join(dicom.MustGetStrings(e.Value), `\`)
			}
			if got := str(tag.ImagePositionPatient); got != `-179.65\-180.35\99.25` {
				t.Errorf("IPP %q, want %q", got, `-179.65\-180.35\99.25`)
			}
			if got := str(tag.ImageOrientationPatient); got != `1\0\0\0\1\0` {
				t.Errorf("IOP %q, want %q", got, `1\0\0\0\1\0`)
			}
			if got := str(tag.SOPClassUID); got != CTImageStorage {
				t.Errorf("SOP class %q, want %v", got, CTImageStorage)
			}
			if got := str(tag.Modality); got != "CT" {
				t.Errorf("modality %q, want %q", got, "CT")
			}
			e, _ := dset.FindElementByTag(tag.PixelData)
			raw := dicom.MustGetPixelDataInfo(e.Value).UnprocessedValueData
			slope, icpt := c.meta.Slope, c.meta.Intercept
			if slope == 0 {
				slope = 1
			}
			want := v.SliceView(1)
			for i := range want {
				s := int(binary.LittleEndian.Uint16(raw[2*i:]))
				if c.meta.Signed {
					s = int(int16(s))
				}
				if got := int(float64(s)*slope + icpt); got != int(want[i]) {
					t.Fatalf("voxel %d: %d, want %d", i, got, want[i])
				}
			}
			// Deterministic output.
			var buf2 bytes.Buffer
			if err := WriteSlice(&buf2, v, 1, c.meta); err != nil {
				t.Fatalf("WriteSlice: got error %v, want nil", err)
			}
			if !bytes.Equal(buf.Bytes(), buf2.Bytes()) {
				t.Error("two writes: got different bytes, want the same")
			}
		})
	}
}

func TestWriteRejectsUnrepresentable(t *testing.T) {
	v := testVolume(t, 2, 2, 2, -2000)
	if err := WriteSlice(&bytes.Buffer{}, v, 0, SeriesMeta{Intercept: -1024}); err == nil {
		t.Fatal("HU -2000 stored unsigned with intercept -1024: want an error")
	}
	v = testVolume(t, 2, 2, 2, 0)
	if err := WriteSlice(&bytes.Buffer{}, v, 0, SeriesMeta{Intercept: -1024, BitsStored: 10}); err == nil {
		t.Fatal("values above 1023 in 10 bits: want an error")
	}
}

func TestWriteSeries(t *testing.T) {
	v := testVolume(t, 4, 3, 3, -1024)
	dir := t.TempDir()
	var calls int
	paths, err := WriteSeries(context.Background(), dir, v, SeriesMeta{Intercept: -1024, UIDSeed: "t"}, func(done, total int) {
		calls++
		if done != calls || total != 4 {
			t.Errorf("progress(%d,%d) at call %d, want progress(%d,4)", done, total, calls, calls)
		}
	})
	if err != nil {
		t.Fatalf("WriteSeries: got error %v, want nil", err)
	}
	if len(paths) != 4 || calls != 4 || filepath.Base(paths[3]) != "CT00004.dcm" {
		t.Fatalf("got paths %v, %d calls; want 4 paths ending in CT00004.dcm, 4 calls", paths, calls)
	}
	seen := map[string]bool{}
	for _, p := range paths {
		d, err := dicom.ParseFile(p, nil, dicom.SkipPixelData())
		if err != nil {
			t.Fatalf("dicom.ParseFile: got error %v, want nil", err)
		}
		e, err := d.FindElementByTag(tag.SOPInstanceUID)
		if err != nil {
			t.Fatalf("d.FindElementByTag: got error %v, want nil", err)
		}
		uid := dicom.MustGetStrings(e.Value)[0]
		if seen[uid] {
			t.Errorf("SOP instance UID %s: got it twice, want each once", uid)
		}
		seen[uid] = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WriteSeries(ctx, filepath.Join(dir, "x"), v, SeriesMeta{}, nil); err == nil {
		t.Error("cancelled context: want an error")
	}
	if _, err := os.Stat(filepath.Join(dir, "x", "CT00001.dcm")); err == nil {
		t.Errorf("cancelled write produced a file: got nil error, want an error")
	}
}
