package cascade

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"sscscore/model/phantom"
	"sscscore/model/volume"
)

func TestParsePlacement(t *testing.T) {
	tests := []struct {
		in      string
		want    Placement
		wantErr string
	}{
		{in: "L3=z-144", want: Placement{Level: 2, At: Position{ByZ: true, Z: -144}}},
		{in: "l1=z+20.5", want: Placement{Level: 0, At: Position{ByZ: true, Z: 20.5}}},
		{in: "L5=slice-12", want: Placement{Level: 4, At: Position{Slice: 12}}},
		{in: "L4=slice:3", want: Placement{Level: 3, At: Position{Slice: 3}}},
		{in: "L2=7", want: Placement{Level: 1, At: Position{Slice: 7}}},
		{in: "L6=slice-1", wantErr: "not one of L1..L5"},
		{in: "L3", wantErr: "want L3=z-144"},
		{in: "L3=zfoo", wantErr: "patient z in mm"},
		{in: "L3=-4", wantErr: "slice index"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePlacement(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want an error with %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v, nil", got, err, tc.want)
			}
		})
	}
}

// TestPlace scores a short phantom, then places levels by hand (one the
// network put outside the scan, one by z) and adds a slice of the
// reader's own: the levels move, are marked, the mean and warnings follow.
// A single slice of the same scan is scored as itself, levels left to the
// reader, who can then place one on it.
func TestPlace(t *testing.T) {
	p := phantom.New(77, phantom.Options{Matrix: 96, SliceSpacing: phantom.Range{Min: 8, Max: 8}, Disease: true, Severity: 0.5})
	v, _, err := p.Render(context.Background(), p.Geometry())
	if err != nil {
		t.Fatalf("p.Render: got error %v, want nil", err)
	}
	c := defaultCascade(t)
	ctx := context.Background()
	res, err := c.Score(ctx, v, Options{})
	if err != nil {
		t.Fatalf("Score: got error %v, want nil", err)
	}
	// As if the network had put L1 outside the scan.
	res.Levels[0] = LevelResult{Name: "L1", Status: StatusOutside, Outside: "above", EstimateZMM: 900, Message: "L1 lies above the scanned range"}
	res.Warnings = append(res.Warnings, "L1 not scored: L1 lies above the scanned range")
	res.Mean = MeanOf(res.Levels)
	g := v.Geometry()
	l1 := *res.Levels[1].Slice - 3 // above the network's L2
	l5z := g.ZOf(*res.Levels[4].Slice + 1)
	own := *res.Levels[2].Slice + 1 // a slice of the reader's own, below L3
	ps := []Placement{{Level: 0, At: Position{Slice: l1}}, {Level: 4, At: Position{ByZ: true, Z: l5z + 1}}, {Level: -1, At: Position{Slice: own}}}
	if err := c.Place(ctx, v, res, ps); err != nil {
		t.Fatalf("Place: got error %v, want nil", err)
	}
	if l := res.Levels[0]; !l.ReaderPlaced || l.Status != StatusScored || *l.Slice != l1 || l.Confidence != 0 {
		t.Errorf("L1: got %+v, want scored at slice %d, placed by the reader", l, l1)
	}
	if l := res.Levels[4]; !l.ReaderPlaced || g.ZOf(*l.Slice) != l5z {
		t.Errorf("L5: got slice %v (z %.1f), want the slice at z %.1f, placed by the reader", *l.Slice, g.ZOf(*l.Slice), l5z)
	}
	if res.Levels[2].ReaderPlaced {
		t.Errorf("L3: got placed by the reader, want the network's")
	}
	if len(res.ExtraSlices) != 1 || res.ExtraSlices[0].Name != fmt.Sprintf("slice %d", own) || !res.ExtraSlices[0].ReaderPlaced || res.ExtraSlices[0].TOT == nil {
		t.Errorf("extra slices: got %+v, want slice %d scored, placed by the reader", res.ExtraSlices, own)
	}
	if res.Mean.Levels != MeanOf(res.Levels).Levels || res.Mean.Levels < 4 {
		t.Errorf("mean: got %d levels, want the levels scored after the placement", res.Mean.Levels)
	}
	w := strings.Join(res.Warnings, " | ")
	if strings.Contains(w, "L1 not scored") || !strings.Contains(w, "L1 placed by the reader") || !strings.Contains(w, fmt.Sprintf("slice %d (z", own)) {
		t.Errorf("warnings: got %q, want L1's gone and the placements noted", w)
	}
	// A bad placement changes nothing.
	before := *res.Levels[2].Slice
	if err := c.Place(ctx, v, res, []Placement{{Level: 2, At: Position{Slice: 1}}, {Level: 3, At: Position{ByZ: true, Z: 5000}}}); err == nil || !strings.Contains(err.Error(), "L4: z 5000.0 mm is outside the scan") {
		t.Errorf("z outside: got error %v, want L4: z 5000.0 mm is outside the scan", err)
	}
	if *res.Levels[2].Slice != before {
		t.Errorf("L3 after a refused placement: got slice %d, want %d", *res.Levels[2].Slice, before)
	}

	// A single slice: scored as itself, the levels left to the reader.
	k := *res.Levels[3].Slice
	one := &cropped{v: v, k0: k, k1: k + 1}
	counted := &countReads{Source: one}
	single, err := c.Score(ctx, counted, Options{})
	if err != nil {
		t.Fatalf("Score(one slice): got error %v, want nil", err)
	}
	if counted.n != 1 {
		t.Errorf("Score(one slice): got %d reads of the slice, want 1 (a read-ahead pass ends at the levels stage)", counted.n)
	}
	if len(single.ExtraSlices) != 1 || single.ExtraSlices[0].TOT == nil || single.ExtraSlices[0].ReaderPlaced {
		t.Fatalf("one slice: got extra slices %+v, want the slice scored", single.ExtraSlices)
	}
	for _, l := range single.Levels {
		if l.Status != StatusUnplaced || l.ZMM != nil {
			t.Errorf("one slice %s: got %s at %v, want unplaced", l.Name, l.Status, l.ZMM)
		}
	}
	if err := c.Place(ctx, one, single, []Placement{{Level: 3, At: Position{Slice: 0}}}); err != nil {
		t.Fatalf("Place on one slice: got error %v, want nil", err)
	}
	if l := single.Levels[3]; l.Status != StatusScored || !l.ReaderPlaced || *l.TOT != *single.ExtraSlices[0].TOT {
		t.Errorf("one slice, L4 placed: got %+v, want scored as the slice (TOT %.2f), placed by the reader", l, *single.ExtraSlices[0].TOT)
	}
	if single.Mean.Levels != 1 {
		t.Errorf("one slice mean: got %d levels, want 1", single.Mean.Levels)
	}
}

// countReads counts the slices read from a source.
type countReads struct {
	volume.Source
	n int
}

func (c *countReads) Slice(ctx context.Context, k int, dst []int16) error {
	c.n++
	return c.Source.Slice(ctx, k, dst)
}
