package train

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// TestMMsJSON: a level outside the scan (NaN) is written as null and read
// back as NaN, so `sscscore eval --json` works on a scan that misses a
// level.
func TestMMsJSON(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		in   MMs
		want string
	}{
		{MMs{1, -2.5, 0, 3e2, 4}, "[1,-2.5,0,300,4]"},
		{MMs{nan, 2, nan, 4, 5}, "[null,2,null,4,5]"},
		{MMs{math.Inf(1), 0, 0, 0, 0}, "[null,0,0,0,0]"},
	} {
		b, err := json.Marshal(tc.in)
		if err != nil {
			t.Fatalf("%v: got error %v, want nil", tc.in, err)
		}
		if string(b) != tc.want {
			t.Errorf("%v: %s, want %s", tc.in, b, tc.want)
		}
		var back MMs
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%s: got error %v, want nil", b, err)
		}
		for i := range back {
			w := tc.in[i]
			if math.IsInf(w, 0) {
				w = nan
			}
			if back[i] != w && !(math.IsNaN(back[i]) && math.IsNaN(w)) {
				t.Errorf("%s: got %v back, want %v at %d", b, back, w, i)
			}
		}
	}
	// a whole report with an outside level
	r := RealReport{Scans: []RealScan{{Series: "s", Z: MMs{nan, 1, 2, 3, 4}, Error: MMs{nan, 0, 0, 0, 0}}}, KernelAgreement: &MMs{nan, 0, 0, 0, 0}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal: got error %v, want nil", err)
	}
	if !strings.Contains(string(b), `"z_mm":[null,1,2,3,4]`) {
		t.Errorf("report JSON: got %s, want \"z_mm\":[null,1,2,3,4] in it", b)
	}
	var bad MMs
	if err := json.Unmarshal([]byte("[1,2]"), &bad); err == nil {
		t.Errorf("two values accepted: got nil error, want an error")
	}
}
