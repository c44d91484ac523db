package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"testing/fstest"

	"sscscore/model/cascade"
)

// weightsPrefix is where the site serves the weights folder given with
// -weights: worker.js then sets self.sscWeights to it, and the worker
// fetches the folder at start and runs those networks (checked again
// there) instead of the embedded ones.
const weightsPrefix = "weights"

// workerScript is the worker's script, which names weightsPrefix to the
// worker when there are weights.
const workerScript = "worker.js"

// withWeights returns the site's files with the weights folder dir under
// weightsPrefix/, after checking it whole (cascade.FromWeightsFiles:
// specs, checksums, the networks load); a folder that fails is refused
// with the reason, and nothing is served. The files are read once, so
// what is served is what was checked.
func withWeights(files fs.FS, dir string, stdout io.Writer) (fs.FS, error) {
	wf, err := cascade.ReadWeightsDir(dir)
	if err != nil {
		return nil, err
	}
	c, err := cascade.FromWeightsFiles(wf, filepath.Base(filepath.Clean(dir)))
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading site files: %w", err)
	}
	// The worker learns from its own script that there are weights to
	// fetch (without -weights it makes no request for them).
	ws, ok := out[workerScript]
	if !ok {
		return nil, fmt.Errorf("the site has no %s to hand the weights to", workerScript)
	}
	line := []byte("self.sscWeights = \"" + weightsPrefix + "/\"; // serve -weights: the worker runs these networks\n")
	at := 0 // after the "use strict" directive, which must come first
	if i := bytes.Index(ws.Data, []byte("\"use strict\";\n")); i >= 0 {
		at = i + len("\"use strict\";\n")
	}
	ws.Data = append(append(append([]byte(nil), ws.Data[:at]...), line...), ws.Data[at:]...)
	// The checksums and every file they list (FromWeightsFiles found each).
	sums, err := cascade.ParseSums(wf[cascade.SumsFile])
	if err != nil {
		return nil, fmt.Errorf("weights folder %s: %w", dir, err)
	}
	out[path.Join(weightsPrefix, cascade.SumsFile)] = &fstest.MapFile{Data: wf[cascade.SumsFile], Mode: 0o644}
	for name := range sums {
		out[path.Join(weightsPrefix, name)] = &fstest.MapFile{Data: wf[name], Mode: 0o644}
	}
	i := c.Info()
	fmt.Fprintf(stdout, "sscscore: the page runs the weights %q (levels %.12s, scores %.12s; trained on: %s), served at /%s/\n",
		i.Weights, i.Levels.SHA256, i.Scores.SHA256, i.Training, weightsPrefix)
	return out, nil
}
