package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sscscore/model/cascade"
	"sscscore/model/nn"
	"sscscore/model/train"
)

func init() {
	register(command{
		name:    "eval",
		summary: "evaluate the cascade with the paper's metrics on unseen phantoms and on real test data",
		run:     runEval,
	})
}

type evalJSON struct {
	Model     cascade.ModelInfo      `json:"model"`
	Synthetic *train.SyntheticReport `json:"synthetic,omitempty"`
	Real      *train.RealReport      `json:"real,omitempty"`
}

// loadCascade returns the shipped cascade, or one built from a weights
// directory (levels.json, levels.safetensors, scores.json,
// scores.safetensors) or from training runs (their best checkpoints).
func loadCascade(weightsDir, levelsRun, scoresRun string) (*cascade.Cascade, error) {
	if weightsDir != "" {
		read := func(n string) ([]byte, error) { return os.ReadFile(filepath.Join(weightsDir, n)) }
		var b [4][]byte
		for i, n := range []string{"levels.json", "levels.safetensors", "scores.json", "scores.safetensors"} {
			var err error
			if b[i], err = read(n); err != nil {
				return nil, err
			}
		}
		return cascade.New(b[0], b[1], b[2], b[3])
	}
	def, err := cascade.Default()
	if levelsRun == "" && scoresRun == "" {
		return def, err
	}
	var dl, ds *nn.Net
	if def != nil {
		dl, ds = def.Nets()
	}
	info := cascade.ModelInfo{Training: "checkpoint"}
	if def != nil {
		info = def.Info()
	}
	if levelsRun != "" {
		net, _, err := train.LoadTrained("levels", levelsRun, false)
		if err != nil {
			return nil, err
		}
		dl = net
		info.Levels.SHA256 = "checkpoint " + levelsRun
	}
	if scoresRun != "" {
		net, _, err := train.LoadTrained("scores", scoresRun, false)
		if err != nil {
			return nil, err
		}
		ds = net
		info.Scores.SHA256 = "checkpoint " + scoresRun
	}
	if dl == nil || ds == nil {
		return nil, fmt.Errorf("shipped weights unavailable (%v) and no checkpoint for both networks", err)
	}
	return cascade.FromNets(dl, ds, info), nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("synthetic", 0, "number of unseen phantoms with disease to evaluate")
	from := fs.Int64("seed-from", 2000001, "first phantom seed of the synthetic test set (training uses seeds below 1000000, validation 1000001+)")
	real := fs.String("real", "", "test data folder (chest-ct/levels.csv and its series, slices/*.dcm), e.g. ../shared/testdata")
	asJSON := fs.Bool("json", false, "print one JSON object")
	workers := fs.Int("workers", 2, "phantoms evaluated at once")
	weightsDir := fs.String("weights", "", "evaluate the weights in this directory instead of the shipped ones")
	levelsRun := fs.String("levels-run", "", "evaluate the best checkpoint of this levels training directory")
	scoresRun := fs.String("scores-run", "", "evaluate the best checkpoint of this scores training directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 && *real == "" {
		fs.Usage()
		return errors.New("give --synthetic N and/or --real DIR")
	}
	c, err := loadCascade(*weightsDir, *levelsRun, *scoresRun)
	if err != nil {
		return err
	}
	ctx, stop := interruptible()
	defer stop()
	out := evalJSON{Model: c.Info()}
	if *n > 0 {
		start := time.Now()
		r, err := train.EvalSynthetic(ctx, c, *n, *from, *workers, func(done, total int) {
			el := time.Since(start)
			fmt.Fprintf(stderr, "\rsynthetic %d/%d, ETA %s   ", done, total, (el / time.Duration(done) * time.Duration(total-done)).Round(time.Second))
		})
		fmt.Fprintln(stderr)
		if err != nil {
			return err
		}
		out.Synthetic = r
	}
	if *real != "" {
		r, err := train.EvalReal(ctx, c, *real)
		if err != nil {
			return err
		}
		out.Real = r
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	i := out.Model
	fmt.Fprintf(stdout, "Model: levels %s (sha256 %.12s, %d params), scores %s (sha256 %.12s, %d params), trained on %s data\n",
		i.Levels.Spec, i.Levels.SHA256, i.Levels.Params, i.Scores.Spec, i.Scores.SHA256, i.Scores.Params, i.Training)
	if out.Synthetic != nil {
		out.Synthetic.WriteText(stdout)
	}
	if out.Real != nil {
		out.Real.WriteText(stdout)
	}
	return nil
}
