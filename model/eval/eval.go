// Package eval computes the agreement metrics of the seed paper (Jia et al.,
// SPIE Medical Imaging 2022) between predicted and reference scores and level
// positions: mean absolute error, linear-weighted Cohen's kappa on the 21
// classes 0, 5, ..., 100, the intraclass correlation ICC(2,1), and
// Bland-Altman bias and limits of agreement.
package eval

import (
	"errors"
	"fmt"
	"math"
)

// ErrLength is returned when predictions and references differ in length or
// are empty.
var ErrLength = errors.New("eval: predictions and references must have the same, non-zero length")

func check(pred, ref []float64) error {
	if len(pred) == 0 || len(pred) != len(ref) {
		return fmt.Errorf("%w (got %d and %d)", ErrLength, len(pred), len(ref))
	}
	return nil
}

// MAE returns the mean absolute difference between pred and ref.
func MAE(pred, ref []float64) (float64, error) {
	if err := check(pred, ref); err != nil {
		return 0, err
	}
	var s float64
	for i := range pred {
		s += math.Abs(pred[i] - ref[i])
	}
	return s / float64(len(pred)), nil
}

// RoundTo5 rounds a percentage to the nearest multiple of 5 and clamps it to
// [0, 100], as scores are reported.
func RoundTo5(x float64) float64 {
	r := 5 * math.Round(x/5)
	return math.Max(0, math.Min(100, r))
}

// Class5 returns the class index 0..20 of a percentage rounded to 5.
func Class5(x float64) int { return int(RoundTo5(x) / 5) }

