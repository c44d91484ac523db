package cascade

import "sscscore/model/nn/spec"

// Names of the default networks (their spec names).
const (
	LevelsSpecName = "sscscore-levels-v1"
	ScoresSpecName = "sscscore-scores-v1"
)

// LevelsSpec is the browser-sized levels network. Input: one channel of D
// slices of LevelsXY² cells (4 mm voxels, NormLevelsHU; D is free, 96 in
// the spec); output: NumLevels heat-map logits for each input slice, shape
// (NumLevels, D, 1, 1).
//
// A per-slice 2D encoder (a 5x5 stem and two 3x3 convolutions of stride 2,
// to 12x12 cells of 32 mm, and a 3x3 convolution) extracts per-slice
// features;
// a 4x4 max pooling and a 3x3 convolution reduce each slice to one
// feature vector that keeps the coarse left/right and front/back layout
// (the aortic arch lies left, the right dome is higher); five 1D
// convolutions of 9 slices along z give the profile a receptive field of
// about ±90 mm; a 1x1x1 convolution gives the five heat maps. The network
// is fully convolutional along z, so scans of any length are read in one
// pass.
func LevelsSpec() spec.Spec {
	I := spec.I
	var ls []spec.Layer
	add := func(l ...spec.Layer) { ls = append(ls, l...) }
	cbr := func(out int, k, s, p []int) {
		add(spec.ConvNoBias(out, k, s, p), spec.BN(), spec.ReLU())
	}
	cbr(16, I(1, 5, 5), I(1, 2, 2), I(0, 2, 2))
	cbr(32, I(1, 3, 3), I(1, 2, 2), I(0, 1, 1))
	cbr(32, I(1, 3, 3), I(1, 2, 2), I(0, 1, 1))
	cbr(48, I(1, 3, 3), nil, I(0, 1, 1))
	add(spec.MaxPool(I(1, 4, 4), nil, nil))
	cbr(64, I(1, 3, 3), nil, I(0, 0, 0))
	for i := 0; i < 5; i++ {
		cbr(64, I(9, 1, 1), nil, I(4, 0, 0))
	}
	add(spec.Conv(NumLevels, I(1, 1, 1), nil, nil))
	return spec.Spec{
		Name:   LevelsSpecName,
		Doc:    "Goh levels: 4 mm grid (1, D, 96, 96) -> 5 heat maps over the D slices (5, D, 1, 1); see sscscore/model/cascade",
		Input:  []int{1, 96, LevelsXY, LevelsXY},
		Layers: spec.Seq("net", ls...),
	}
}

// ScoresSpec is the browser-sized score network. Input: the two channels
// of SliceInput (lung-windowed slice, lung mask) on a 256² grid of 1.5 mm;
// output: NumScoreChans logit maps on a 32² grid of 12 mm cells (lung
// share, disease share, ground-glass and reticulation shares, see
// ScoreHead).
//
// Eight 3x3 convolutions with batch normalisation, three of stride 2
// (16, 32, 48, 48, 64, 64, 64, 64 channels; receptive field about 110 mm),
// and a 1x1 convolution. Predicting where the disease lies, and scoring a
// slice by the lung-weighted mean of those maps, makes the labels'
// definition (percent of the lung area) part of the network and lets the
// pixel masks of the synthetic lesions supervise it densely.
func ScoresSpec() spec.Spec {
	I := spec.I
	var ls []spec.Layer
	add := func(l ...spec.Layer) { ls = append(ls, l...) }
	cbr := func(out, stride int) {
		add(spec.ConvNoBias(out, I(3), I(stride), I(1)), spec.BN(), spec.ReLU())
	}
	cbr(16, 1)
	cbr(32, 2)
	cbr(48, 2)
	cbr(48, 1)
	cbr(64, 2)
	cbr(64, 1)
	cbr(64, 1)
	cbr(64, 1)
	add(spec.Conv(NumScoreChans, I(1), nil, nil))
	return spec.Spec{
		Name:   ScoresSpecName,
		Doc:    "Goh scores: 1.5 mm slice + lung mask (2, 256, 256) -> lung/TOT/GG/RET logit maps (4, 32, 32); see sscscore/model/cascade",
		Input:  []int{2, SliceSide, SliceSide},
		Layers: spec.Seq("net", ls...),
	}
}
