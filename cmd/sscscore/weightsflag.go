package main

import (
	"fmt"
	"io"

	"sscscore/model/cascade"
)

// siteCascade is the cascade of the weights folder given with --weights
// (nil: the shipped weights).
var siteCascade *cascade.Cascade

// useWeights loads a weights folder (checked whole: specs, checksums, the
// networks) for the rest of the command, and says so on w.
func useWeights(dir string, w io.Writer) error {
	if dir == "" {
		return nil
	}
	c, err := cascade.LoadWeightsDir(dir)
	if err != nil {
		return err
	}
	siteCascade = c
	i := c.Info()
	fmt.Fprintf(w, "weights %q from %s (levels %.12s, scores %.12s; trained on: %s)\n", i.Weights, dir, i.Levels.SHA256, i.Scores.SHA256, i.Training)
	return nil
}

// theCascade returns the cascade the command runs: that of --weights, or
// the shipped one.
func theCascade() (*cascade.Cascade, error) {
	if siteCascade != nil {
		return siteCascade, nil
	}
	return cascade.Default()
}

// weightsUsage is the --weights flag's help.
const weightsUsage = "run the networks of this weights `DIR` (written by sscscore train cv --export or train export: specs, safetensors, SHA256SUMS, MODEL_CARD.md; checked before use) instead of the shipped ones"
