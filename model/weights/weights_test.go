package weights_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"sscscore/model/nn/spec"
	"sscscore/model/weights"
)

// TestSums checks the embedded files against the committed SHA256SUMS.
func TestSums(t *testing.T) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(weights.SHA256SUMS()))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			sums[f[1]] = f[0]
		}
	}
	for _, m := range []weights.Model{weights.Levels(), weights.Scores()} {
		if got, want := m.SHA256, sums[m.Name+".safetensors"]; got != want {
			t.Errorf("%s.safetensors: got sha256 %s, want %s (SHA256SUMS)", m.Name, got, want)
		}
		s := sha256.Sum256(m.Spec)
		if got, want := hex.EncodeToString(s[:]), sums[m.Name+".json"]; got != want {
			t.Errorf("%s.json: got sha256 %s, want %s (SHA256SUMS)", m.Name, got, want)
		}
	}
}

// TestLoad builds each network from its spec and loads its weights.
func TestLoad(t *testing.T) {
	total := 0
	for _, m := range []weights.Model{weights.Levels(), weights.Scores()} {
		s, err := spec.Parse(m.Spec)
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", m.Name, err)
		}
		net, err := spec.Build(s, spec.Options{})
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", m.Name, err)
		}
		if err := net.LoadSafetensors(m.Weights); err != nil {
			t.Fatalf("%s: got error %v, want nil", m.Name, err)
		}
		total += len(m.Weights)
	}
	// Shipped weights are small (float16-stored): at most 2 MB together.
	if total > 2<<20 {
		t.Errorf("weights take %d bytes, want <= %v", total, 2<<20)
	}
}
