package spec

import (
	"fmt"
	"sort"
)

// Names of the shipped specs.
const (
	// LevelsPaper is the paper's Vgg11_3d (Jia et al.): Conv-ReLU-BN blocks of 8, 16, 32×2,
	// 64×2, 128×2 channels with 3×3×3 max pooling (stride 2) between them,
	// AdaptiveAvgPool3d(6,6,6) and a 27648-1024-1024-5 classifier with dropout 0.5, on a
	// 1×192×256×256 (z, y, x) volume. The paper gives "MaxPool(k3,s2)"; padding 1 is assumed
	// (it makes the depth exactly 6 before the adaptive pooling).
	LevelsPaper = "levels-paper"
	// ScoresPaper is torchvision's VGG11-BN with a 1-channel first convolution and a
	// 25088-1024-1024-3 classifier, on a 1×512×512 slice (torchvision module names).
	ScoresPaper = "scores-paper"
	// Levels is the browser-sized level network: a small 3-D CNN on a 1×128×96×96 resampled
	// volume (z, y, x) that keeps the z resolution (64 after pooling), averages over y and x,
	// mixes along z and gives one z heat map per level; a soft-argmax turns each into a
	// position in [0, 1] along the volume (SoftArgmaxRows also gives a confidence).
	Levels = "levels"
	// Scores is the browser-sized score network: a residual 2-D CNN (ResNet-style stem with a
	// stride-2 7×7 convolution and max pooling, four stages of two basic blocks with 16, 32,
	// 64, 96 channels) on the 1×512×512 slice, global average pooling and a 3-output head
	// (TOT, GG, RET) mapped to 0…100 by a sigmoid.
	Scores = "scores"
)

var zoo = map[string]func() Spec{
	LevelsPaper: levelsPaper,
	ScoresPaper: scoresPaper,
	Levels:      levels,
	Scores:      scores,
}

