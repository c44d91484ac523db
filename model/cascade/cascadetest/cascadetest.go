// Package cascadetest makes cascade results by hand for the tests of the
// packages that report them (model/sr, model/printout): every kind of
// level, odd numbers, and a DICOM source.
package cascadetest

import (
	"fmt"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/eval"
)

func f(v float64) *float64 { return &v }
func k(v int) *int         { return &v }

// Result returns a result whose levels are: L1 outside the scan (above),
// L2 and L3 scored (with values that need all 17 digits), L4 without
// lung, L5 scored and moved by a reader, on frame 34 of a multi-frame
// image. Its source names the study, and the patient when patient is
// true. warnings are the result's warnings.
func Result(patient bool, warnings []string) *cascade.Result {
	res := &cascade.Result{
		SeriesUID: "1.2.826.0.1.3680043.8.498.1",
		Model: cascade.ModelInfo{
			Levels:   cascade.NetInfo{Spec: "levels-v1", SHA256: strings.Repeat("ab", 32)},
			Scores:   cascade.NetInfo{Spec: "scores-v1", SHA256: strings.Repeat("cd", 32)},
			Training: "synthetic", LevelDecoding: cascade.DecodingPrior,
		},
		Warnings: append([]string{}, warnings...),
		Note:     cascade.SyntheticNote,
		Levels: []cascade.LevelResult{
			{Name: "L1", Status: cascade.StatusOutside, Outside: "above", EstimateZMM: 330},
			{Name: "L2", Status: cascade.StatusScored, ZMM: f(-101.25), Slice: k(3), TOT: f(12.345678901234567), GG: f(7.1), RET: f(0.1 + 0.2)},
			{Name: "L3", Status: cascade.StatusScored, ZMM: f(-150), Slice: k(17), TOT: f(40), GG: f(0), RET: f(33.33333333333333)},
			{Name: "L4", Status: cascade.StatusNoLung, ZMM: f(-190.5), Slice: k(25)},
			{Name: "L5", Status: cascade.StatusScored, ZMM: f(-230.75), Slice: k(33), TOT: f(99.99), GG: f(50), RET: f(49.99), ReaderPlaced: true},
		},
	}
	for i := range res.Levels {
		if l := &res.Levels[i]; l.TOT != nil {
			l.Rounded = &cascade.Rounded{TOT: int(eval.RoundTo5(*l.TOT)), GG: int(eval.RoundTo5(*l.GG)), RET: int(eval.RoundTo5(*l.RET))}
		}
	}
	res.Mean = cascade.MeanOf(res.Levels)
	src := &cascade.Source{
		StudyUID: "1.2.826.0.1.3680043.8.498.2", StudyID: "42", StudyDate: "20240102", StudyTime: "101112",
		AccessionNumber: "ACC1", ReferringPhysician: "Doe^Jane",
	}
	if patient {
		src.Patient = &cascade.Patient{Name: "Müller^Anna", ID: "P001", BirthDate: "19600101", Sex: "F"}
	}
	for _, l := range res.Levels {
		im := cascade.SourceImage{Name: l.Name, Slice: l.Slice}
		if l.Slice != nil {
			im.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
			im.SOPInstanceUID = fmt.Sprintf("1.2.826.0.1.3680043.8.498.3.%d", *l.Slice+1)
		}
		src.Levels = append(src.Levels, im)
	}
	src.Levels[4].SOPClassUID, src.Levels[4].SOPInstanceUID, src.Levels[4].Frame = "1.2.840.10008.5.1.4.1.1.2.1", "1.2.826.0.1.3680043.8.498.4", 34
	res.Source = src
	return res
}
