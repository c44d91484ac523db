// Package weights holds the shipped default weights of the cascade's two
// networks, embedded in the binary (go:embed) so that the command-line
// tool and the browser app run the same models and nothing is downloaded
// at run time.
//
// Each network is a spec (model/nn/spec JSON, <name>.json) and its
// parameters and batch-normalisation statistics (safetensors with PyTorch
// names, float16-stored, <name>.safetensors). SHA256SUMS lists the
// SHA-256 of every file; the tests check it. MODEL_CARD.md at the
// repository root documents how they were trained (command, seed, data,
// time) and what they measure.
package weights

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
)

//go:embed levels.json levels.safetensors scores.json scores.safetensors SHA256SUMS
var files embed.FS

// Training says what the shipped weights were trained on.
const Training = "synthetic"

// Model is one shipped network.
type Model struct {
	// Name is "levels" or "scores".
	Name string
	// Spec is the network's spec JSON (model/nn/spec).
	Spec []byte
	// Weights is the safetensors file.
	Weights []byte
	// SHA256 is the hex SHA-256 of Weights.
	SHA256 string
}

func load(name string) Model {
	spec, err := files.ReadFile(name + ".json")
	if err != nil {
		panic(fmt.Sprintf("weights: %v", err)) // embedded: cannot happen
	}
	w, err := files.ReadFile(name + ".safetensors")
	if err != nil {
		panic(fmt.Sprintf("weights: %v", err))
	}
	sum := sha256.Sum256(w)
	return Model{Name: name, Spec: spec, Weights: w, SHA256: hex.EncodeToString(sum[:])}
}

// Levels returns the levels network.
func Levels() Model { return load("levels") }

// Scores returns the score network.
func Scores() Model { return load("scores") }

// SHA256SUMS returns the committed checksum list (sha256sum format).
func SHA256SUMS() []byte {
	b, _ := files.ReadFile("SHA256SUMS")
	return b
}
