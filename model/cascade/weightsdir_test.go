package cascade

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sscscore/model/weights"
)

// writeWeightsFolder writes the shipped networks as a weights folder,
// after edit has changed the files (before or after the checksums).
func writeWeightsFolder(t *testing.T, before, after func(map[string][]byte)) string {
	t.Helper()
	lv, sc := weights.Levels(), weights.Scores()
	files := map[string][]byte{"levels.json": lv.Spec, "levels.safetensors": lv.Weights,
		"scores.json": sc.Spec, "scores.safetensors": sc.Weights, ModelCardFile: []byte("# site weights\n")}
	if before != nil {
		before(files)
	}
	var lines []string
	for n, b := range files {
		s := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(s[:])+"  "+n)
	}
	sort.Strings(lines)
	files[SumsFile] = []byte(strings.Join(lines, "\n") + "\n")
	if after != nil {
		after(files)
	}
	dir := filepath.Join(t.TempDir(), "site-w")
	os.MkdirAll(dir, 0o755)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatalf("os.WriteFile: got error %v, want nil", err)
		}
	}
	return dir
}

func TestLoadWeightsDir(t *testing.T) {
	flip := func(name string, at int) func(map[string][]byte) {
		return func(f map[string][]byte) {
			b := append([]byte(nil), f[name]...)
			b[at] ^= 1
			f[name] = b
		}
	}
	tests := []struct {
		name          string
		before, after func(map[string][]byte)
		want          string // "" loads
	}{
		{"good", nil, nil, ""},
		{"byte changed in the weights", nil, flip("scores.safetensors", 5000), "scores.safetensors has SHA-256"},
		{"byte changed in the model card", nil, flip(ModelCardFile, 2), "MODEL_CARD.md has SHA-256"},
		{"missing file", nil, func(f map[string][]byte) { delete(f, "levels.json") }, "levels.json is missing"},
		{"not listed", nil, func(f map[string][]byte) {
			f[SumsFile] = []byte(strings.ReplaceAll(string(f[SumsFile]), "scores.json", "other.txt"))
		}, "SHA256SUMS does not list scores.json"},
		{"listed, missing", nil, func(f map[string][]byte) {
			f[SumsFile] = append(f[SumsFile], "653c3455b34dd8dabf6c57556632639899cb45009268fa624a6ef81be6839c79  other.txt\n"...)
		}, "lists other.txt, which is missing"},
		{"no checksums", nil, func(f map[string][]byte) { delete(f, SumsFile) }, "no SHA256SUMS"},
		{"wrong spec", func(f map[string][]byte) { f["levels.json"] = f["scores.json"] }, nil, `levels.json is the network "sscscore-scores-v1"`},
		{"weights of the other network", func(f map[string][]byte) { f["levels.safetensors"] = f["scores.safetensors"] }, nil, "levels network"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeWeightsFolder(t, tc.before, tc.after)
			c, err := LoadWeightsDir(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("LoadWeightsDir: got error %v, want nil", err)
				}
				info := c.Info()
				if info.Weights != "site-w" || info.Levels.SHA256 != weights.Levels().SHA256 || !strings.Contains(c.Note(), `"site-w"`) {
					t.Errorf("got weights %q, levels sha %s, note %q; want site-w, %s, a note naming site-w", info.Weights, info.Levels.SHA256, c.Note(), weights.Levels().SHA256)
				}
				return
			}
			if c != nil || err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refused") {
				t.Fatalf("LoadWeightsDir: got %v, %v; want no cascade and an error refusing it with %q", c != nil, err, tc.want)
			}
		})
	}
}

func ExampleParseSums() {
	s, err := ParseSums([]byte("653c3455b34dd8dabf6c57556632639899cb45009268fa624a6ef81be6839c79  scores.safetensors\n"))
	fmt.Println(len(s), err)
	// Output: 1 <nil>
}