// WeightedKappa returns the linear-weighted Cohen's kappa between two
// ratings on k ordered classes (0..k-1):
//
//	kappa = 1 - sum_ij w_ij O_ij / sum_ij w_ij E_ij,  w_ij = |i-j| / (k-1)
//
// where O is the observed joint distribution and E the product of its
// marginals. When both raters use a single identical class everywhere the
// agreement is perfect and kappa is 1.
func WeightedKappa(a, b []int, k int) (float64, error) {
	if len(a) == 0 || len(a) != len(b) {
		return 0, fmt.Errorf("%w (got %d and %d)", ErrLength, len(a), len(b))
	}
	if k < 2 {
		return 0, fmt.Errorf("eval: kappa needs at least 2 classes, got %d", k)
	}
	n := float64(len(a))
	obs := make([]float64, k*k)
	ra := make([]float64, k)
	rb := make([]float64, k)
	for i := range a {
		if a[i] < 0 || a[i] >= k || b[i] < 0 || b[i] >= k {
			return 0, fmt.Errorf("eval: class out of range [0,%d): %d, %d", k, a[i], b[i])
		}
		obs[a[i]*k+b[i]]++
		ra[a[i]]++
		rb[b[i]]++
	}
	var num, den float64
	for i := 0; i < k; i++ {
		for j := 0; j < k; j++ {
			w := math.Abs(float64(i-j)) / float64(k-1)
			num += w * obs[i*k+j] / n
			den += w * (ra[i] / n) * (rb[j] / n)
		}
	}
	if den == 0 {
		if num == 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 1 - num/den, nil
}

// Kappa5 returns the linear-weighted kappa of two sets of percentages after
// rounding each to the nearest 5 (21 classes), as the paper computes it.
func Kappa5(pred, ref []float64) (float64, error) {
	if err := check(pred, ref); err != nil {
		return 0, err
	}
	a := make([]int, len(pred))
	b := make([]int, len(ref))
	for i := range pred {
		a[i], b[i] = Class5(pred[i]), Class5(ref[i])
	}
	return WeightedKappa(a, b, 21)
}

// ICC21 returns the intraclass correlation ICC(2,1) of Shrout and Fleiss
// (two-way random effects, absolute agreement, single measurement) between
// two raters, pred and ref. See ICC.
func ICC21(pred, ref []float64) (float64, error) {
	if err := check(pred, ref); err != nil {
		return 0, err
	}
	rows := make([][]float64, len(pred))
	for i := range pred {
		rows[i] = []float64{pred[i], ref[i]}
	}
	return ICC(rows)
}

// ICC returns ICC(2,1) for n subjects (rows) rated by the same k raters
// (columns):
//
//	ICC = (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n)
//
// with MSR the mean square between subjects, MSC between raters and MSE the
// residual mean square of the two-way ANOVA.
func ICC(rows [][]float64) (float64, error) {
	n := len(rows)
	if n < 2 {
		return 0, fmt.Errorf("eval: ICC needs at least 2 subjects, got %d", n)
	}
	k := len(rows[0])
	if k < 2 {
		return 0, fmt.Errorf("eval: ICC needs at least 2 raters, got %d", k)
	}
	var grand float64
	colMean := make([]float64, k)
	for i, r := range rows {
		if len(r) != k {
			return 0, fmt.Errorf("eval: subject %d has %d ratings, want %d", i, len(r), k)
		}
		for j, x := range r {
			grand += x
			colMean[j] += x
		}
	}
	fn, fk := float64(n), float64(k)
	grand /= fn * fk
	for j := range colMean {
		colMean[j] /= fn
	}
	var ssr, ssc, sst float64
	for _, r := range rows {
		var m float64
		for _, x := range r {
			m += x
			sst += (x - grand) * (x - grand)
		}
		m /= fk
		ssr += fk * (m - grand) * (m - grand)
	}
	for _, m := range colMean {
		ssc += fn * (m - grand) * (m - grand)
	}
	sse := sst - ssr - ssc
	msr := ssr / (fn - 1)
	msc := ssc / (fk - 1)
	mse := sse / ((fn - 1) * (fk - 1))
	den := msr + (fk-1)*mse + fk*(msc-mse)/fn
	if den == 0 {
		return 1, nil
	}
	return (msr - mse) / den, nil
}

// BlandAltman holds the mean difference (pred - ref) and the 95 % limits of
// agreement, bias +/- 1.96 standard deviations of the differences.
type BlandAltman struct {
	Bias, Lower, Upper, SD float64
}

// NewBlandAltman computes Bland-Altman statistics of pred against ref.
func NewBlandAltman(pred, ref []float64) (BlandAltman, error) {
	if err := check(pred, ref); err != nil {
		return BlandAltman{}, err
	}
	n := float64(len(pred))
	var mean float64
	for i := range pred {
		mean += pred[i] - ref[i]
	}
	mean /= n
	var ss float64
	for i := range pred {
		d := pred[i] - ref[i] - mean
		ss += d * d
	}
	sd := 0.0
	if n > 1 {
		sd = math.Sqrt(ss / (n - 1))
	}
	return BlandAltman{Bias: mean, SD: sd, Lower: mean - 1.96*sd, Upper: mean + 1.96*sd}, nil
}

// ScoreMetrics summarises the agreement of one score (TOT, GG or RET).
type ScoreMetrics struct {
	N     int         `json:"n"`
	MAE   float64     `json:"mae"`
	Kappa float64     `json:"kappa_linear_21"`
	ICC   float64     `json:"icc_2_1"`
	BA    BlandAltman `json:"bland_altman"`
}

// Scores computes every score metric of pred against ref.
func Scores(pred, ref []float64) (ScoreMetrics, error) {
	var m ScoreMetrics
	var err error
	m.N = len(pred)
	if m.MAE, err = MAE(pred, ref); err != nil {
		return m, err
	}
	if m.Kappa, err = Kappa5(pred, ref); err != nil {
		return m, err
	}
	if len(pred) > 1 {
		if m.ICC, err = ICC21(pred, ref); err != nil {
			return m, err
		}
	}
	m.BA, err = NewBlandAltman(pred, ref)
	return m, err
}

// LevelMetrics summarises the agreement of one level's position.
type LevelMetrics struct {
	N int `json:"n"`
	// MAEmm is the mean absolute error of the position in mm.
	MAEmm float64 `json:"mae_mm"`
	// WithinSlice is the share (0..1) of cases whose error is at most one
	// slice spacing of that case.
	WithinSlice float64     `json:"within_one_slice"`
	BA          BlandAltman `json:"bland_altman"`
}

// Levels computes level metrics; spacing holds each case's slice spacing
// in mm.
func Levels(pred, ref, spacing []float64) (LevelMetrics, error) {
	var m LevelMetrics
	if err := check(pred, ref); err != nil {
		return m, err
	}
	if len(spacing) != len(pred) {
		return m, fmt.Errorf("%w (spacing: %d for %d cases)", ErrLength, len(spacing), len(pred))
	}
	m.N = len(pred)
	var err error
	if m.MAEmm, err = MAE(pred, ref); err != nil {
		return m, err
	}
	within := 0
	for i := range pred {
		if math.Abs(pred[i]-ref[i]) <= spacing[i] {
			within++
		}
	}
	m.WithinSlice = float64(within) / float64(len(pred))
	m.BA, err = NewBlandAltman(pred, ref)
	return m, err
}
