package train

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/eval"
	"sscscore/model/weights"
)

// WriteText writes the report as tables: per fold and pooled, the model
// of the site beside the shipped weights on the same held-out scans.
func (r *CVReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Cross-validation, %d folds (patients never split): %d scans of %d patients; %s\n", r.Config.Folds, r.Data.Scans, r.Data.Patients, r.trainingWords())
	fmt.Fprintf(w, "%-8s %-8s %5s %9s %7s %7s %7s %17s %17s\n", "fold", "weights", "scans", "level mm", "TOT", "GG", "RET", "kappa T/G/R", "ICC T/G/R")
	row := func(name string, m CVMetrics, who string) {
		fmt.Fprintf(w, "%-8s %-8s %5d %9.2f %7.2f %7.2f %7.2f %17s %17s\n", name, who, m.Scans, m.Levels.MAEmm, m.TOT.MAE, m.GG.MAE, m.RET.MAE,
			fmt.Sprintf("%.2f/%.2f/%.2f", m.TOT.Kappa, m.GG.Kappa, m.RET.Kappa), fmt.Sprintf("%.2f/%.2f/%.2f", m.TOT.ICC, m.GG.ICC, m.RET.ICC))
	}
	for _, f := range r.Folds {
		row(fmt.Sprint(f.Fold), f.Site, "site")
		row("", f.Shipped, "shipped")
	}
	row("pooled", r.Site, "site")
	row("", r.Shipped, "shipped")
	fmt.Fprintln(w, "(level: mean absolute error of the five level positions in mm; TOT/GG/RET: mean absolute error in score points; kappa: linear-weighted on the 21 classes 0, 5, ..., 100; ICC(2,1))")
	fmt.Fprintln(w, "Bland-Altman, pooled (bias [95 % limits of agreement]):")
	ba := func(b eval.BlandAltman) string { return fmt.Sprintf("%+.2f [%+.2f, %+.2f]", b.Bias, b.Lower, b.Upper) }
	for _, x := range []struct {
		who string
		m   CVMetrics
	}{{"site", r.Site}, {"shipped", r.Shipped}} {
		fmt.Fprintf(w, "  %-8s level %s mm; TOT %s; GG %s; RET %s\n", x.who, ba(x.m.Levels.BA), ba(x.m.TOT.BA), ba(x.m.GG.BA), ba(x.m.RET.BA))
	}
	if r.Final != "" {
		fmt.Fprintf(w, "Final model (all %d scans): %s (levels %s, scores %s)\n", r.Data.Scans, r.Final, r.FinalLevels, r.FinalScores)
	}
	fmt.Fprintf(w, "Time: %s\n", time.Duration(r.Seconds*float64(time.Second)).Round(time.Second))
}

func (r *CVReport) trainingWords() string {
	c := r.Config
	from := "fine-tuned from the shipped weights"
	if c.FromScratch {
		from = "trained from random weights"
	}
	return fmt.Sprintf("%s, levels %d steps of %d, scores %d steps of %d, lr %g, %.0f %% site scans and phantoms of seeds %d:%d, seed %d",
		from, c.LevelsSteps, c.LevelsBatch, c.ScoresSteps, c.ScoresBatch, c.LR, 100*c.RealShare, c.PhantomSeeds[0], c.PhantomSeeds[1], c.Seed)
}

// ModelCard returns the model card of the final model in Markdown: the
// data (counts and ranges, no patient identifiers), how it was trained,
// the cross-validation beside the shipped weights, time and build.
func (r *CVReport) ModelCard(name string) []byte {
	var b strings.Builder
	d := r.Data
	fmt.Fprintf(&b, "# Model card: %s\n\n", name)
	fmt.Fprintf(&b, "Weights of the sscscore cascade (levels network %s, score network %s) trained on a site's own Goh-scored CT scans by `sscscore train cv`. Research use only, not a medical device.\n\n", cascade.LevelsSpecName, cascade.ScoresSpecName)
	fmt.Fprintf(&b, "- Made: %s, in %s, by sscscore %s (commit %s)\n", r.Started.Format(time.RFC3339), time.Duration(r.Seconds*float64(time.Second)).Round(time.Second), buildinfo.Get().Version, buildinfo.Get().Commit)
	if r.Config.Command != "" {
		fmt.Fprintf(&b, "- Command: `%s`\n", r.Config.Command)
	}
	fmt.Fprintf(&b, "- Weights (SHA-256): levels %s, scores %s\n\n", r.FinalLevels, r.FinalScores)
	fmt.Fprintf(&b, "## Data\n\n%d scans of %d patients; %d labelled level positions, %d levels with TOT/GG/RET; slice spacing %.2f-%.2f mm, %d-%d slices; scanners: %s. The labels file had %d warnings and no errors. No patient identifier is recorded here.\n\n",
		d.Scans, d.Patients, d.LabelledLevels, d.ScoredLevels, d.SliceSpacing[0], d.SliceSpacing[1], d.Slices[0], d.Slices[1], strings.Join(d.Scanners, ", "), d.Warnings)
	fmt.Fprintf(&b, "## Training\n\nBoth networks %s. The final model is trained the same way on every scan. The shipped weights it starts from: levels %s, scores %s.\n\n", r.trainingWords(), weights.Levels().SHA256, weights.Scores().SHA256)
	fmt.Fprintf(&b, "## Cross-validation (%d folds, patients never split)\n\nEach fold's model was trained without the fold's patients and compared with their readings, beside the shipped weights on the same scans:\n\n```\n", r.Config.Folds)
	r.WriteText(&b)
	b.WriteString("```\n")
	return []byte(b.String())
}

// exportCV writes the final model as a weights folder: both networks,
// MODEL_CARD.md and SHA256SUMS.
func exportCV(c *cascade.Cascade, r *CVReport, dir string) error {
	name := r.Config.Name
	if name == "" {
		name = "site-" + r.Started.Format("20060102-1504")
	}
	training := fmt.Sprintf("site: %d labelled scans of %d patients with phantoms, %s", r.Data.Scans, r.Data.Patients, strings.SplitN(r.trainingWords(), ",", 2)[0])
	lv, sc := c.Nets()
	var err error
	for _, n := range []struct {
		kind string
		sha  *string
	}{{"levels", &r.FinalLevels}, {"scores", &r.FinalScores}} {
		net, s := lv, cascade.LevelsSpec()
		if n.kind == "scores" {
			net, s = sc, cascade.ScoresSpec()
		}
		meta := map[string]string{"spec": s.Name, "training": training, "weights_name": name}
		if *n.sha, err = Export(net, s, dir, n.kind, meta); err != nil {
			return fmt.Errorf("train: export: %w", err)
		}
	}
	r.Final = dir
	if err := writeFileAtomic(filepath.Join(dir, cascade.ModelCardFile), r.ModelCard(name)); err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	if err := WriteSums(dir); err != nil {
		return fmt.Errorf("train: export: %w", err)
	}
	_, err = os.Stat(filepath.Join(dir, cascade.SumsFile))
	return err
}
