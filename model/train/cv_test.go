package train

import (
	"fmt"
	"testing"
)

// TestAssignFolds checks that a patient's scans stay in one fold, that
// every scan is in exactly one fold and that the folds are balanced.
func TestAssignFolds(t *testing.T) {
	tests := []struct {
		name      string
		patients  []int // scans per patient
		k         int
		wantErr   bool
		maxSpread int // largest minus smallest fold, in scans
	}{
		{"one scan each", []int{1, 1, 1, 1, 1, 1, 1, 1}, 4, false, 0},
		{"follow-ups", []int{3, 1, 2, 1, 1, 2, 1, 1}, 4, false, 2},
		{"too few patients", []int{5, 5, 5}, 4, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cases []*RealCase
			for p, n := range tc.patients {
				for i := 0; i < n; i++ {
					cases = append(cases, &RealCase{PatientID: fmt.Sprintf("P%d", p)})
				}
			}
			folds, err := AssignFolds(cases, tc.k, 7)
			if (err != nil) != tc.wantErr {
				t.Fatalf("AssignFolds: got error %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			foldOf := map[string]int{}
			seen := map[*RealCase]bool{}
			lo, hi := len(cases), 0
			for f, fold := range folds {
				lo, hi = min(lo, len(fold)), max(hi, len(fold))
				for _, c := range fold {
					if g, ok := foldOf[c.PatientID]; ok && g != f {
						t.Errorf("patient %s in folds %d and %d, want one", c.PatientID, g, f)
					}
					foldOf[c.PatientID] = f
					if seen[c] {
						t.Errorf("a scan of %s in two folds, want one", c.PatientID)
					}
					seen[c] = true
				}
			}
			if len(seen) != len(cases) || len(folds) != tc.k || hi-lo > tc.maxSpread {
				t.Errorf("got %d of %d scans in %d folds of %d-%d scans, want all in %d folds within %d", len(seen), len(cases), len(folds), lo, hi, tc.k, tc.maxSpread)
			}
		})
	}
}
