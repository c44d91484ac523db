package followup

import (
	"context"
	"math"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/phantom"
)

// TestAcceptancePairs scores a phantom, its follow-up with the disease
// grown by 40 % and one with the disease unchanged (the same patient,
// scanner and levels, other noise), and compares them: the unchanged pair
// reads "no measurable change" at every level and for the whole lung; the
// measured TOT change of the grown pair matches the generated one (the
// change of the labels) within the synthetic per-level MAE on average, GG
// and RET within the measurement error of a change, and the whole lung's
// TOT increase is flagged.
func TestAcceptancePairs(t *testing.T) {
	if testing.Short() {
		t.Skip("renders three phantoms and scores them")
	}
	ctx := context.Background()
	c, err := cascade.Default()
	if err != nil {
		t.Fatalf("cascade.Default: got error %v, want nil", err)
	}
	base := phantom.New(7001, phantom.Options{Matrix: 192, SliceSpacing: phantom.Range{Min: 5, Max: 5}, Disease: true, Severity: 0.4, Contrast: phantom.ContrastNone})
	score := func(p *phantom.Phantom) (*cascade.Result, [5][3]float64) {
		g := p.Geometry()
		v, _, err := p.Render(ctx, g)
		if err != nil {
			t.Fatalf("Render: got error %v, want nil", err)
		}
		res, err := c.Score(ctx, v, cascade.Options{})
		if err != nil {
			t.Fatalf("Score: got error %v, want nil", err)
		}
		lab, _, err := p.LevelLabels(ctx, g)
		if err != nil {
			t.Fatalf("LevelLabels: got error %v, want nil", err)
		}
		var l [5][3]float64
		for i, x := range lab {
			l[i] = [3]float64{x.TOT, x.GG, x.RET}
		}
		return res, l
	}
	rb, lb := score(base)
	tests := []struct {
		name   string
		growth float64
	}{
		{"unchanged", 0},
		{"grown 40 %", 0.4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rf, lf := score(base.FollowUp(tc.growth, 12))
			cmp, err := Compare(Input{Label: "baseline", Result: rb}, Input{Label: "follow-up", Result: rf}, Options{})
			if err != nil {
				t.Fatalf("Compare: got error %v, want nil", err)
			}
			var sum [3]float64
			n := 0
			for i, l := range cmp.Levels {
				if l.TOT.Delta == nil {
					t.Fatalf("%s: got %q, want compared", l.Name, l.Summary)
				}
				for k, ch := range []Change{l.TOT, l.GG, l.RET} {
					sum[k] += math.Abs(*ch.Delta - (lf[i][k] - lb[i][k]))
				}
				n++
				t.Logf("%s: generated TOT %+.1f GG %+.1f RET %+.1f, measured %+.1f %+.1f %+.1f: %s", l.Name,
					lf[i][0]-lb[i][0], lf[i][1]-lb[i][1], lf[i][2]-lb[i][2], *l.TOT.Delta, *l.GG.Delta, *l.RET.Delta, l.Summary)
				if tc.growth == 0 && l.Summary != NoChange {
					t.Errorf("%s unchanged: got %q, want %q", l.Name, l.Summary, NoChange)
				}
			}
			// On this small, coarse scan (192², 5 mm) the TOT change is held
			// to the synthetic MAE, GG and RET (which the network splits
			// less surely at this resolution) to the measurement error
			// of a change; MODEL_CARD.md reports the 512² pairs.
			lim := DefaultLimits()
			for k := range 3 {
				mae, want := sum[k]/float64(n), lim.Level[k]
				if k == 0 {
					want = ModelCardAgreement[k].LevelMAE
				}
				if mae > want {
					t.Errorf("%s: got a mean error of the change of %.2f, want within %.2f", ScoreNames[k], mae, want)
				}
			}
			switch {
			case tc.growth == 0 && cmp.Lung.Summary != NoChange:
				t.Errorf("lung unchanged: got %q, want %q", cmp.Lung.Summary, NoChange)
			case tc.growth > 0 && cmp.Lung.TOT.Verdict != Increased:
				t.Errorf("lung grown: got TOT %q (%+.1f), want %q", cmp.Lung.TOT.Verdict, *cmp.Lung.TOT.Delta, Increased)
			}
		})
	}
}
