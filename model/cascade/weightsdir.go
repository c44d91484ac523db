package cascade

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nlpodyssey/safetensors"

	"sscscore/model/nn/spec"
)

// A weights folder holds the two networks of a cascade trained elsewhere
// than in this build, as `sscscore train export` and `sscscore train cv`
// write it: each network's spec (levels.json, scores.json, model/nn/spec
// JSON) and weights (levels.safetensors, scores.safetensors), SHA256SUMS
// (sha256sum format) listing at least those four files, and optionally
// MODEL_CARD.md (how they were trained; checked when listed). The
// safetensors metadata "training" says what the networks were trained on
// and "weights_name" names them.
const (
	SumsFile      = "SHA256SUMS"
	ModelCardFile = "MODEL_CARD.md"
)

// WeightsFiles are the files a weights folder must hold besides SumsFile.
var WeightsFiles = []string{"levels.json", "levels.safetensors", "scores.json", "scores.safetensors"}

// WeightsFolderFiles lists every file a weights folder may hold, in the
// order they are best fetched (the checksums first).
func WeightsFolderFiles() []string {
	return append([]string{SumsFile}, append(append([]string(nil), WeightsFiles...), ModelCardFile)...)
}

// ParseSums reads a SHA256SUMS file: "HEX  NAME" or "HEX *NAME" lines.
func ParseSums(b []byte) (map[string]string, error) {
	sums := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		sum, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimSpace(name), "*")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || name == "" {
			return nil, fmt.Errorf("%s line %d is not \"SHA-256  FILE\": %q", SumsFile, i+1, line)
		}
		sums[name] = strings.ToLower(sum)
	}
	return sums, nil
}

// FromWeightsFiles builds a cascade from the files of a weights folder
// (file name to content; name names the folder in messages and, unless
// the weights name themselves, in the results' provenance). Everything is
// checked before anything is used: every file is present and listed in
// SHA256SUMS with its SHA-256, each spec is the network this build runs,
// and the weights load into it; otherwise the error names the file and
// the reason, and nothing is loaded.
func FromWeightsFiles(files map[string][]byte, name string) (*Cascade, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("weights folder %s refused: %s", name, fmt.Sprintf(format, a...))
	}
	sb, ok := files[SumsFile]
	if !ok {
		return nil, fail("no %s (a weights folder is written by sscscore train export or train cv)", SumsFile)
	}
	sums, err := ParseSums(sb)
	if err != nil {
		return nil, fail("%v", err)
	}
	for _, f := range WeightsFiles {
		if _, ok := files[f]; !ok {
			return nil, fail("%s is missing", f)
		}
		if _, ok := sums[f]; !ok {
			return nil, fail("%s does not list %s", SumsFile, f)
		}
	}
	for f, want := range sums {
		b, ok := files[f]
		if !ok {
			return nil, fail("%s lists %s, which is missing", SumsFile, f)
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != want {
			return nil, fail("%s has SHA-256 %s, %s says %s: the file was changed or damaged", f, hex.EncodeToString(got[:]), SumsFile, want)
		}
	}
	if _, ok := files[ModelCardFile]; ok {
		if _, listed := sums[ModelCardFile]; !listed {
			return nil, fail("%s does not list %s", SumsFile, ModelCardFile)
		}
	}
	for _, n := range []struct {
		file string
		want spec.Spec
	}{{"levels.json", LevelsSpec()}, {"scores.json", ScoresSpec()}} {
		s, err := spec.Parse(files[n.file])
		if err != nil {
			return nil, fail("%s: %v", n.file, err)
		}
		if s.Name != n.want.Name || !bytes.Equal(s.JSON(), n.want.JSON()) {
			return nil, fail("%s is the network %q, not the %q this build runs", n.file, s.Name, n.want.Name)
		}
	}
	meta := map[string]string{}
	if _, m, err := safetensors.ReadMetadata(files["levels.safetensors"]); err == nil {
		meta = m.Metadata()
	}
	c, err := New(files["levels.json"], files["levels.safetensors"], files["scores.json"], files["scores.safetensors"])
	if err != nil {
		return nil, fail("%v", err)
	}
	c.info.Training = meta["training"]
	if c.info.Training == "" {
		c.info.Training = "unspecified"
	}
	c.info.Weights = meta["weights_name"]
	if c.info.Weights == "" {
		c.info.Weights = name
	}
	return c, nil
}

// ReadWeightsDir reads the files of the weights folder dir that
// FromWeightsFiles checks: those of WeightsFolderFiles that exist, and
// every other file its checksums list.
func ReadWeightsDir(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	names := WeightsFolderFiles()
	if b, err := os.ReadFile(filepath.Join(dir, SumsFile)); err == nil {
		if sums, err := ParseSums(b); err == nil {
			for f := range sums { // whatever else the checksums list must be there too
				if f == filepath.Base(f) {
					names = append(names, f)
				}
			}
		}
	}
	for _, f := range names {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("weights folder %s: %w", dir, err)
		}
		files[f] = b
	}
	return files, nil
}

// LoadWeightsDir reads a weights folder from disk (ReadWeightsDir) and
// builds its cascade (FromWeightsFiles).
func LoadWeightsDir(dir string) (*Cascade, error) {
	files, err := ReadWeightsDir(dir)
	if err != nil {
		return nil, err
	}
	return FromWeightsFiles(files, filepath.Base(filepath.Clean(dir)))
}
