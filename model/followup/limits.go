package followup

import "math"

// Agreement is the evaluation of one score (TOT, GG or RET) on the
// synthetic test set of MODEL_CARD.md ("Evaluation", "Synthetic test set:
// 200 unseen phantoms", `sscscore eval --synthetic 200`): the per-level
// Bland-Altman 95 % limits of agreement against the truth (1000 levels),
// the per-level mean absolute error and the whole-lung mean absolute error
// (200 phantoms).
type Agreement struct {
	Lower, Upper float64 // per-level 95 % limits of agreement (points)
	LevelMAE     float64
	LungMAE      float64
}

// ModelCardAgreement holds MODEL_CARD.md's numbers for TOT, GG and RET (in
// this order), the source of the measurement error of a change. Update it
// with the model card when the networks are retrained.
var ModelCardAgreement = [3]Agreement{
	{Lower: -3.1, Upper: 4.2, LevelMAE: 1.35, LungMAE: 0.95}, // TOT
	{Lower: -7.4, Upper: 8.2, LevelMAE: 2.09, LungMAE: 1.66}, // GG
	{Lower: -8.6, Upper: 7.2, LevelMAE: 2.35, LungMAE: 1.86}, // RET
}

// ScoreNames names the three scores in the order of ModelCardAgreement.
var ScoreNames = [3]string{"TOT", "GG", "RET"}

// Limits are the measurement errors of a change (points, per score TOT, GG,
// RET): a change whose size exceeds them is beyond what the method's own
// error explains at the 95 % level.
type Limits struct {
	Level [3]float64 `json:"level"`
	Lung  [3]float64 `json:"lung"`
	// Source says where the numbers come from.
	Source string `json:"source"`
}

// LimitsOf derives the measurement error of a change from the agreement
// of single readings. The error of one reading at a level has the standard
// deviation SD = (Upper - Lower) / (2 x 1.96) (the limits of agreement are
// bias +/- 1.96 SD). A change is the difference of two readings of the same
// model: its bias cancels and, taking the two errors as independent, its
// SD is sqrt(2) SD, so its 95 % limit is 1.96 sqrt(2) SD =
// (Upper - Lower) / sqrt(2). The errors of two scans of one patient are
// correlated (the same anatomy and lesions), which makes this limit
// conservative. For the whole-lung mean the model card gives only the MAE:
// its SD is taken as the lung MAE times the per-level ratio SD / MAE (the
// errors' tails are heavier than a normal's, whose ratio is 1.25), and the
// limit is 1.96 sqrt(2) times it.
func LimitsOf(a [3]Agreement) Limits {
	var l Limits
	for i, s := range a {
		sd := (s.Upper - s.Lower) / (2 * 1.96)
		l.Level[i] = 1.96 * math.Sqrt2 * sd
		l.Lung[i] = 1.96 * math.Sqrt2 * s.LungMAE * sd / s.LevelMAE
	}
	l.Source = "MODEL_CARD.md synthetic evaluation (200 phantoms): per-level Bland-Altman 95 % limits of agreement x sqrt(2) / 2 (the 95 % limit of a difference of two readings); whole lung from its MAE x the per-level SD/MAE"
	return l
}

// DefaultLimits are the measurement errors of a change of the shipped
// networks (LimitsOf ModelCardAgreement): per level TOT 5.2, GG 11.0, RET
// 11.2 points; whole lung TOT 3.6, GG 8.8, RET 8.8 points.
func DefaultLimits() Limits { return LimitsOf(ModelCardAgreement) }