// Names lists the shipped specs.
func Names() []string {
	var n []string
	for k := range zoo {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Get returns a shipped spec by name.
func Get(name string) (Spec, error) {
	f, ok := zoo[name]
	if !ok {
		return Spec{}, fmt.Errorf("spec: no shipped spec %q (have %v)", name, Names())
	}
	return f(), nil
}

// vggFeatures lists a VGG configuration (0 = max pooling) as layers.
func vggFeatures(cfg []int, block func(c int) []Layer, pool Layer) []Layer {
	var ls []Layer
	for _, c := range cfg {
		if c == 0 {
			ls = append(ls, pool)
			continue
		}
		ls = append(ls, block(c)...)
	}
	return ls
}

func classifier(in ...int) []Layer {
	return Seq("classifier", Linear(in[0]), ReLU(), Dropout(0.5), Linear(in[1]), ReLU(), Dropout(0.5), Linear(in[2]))
}

func levelsPaper() Spec {
	feats := vggFeatures([]int{8, 0, 16, 0, 32, 32, 0, 64, 64, 0, 128, 128, 0},
		func(c int) []Layer { return []Layer{Conv(c, I(3), nil, I(1)), ReLU(), BN()} },
		MaxPool(I(3), I(2), I(1)))
	ls := Seq("features", feats...)
	ls = append(ls, Named("avgpool", Layer{Type: "adaptiveavgpool", Size: I(6, 6, 6)}), Layer{Type: "flatten"})
	ls = append(ls, classifier(1024, 1024, 5)...)
	return Spec{Name: LevelsPaper, Doc: "Vgg11_3d of Jia et al. (5 level positions)", Input: I(1, 192, 256, 256), Layers: ls}
}

func scoresPaper() Spec {
	feats := vggFeatures([]int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
		func(c int) []Layer { return []Layer{Conv(c, I(3), nil, I(1)), BN(), ReLU()} },
		MaxPool(I(2), I(2), nil))
	ls := Seq("features", feats...)
	ls = append(ls, Named("avgpool", Layer{Type: "adaptiveavgpool", Size: I(7, 7)}), Layer{Type: "flatten"})
	ls = append(ls, classifier(1024, 1024, 3)...)
	return Spec{Name: ScoresPaper, Doc: "VGG11-BN of Jia et al. (TOT, GG, RET)", Input: I(1, 512, 512), Layers: ls}
}

func levels() Spec {
	cbr := func(c int, k, s, p []int) []Layer { return []Layer{ConvNoBias(c, k, s, p), BN(), ReLU()} }
	var feats []Layer
	feats = append(feats, cbr(16, I(3), I(1, 2, 2), I(1))...)                // 16×128×48×48
	feats = append(feats, MaxPool(I(2), I(2), nil))                          // 16×64×24×24
	feats = append(feats, cbr(32, I(3), nil, I(1))...)                       // 32×64×24×24
	feats = append(feats, MaxPool(I(1, 2, 2), I(1, 2, 2), nil))              // 32×64×12×12
	feats = append(feats, cbr(64, I(3), nil, I(1))...)                       // 64×64×12×12
	feats = append(feats, MaxPool(I(1, 2, 2), I(1, 2, 2), nil))              // 64×64×6×6
	feats = append(feats, cbr(64, I(3), nil, I(1))...)                       // 64×64×6×6
	feats = append(feats, Layer{Type: "adaptiveavgpool", Size: I(64, 1, 1)}) // 64×64×1×1
	var head []Layer
	head = append(head, cbr(64, I(5, 1, 1), nil, I(2, 0, 0))...)
	head = append(head, cbr(64, I(5, 1, 1), nil, I(2, 0, 0))...)
	head = append(head, Conv(5, I(1), nil, nil)) // 5 heat maps × 64 z positions
	ls := Seq("features", feats...)
	ls = append(ls, Seq("head", head...)...)
	ls = append(ls, Layer{Type: "reshape", Size: I(5, 64)}, Layer{Type: "softargmax"})
	return Spec{Name: Levels, Doc: "browser level network: 5 craniocaudal positions in [0, 1] (soft-argmax of z heat maps)",
		Input: I(1, 128, 96, 96), Layers: ls}
}

// basicBlock is torchvision's BasicBlock (conv3×3-BN-ReLU-conv3×3-BN, + shortcut, ReLU).
func basicBlock(name string, in, out, stride int) Layer {
	n := func(s string, l Layer) Layer { return Named(name+"."+s, l) }
	body := []Layer{
		n("conv1", ConvNoBias(out, I(3), I(stride), I(1))), n("bn1", BN()), ReLU(),
		n("conv2", ConvNoBias(out, I(3), nil, I(1))), n("bn2", BN()),
	}
	var sc []Layer
	if stride != 1 || in != out {
		sc = []Layer{n("downsample.0", ConvNoBias(out, I(1), I(stride), nil)), n("downsample.1", BN())}
	}
	return Layer{Type: "residual", Name: name, Body: body, Shortcut: sc, Act: "relu"}
}

func scores() Spec {
	ls := []Layer{
		Named("conv1", ConvNoBias(16, I(7), I(2), I(3))), Named("bn1", BN()), ReLU(),
		MaxPool(I(3), I(2), I(1)),
	}
	widths := []int{16, 32, 64, 96}
	in := 16
	for s, w := range widths {
		stride := 2
		if s == 0 {
			stride = 1
		}
		ls = append(ls, basicBlock(fmt.Sprintf("layer%d.0", s+1), in, w, stride), basicBlock(fmt.Sprintf("layer%d.1", s+1), w, w, 1))
		in = w
	}
	ls = append(ls, Layer{Type: "gap"}, Layer{Type: "flatten"}, Named("fc", Linear(3)), Layer{Type: "sigmoid"},
		Layer{Type: "affine", A: 100})
	return Spec{Name: Scores, Doc: "browser score network: TOT, GG, RET in 0…100", Input: I(1, 512, 512), Layers: ls}
}
