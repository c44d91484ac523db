// Package heatmap explains the score network's scores with heat maps, the
// way the seed paper's follow-up (Jia et al., Sci Rep 14:26666, 2024) made
// them trustworthy: one map per score (TOT, GG, RET) on the slice's
// original pixel grid, in score points, negative where disease drives the
// score.
//
// # Methods
//
//   - Gradient (the fast default): Grad-CAM on the score network's last
//     convolutional block, element-wise (HiResCAM), times the block's change
//     towards healthy lung; one backward pass per score through spago's
//     autograd. About 0.1 s per slice natively.
//   - Occlusion: the paper's occlusion sensitivity. A 64-pixel window
//     slides with stride 16 over the slice; intersected with the lung and
//     with edges softened by a 5-pixel box it is replaced by healthy-lung
//     texture (HealthyTexture); each window adds its score change to the
//     lung pixels it covers and each pixel takes the average. Windows that
//     touch no lung are skipped; the rest are batched, and each is
//     recomputed only on the region of each layer it changes (exactly a
//     full re-run, about a tenth of the work).
//   - Dense: the score network's own per-cell disease maps (it scores a
//     slice as their lung-weighted mean), nearly free.
//
// The network reads a 256² grid of 1.5 mm centred on the lungs
// (cascade.SliceInput); the windows are placed on the original slice and
// mapped to that grid through the input's X0, Y0 and Step, so they keep
// their size in millimetres (64 original pixels) whatever the pixel
// spacing. Gradient and dense maps are per 12 mm cell; they are spread
// over the lung as a density and scaled to a 64-pixel window, the unit of
// an occlusion window's score change, so that all three share the
// paper's threshold of -0.6 points.
//
// # Heat map to score
//
// Maps.Score(s, threshold) is the percentage of lung pixels below the
// threshold: an estimate of the network's own score from its explanation.
// Evaluate measures, on synthetic slices with known lesion masks, how much
// of the highlighted area lies in the lesion (precision), how much of the
// lesion is highlighted (recall), and how the heat-map score tracks the
// network's score (MAE, R²); MODEL_CARD.md holds the numbers and the
// command (`sscscore heatmaps --eval`).
//
// # In the browser
//
// Everything runs in the wasm worker: no files, no operating system.
// Gradient and Dense return in a fraction of a second; Occlusion takes
// Options.Progress (called on the calling goroutine after every batch,
// where the worker can yield) and stops when its context is cancelled.
// The worker sends each map to the page as a coarse grid (a box average of
// Maps.Values); the page, which does not link this package, draws it over
// the slice inside the lung with view.PaintHeat (wasm/internal/view), on the
// colour scale that Scale defines here (view's test keeps the two equal).
// The CLI's PNGs (Overlay, WritePNG) use Scale itself. Results are
// deterministic.
package heatmap
