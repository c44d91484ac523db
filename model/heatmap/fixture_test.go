package heatmap

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/nlpodyssey/spago/mat"

	"sscscore/model/cascade"
	"sscscore/model/lungmask"
	"sscscore/model/nn"
	"sscscore/model/nn/spec"
	"sscscore/model/phantom"
	"sscscore/model/synth"
)

// tinyNet returns a small network with the score network's input and
// output shapes (2×256² → 4×32²): strided convolutions, batch
// normalisations with non-trivial statistics, ReLU and leaky ReLU, and a
// 1×1 head with bias.
func tinyNet(t testing.TB, seed uint64) *nn.Net {
	t.Helper()
	I := spec.I
	bias := true
	leaky := spec.Layer{Type: "leakyrelu", P: 0.1}
	s := spec.Spec{Name: "tiny-scores", Input: []int{2, cascade.SliceSide, cascade.SliceSide}, Layers: spec.Seq("net",
		spec.ConvNoBias(4, I(3), I(2), I(1)), spec.BN(), spec.ReLU(),
		spec.Layer{Type: "conv", Out: 6, Kernel: I(5), Stride: I(1), Pad: I(2), Bias: &bias}, spec.BN(), leaky,
		spec.ConvNoBias(6, I(3), I(2), I(1)), spec.BN(), spec.ReLU(),
		spec.ConvNoBias(8, I(3), I(2), I(1)), spec.BN(), spec.ReLU(),
		spec.Conv(cascade.NumScoreChans, I(1), nil, nil),
	)}
	net, err := spec.Build(s, spec.Options{Seed: seed})
	if err != nil {
		t.Fatalf("spec.Build: got error %v, want nil", err)
	}
	r := rand.New(rand.NewPCG(seed, 7))
	for _, l := range net.Layers {
		switch v := l.(type) {
		case *nn.BatchNorm:
			g, b := mat.Data[float32](v.Weight.Value()), mat.Data[float32](v.Bias.Value())
			for c := 0; c < v.C; c++ {
				g[c] = float32(0.5 + r.Float64())
				b[c] = float32(r.NormFloat64() * 0.2)
				v.RunningMean[c] = r.NormFloat64() * 0.3
				v.RunningVar[c] = 0.5 + r.Float64()
			}
		case *nn.Conv:
			if v.B != nil {
				for i, bb := 0, mat.Data[float32](v.B.Value()); i < len(bb); i++ {
					bb[i] = float32(r.NormFloat64() * 0.3)
				}
			}
		}
	}
	return net
}

// tinyCascade wraps tinyNet as a cascade (the score network only).
func tinyCascade(t testing.TB, seed uint64) *cascade.Cascade {
	return cascade.FromNets(nil, tinyNet(t, seed), cascade.ModelInfo{Training: "test"})
}

// drawnSlice makes a synthetic slice without the phantom: two elliptic
// "lungs" of -850 HU with noise and bright dots (vessels) in soft tissue
// of 40 HU, and a ground-glass-like disc of -500 HU in the right lung. It
// returns the slice, its lung mask and the lesion mask.
func drawnSlice(nx, ny int, sp float64) (hu []int16, lung, lesion []bool) {
	hu = make([]int16, nx*ny)
	lung = make([]bool, nx*ny)
	lesion = make([]bool, nx*ny)
	r := rand.New(rand.NewPCG(11, 12))
	cx, cy := float64(nx)/2, float64(ny)/2
	ax, ay := 70/sp, 95/sp // lung half axes (mm → px)
	lx, ly := cx-80/sp, cy+10/sp
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			i := y*nx + x
			v := -1000.0
			bx, by := (float64(x)-cx)/(170/sp), (float64(y)-cy)/(130/sp)
			if bx*bx+by*by < 1 {
				v = 40
			}
			for _, sx := range []float64{-1, 1} {
				ex, ey := (float64(x)-cx-sx*80/sp)/ax, (float64(y)-cy)/ay
				if ex*ex+ey*ey < 1 {
					v = -850
					lung[i] = true
					if math.Mod(float64(x)*7+float64(y)*13, 97) < 1.5 {
						v = 20 // vessels
					}
				}
			}
			if lung[i] {
				dx, dy := (float64(x)-lx)*sp, (float64(y)-ly)*sp
				if dx*dx+dy*dy < 35*35 {
					lesion[i] = true
					v += 350
				}
			}
			v += r.NormFloat64() * 25
			hu[i] = int16(math.Round(v))
		}
	}
	return hu, lung, lesion
}

// phantomFixture is a phantom slice at L3 with a pasted ground-glass
// lesion of about 25 % of the lung, on a 256² matrix (about 1.4 mm
// pixels, to keep the tests to seconds under js/wasm).
type phantomFixture struct {
	hu      []int16
	nx, ny  int
	sp      [2]float64
	in      *cascade.SliceInput
	gg      []bool
	labels  synth.Labels
	fixErr  error
	fixOnce sync.Once
}

var fixture phantomFixture

func getFixture(t testing.TB) *phantomFixture {
	t.Helper()
	f := &fixture
	f.fixOnce.Do(func() {
		p := phantom.New(3_900_001, phantom.Options{Matrix: 256})
		g := p.SliceGrid()
		f.nx, f.ny = g.Nx, g.Ny
		f.sp = [2]float64{g.DX, g.DY}
		f.hu = make([]int16, g.Nx*g.Ny)
		if f.fixErr = p.RenderSlice(p.Levels()[2], g, f.hu, nil); f.fixErr != nil {
			return
		}
		lung := lungmask.Slice(f.hu, f.nx, f.ny, f.sp, lungmask.Options{})
		rng := rand.New(rand.NewPCG(5, 6))
		var m synth.Masks
		f.labels, m = synth.Paste(f.hu, f.nx, f.ny, lung, rng, synth.Options{PixelSpacing: g.DX, Mode: synth.ModeGG, Extent: 0.25})
		f.gg = m.GG
		f.in = cascade.PrepareSliceWithLung(f.hu, lung, f.nx, f.ny, f.sp)
	})
	if f.fixErr != nil {
		t.Fatalf("fixture: got error %v, want nil", f.fixErr)
	}
	return f
}

// paperOptions are the paper's occlusion settings scaled to the
// fixture's pixel size (64 px of 0.7 mm ≈ 32 px of 1.4 mm).
func (f *phantomFixture) paperOptions() Options {
	w := int(math.Round(64 * 0.7 / f.sp[0]))
	return Options{Window: w, Stride: max(1, w/4), Soften: max(1, int(math.Round(5*0.7/f.sp[0])))}
}
