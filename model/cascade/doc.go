// Package cascade scores systemic-sclerosis lung involvement on a chest CT
// with two networks: volume -> levels -> slices -> scores -> result. It is
// the pure-Go core that the command-line tool, the browser app (under
// js/wasm: no files, no os/exec) and the tests share.
//
// # Use
//
//	c, err := cascade.Default()                    // the shipped weights (model/weights)
//	res, err := c.Score(ctx, src, cascade.Options{ // src: any volume.Source, e.g. ingest.LazyVolume
//		Progress:  func(stage cascade.Stage, done, total int) { ... }, // StageRead, StageLevels, StageScores
//		SeriesUID: uid,
//	})
//	lr, err := c.Rescore(ctx, src, level, slice)   // a reader moved a level: three slices rescored
//	res.Levels[level] = lr
//	res.Mean = cascade.MeanOf(res.Levels)
//	json.Marshal(res)                              // the `sscscore score --json` format
//	res.WriteCSV(w, patID)                         // the paper's CSV layout, one row
//
// Score reads the source lazily: one sequential pass builds the coarse grid
// (each slice decoded, averaged onto 4 mm cells and dropped), then only the
// level slices and their neighbours (about fifteen) are read again, so a
// 3,000-slice series stays within memory. Every stage checks ctx, so a
// cancelled context stops the work within one slice or one network
// evaluation. LocateLevels and ScoreSlices expose the two halves.
//
// # Levels
//
// BuildCoarse averages the scan onto a fixed physical grid (CoarseMM = 4 mm
// in-plane and along z, triangular z weights of half-width max(4 mm, slice
// spacing)); LevelsInput crops it around the body, clips and normalises the
// HU (NormLevelsHU) and pads LevelsPad slices of an "outside the scan"
// value above and below. The levels network (LevelsSpec) gives one heat map
// per level over z; DecodeLevelsPrior reads them jointly under an
// anatomical prior on the distances between the levels (DefaultLevelPrior:
// those of the training phantoms), each level from its posterior
// (soft-argmax in a window, confidence = probability within ±8 mm). A level whose estimate falls
// outside the scanned range is reported with Status "outside" and no
// position or scores. L4 is halfway between L3 and L5 when both are in the
// scan.
//
// # Scores
//
// PrepareSlice is the one per-slice preprocessing step (the heat maps reuse
// it): lung mask (model/lungmask), a 384 mm square centred on the lungs
// resampled to SliceSide² pixels of SliceMM by area averaging, a lung
// window and the mask's coverage as two channels; SliceInput maps the input
// pixels back to the original slice. A slice with less than MinLungAreaMM2
// of lung is "no lung" and is not scored. The score network (ScoresSpec)
// gives per-cell maps (lung share, diseased share, ground-glass and
// reticulation shares); ScoreHead turns them into the slice's TOT, GG and
// RET (percent of the lung area, TOT ≥ max(GG, RET) by construction). A
// level's scores are the mean over its slice and the two neighbours.
//
// # Heat maps
//
// Nets returns the networks: run the score network's graph on a
// SliceInput.X with nn.Net.ForwardAll in evaluation mode and back-propagate
// a seed on the logits (ScoreHead's channels) for input gradients or
// Grad-CAM; ScoreBatch evaluates many modified inputs at once for
// occlusion maps. SliceInput's X0, Y0 and Step map the 256² input, and the
// 32² output cells (CellStride input pixels each), back to the original
// slice.
package cascade
