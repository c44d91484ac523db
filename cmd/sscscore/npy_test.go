package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorgonia.org/tensor"

	"sscscore/model/shareddata"
)

// TestInspectNpy writes A0002-B40f as a NumPy array and reads it back
// twice: with gorgonia's reader (the voxels' SHA-256 must equal the one
// inspect --hu-stats computes from the decoded series) and with NumPy
// itself (Debian's python3-numpy, which .ci/run installs).
func TestInspectNpy(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	out := filepath.Join(t.TempDir(), "a0002.npy")
	stdout, stderr, code := inspectRun(t, "--json", "--hu-stats", "--npy", out, dir)
	if code != 0 {
		t.Fatalf("inspect --npy: got exit %d (%s), want 0", code, stderr)
	}
	var rep inspectJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.HUStats == nil {
		t.Fatalf("inspect --json: got %v (hu_stats %v), want a report with hu_stats", err, rep.HUStats)
	}

	f, err := os.Open(out)
	if err != nil {
		t.Fatalf("open %s: got %v, want the written array", out, err)
	}
	defer f.Close()
	var back tensor.Dense
	if err := back.ReadNpy(f); err != nil {
		t.Fatalf("ReadNpy: got error %v, want nil", err)
	}
	if got, want := back.Shape(), (tensor.Shape{30, 512, 512}); !got.Eq(want) {
		t.Fatalf("shape: got %v, want %v", got, want)
	}
	vox, ok := back.Data().([]int16)
	if !ok {
		t.Fatalf("dtype: got %v, want int16", back.Dtype())
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, vox); err != nil {
		t.Fatalf("binary.Write: got error %v, want nil", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if got, want := hex.EncodeToString(sum[:]), rep.HUStats.SHA256; got != want {
		t.Errorf("SHA-256 of the .npy voxels: got %s, want %s (inspect --hu-stats)", got, want)
	}

	var geo npyGeometry
	js, err := os.ReadFile(out + ".json")
	if err != nil || json.Unmarshal(js, &geo) != nil {
		t.Fatalf("geometry %s.json: got %v, want a readable file", out, err)
	}
	if geo.Shape != [3]int{30, 512, 512} || len(geo.ZMM) != 30 || geo.ZMM[0] != 312 || geo.ZMM[29] != 80 || geo.SpacingMM[2] != 8 {
		t.Errorf("geometry: got shape %v, z %v..., spacing %v, want (30, 512, 512), z 312 to 80, 8 mm apart", geo.Shape, geo.ZMM[:1], geo.SpacingMM)
	}

	py := numpyPython(t)
	cmd := exec.Command(py, "-c", `import hashlib, sys, numpy
a = numpy.load(sys.argv[1])
print(a.dtype.str, a.shape, hashlib.sha256(numpy.ascontiguousarray(a).astype("<i2").tobytes()).hexdigest())`, out)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("numpy.load: got error %v (%s), want the array", err, got)
	}
	if want := "<i2 (30, 512, 512) " + rep.HUStats.SHA256; strings.TrimSpace(string(got)) != want {
		t.Errorf("numpy.load: got %q, want %q", strings.TrimSpace(string(got)), want)
	}
}

// numpyPython returns Debian's python3 when it has NumPy (python3-numpy);
// the test skips without it, except in CI, which installs it.
func numpyPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s -c 'import numpy': got error %v, want nil (Debian package python3-numpy)", py, err)
		}
		t.Skipf("%s with NumPy is missing (Debian package python3-numpy)", py)
	}
	return py
}
