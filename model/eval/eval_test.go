package eval

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestWeightedKappa(t *testing.T) {
	tests := []struct {
		name string
		a, b []int
		k    int
		want float64
	}{
		{"perfect", []int{0, 1, 2, 2}, []int{0, 1, 2, 2}, 3, 1},
		{"chance", []int{0, 0, 1, 1}, []int{0, 1, 0, 1}, 2, 0},
		// By hand: O off-diagonal (1,2),(2,1) 0.25 each at weight 0.5 -> 0.25;
		// expected disagreement 0.4375 -> 1 - 0.25/0.4375.
		{"partial", []int{0, 1, 2, 2}, []int{0, 2, 2, 1}, 3, 1 - 0.25/0.4375},
		{"one class both", []int{3, 3}, []int{3, 3}, 21, 1},
	}
	for _, tc := range tests {
		got, err := WeightedKappa(tc.a, tc.b, tc.k)
		if err != nil {
			t.Fatalf("%s: got error %v, want nil", tc.name, err)
		}
		if !near(got, tc.want, 1e-12) {
			t.Errorf("%s: kappa = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := WeightedKappa([]int{0}, []int{5}, 3); err == nil {
		t.Errorf("WeightedKappa(class 5 of 3): got nil error, want an error")
	}
}

func TestKappa5Rounds(t *testing.T) {
	// 12.4 and 10 both round to 10; 13 rounds to 15.
	got, err := Kappa5([]float64{12.4, 50, 97.6}, []float64{10, 50, 100})
	if err != nil || got != 1 {
		t.Fatalf("Kappa5 = %v, %v; want 1", got, err)
	}
	if RoundTo5(13) != 15 || RoundTo5(-3) != 0 || RoundTo5(104) != 100 || Class5(100) != 20 {
		t.Errorf("RoundTo5(13, -3, 104), Class5(100): got %v, %v, %v, %v; want 15, 0, 100, 20", RoundTo5(13), RoundTo5(-3), RoundTo5(104), Class5(100))
	}
}

// Shrout & Fleiss (1979), Table 2: six targets rated by four judges;
// ICC(2,1) = 0.29.
func TestICCShroutFleiss(t *testing.T) {
	rows := [][]float64{
		{9, 2, 5, 8}, {6, 1, 3, 2}, {8, 4, 6, 8}, {7, 1, 2, 6}, {10, 5, 6, 9}, {6, 2, 4, 7},
	}
	got, err := ICC(rows)
	if err != nil {
		t.Fatalf("ICC: got error %v, want nil", err)
	}
	if !near(got, 0.29, 0.005) {
		t.Errorf("ICC(2,1) = %.4f, want 0.29", got)
	}
	// Absolute agreement: a constant offset between raters lowers ICC(2,1).
	a := []float64{1, 2, 3, 4, 5}
	b := []float64{1, 2, 3, 4, 5}
	if v, _ := ICC21(a, b); !near(v, 1, 1e-12) {
		t.Errorf("identical raters: ICC = %v, want 1", v)
	}
	c := []float64{3, 4, 5, 6, 7}
	if v, _ := ICC21(a, c); v >= 0.9 {
		t.Errorf("offset raters: ICC = %v, want clearly below 1", v)
	}
}

func TestBlandAltmanAndLevels(t *testing.T) {
	ba, err := NewBlandAltman([]float64{2, 4, 6}, []float64{1, 2, 3})
	if err != nil {
		t.Fatalf("NewBlandAltman: got error %v, want nil", err)
	}
	// differences 1, 2, 3: mean 2, sd 1.
	if !near(ba.Bias, 2, 1e-12) || !near(ba.SD, 1, 1e-12) || !near(ba.Upper, 3.96, 1e-12) || !near(ba.Lower, 0.04, 1e-12) {
		t.Errorf("Bland-Altman: got %+v, want bias 2, SD 1, limits 0.04..3.96", ba)
	}
	lm, err := Levels([]float64{100, 110, 90}, []float64{102, 100, 90}, []float64{2.5, 5, 1})
	if err != nil {
		t.Fatalf("Levels: got error %v, want nil", err)
	}
	if !near(lm.MAEmm, 4, 1e-12) || !near(lm.WithinSlice, 2.0/3, 1e-12) {
		t.Errorf("Levels: got %+v, want MAEmm 4, WithinSlice 2/3", lm)
	}
	if _, err := MAE(nil, nil); err == nil {
		t.Errorf("MAE(nil, nil): got nil error, want an error")
	}
}

func TestScores(t *testing.T) {
	m, err := Scores([]float64{0, 10, 20, 31}, []float64{0, 10, 20, 30})
	if err != nil {
		t.Fatalf("Scores: got error %v, want nil", err)
	}
	if !near(m.MAE, 0.25, 1e-12) || m.Kappa != 1 || m.ICC < 0.99 || m.N != 4 {
		t.Errorf("Scores: got %+v, want MAE 0.25, Kappa 1, ICC >= 0.99, N 4", m)
	}
}

// TestRoundTo5: scores are reported in steps of 5, halves up, within
// [0, 100].
func TestRoundTo5(t *testing.T) {
	for _, tc := range []struct{ x, want float64 }{
		{0, 0}, {2.4, 0}, {2.5, 5}, {7.49, 5}, {7.5, 10}, {97.6, 100}, {-1, 0}, {-3, 0}, {104, 100},
	} {
		if got := RoundTo5(tc.x); got != tc.want {
			t.Errorf("RoundTo5(%v): got %v, want %v", tc.x, got, tc.want)
		}
	}
}
