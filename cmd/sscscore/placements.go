package main

import (
	"context"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
)

// placementFlags collects repeated --level L3=z-144 flags.
type placementFlags []cascade.Placement

func (p *placementFlags) String() string { return "" }

func (p *placementFlags) Set(s string) error {
	pl, err := cascade.ParsePlacement(s)
	if err != nil {
		return err
	}
	*p = append(*p, pl)
	return nil
}

// sliceFlags collects repeated --slice N flags: slices of the reader's own
// to score (Level -1).
type sliceFlags []cascade.Placement

func (p *sliceFlags) String() string { return "" }

func (p *sliceFlags) Set(s string) error {
	at, err := cascade.ParsePosition(s)
	if err != nil {
		return err
	}
	*p = append(*p, cascade.Placement{Level: -1, At: at})
	return nil
}

// applyPlacements scores the reader's levels and slices on the scan
// (cascade.Place), in the order given: levels first, then slices.
func applyPlacements(ctx context.Context, res *cascade.Result, src *ingest.LazyVolume, levels placementFlags, slices sliceFlags) error {
	ps := append(append([]cascade.Placement(nil), levels...), slices...)
	if len(ps) == 0 {
		return nil
	}
	c, err := theCascade()
	if err != nil {
		return err
	}
	return c.Place(ctx, src, res, ps)
}

// readerMark is the score table's mark of a level or slice placed by the
// reader.
func readerMark(l cascade.LevelResult) string {
	if l.ReaderPlaced {
		return "*"
	}
	return ""
}
