package spec

import (
	"fmt"
	"strings"

	"sscscore/model/nn"
)

// LayerStats describes one layer of a counted spec.
type LayerStats struct {
	Name   string
	Type   string
	Out    nn.Shape // output shape for one sample (batch 1)
	Params int
	FLOPs  int64
}

// Stats summarises a spec for one input sample.
type Stats struct {
	Name   string
	Input  []int
	Output nn.Shape
	// Params counts trainable parameters (BatchNorm running statistics excluded).
	Params int
	// FLOPs is 2 × the multiply-accumulates of convolutions and linear layers for one sample
	// (the anchor-bench convention: bias, activations, normalisation and pooling excluded).
	FLOPs int64
	// MaxActivation is the largest activation (elements) of one sample, input included.
	MaxActivation int
	Layers        []LayerStats
}

// WeightBytes is the size of the parameters stored with bytesPerValue bytes each (4 for
// float32, 2 for float16).
func (s Stats) WeightBytes(bytesPerValue int) int { return s.Params * bytesPerValue }

func (s Stats) String() string {
	return fmt.Sprintf("%s: input %v, output %v, %.3f GFLOP, %d params (%.2f MB f32, %.2f MB f16), largest activation %.1f M values",
		s.Name, s.Input, s.Output, float64(s.FLOPs)/1e9, s.Params, float64(s.WeightBytes(4))/1e6,
		float64(s.WeightBytes(2))/1e6, float64(s.MaxActivation)/1e6)
}

// Count computes the statistics of s without allocating its parameters.
func Count(s Spec) (Stats, error) {
	st := Stats{Name: s.Name, Input: append([]int(nil), s.Input...)}
	size := 1
	for _, v := range s.Input {
		size *= v
	}
	st.MaxActivation = size
	b := &builder{visit: func(l Layer, m nn.Layer, in, out nn.Shape) {
		ls := LayerStats{Name: l.Name, Type: strings.ToLower(l.Type), Out: out[1:]}
		bias := l.Bias == nil || *l.Bias
		switch c := m.(type) {
		case *nn.Conv:
			kv := c.Kernel[0] * c.Kernel[1] * c.Kernel[2]
			ls.Params = c.Out * c.In * kv
			if bias {
				ls.Params += c.Out
			}
			ls.FLOPs = 2 * int64(out.Size()) * int64(c.In*kv)
		case *nn.BatchNorm:
			ls.Params = 2 * c.C
		case *nn.Linear:
			ls.Params = c.In * c.Out
			if bias {
				ls.Params += c.Out
			}
			ls.FLOPs = 2 * int64(c.In) * int64(c.Out)
		}
		if _, ok := m.(*nn.Residual); !ok {
			st.Params += ls.Params
			st.FLOPs += ls.FLOPs
			st.Layers = append(st.Layers, ls)
		}
		st.MaxActivation = max(st.MaxActivation, out.Size())
	}}
	n, err := b.net(s)
	if err != nil {
		return Stats{}, err
	}
	out, err := n.OutShape(1)
	if err != nil {
		return Stats{}, fmt.Errorf("spec %s: %w", s.Name, err)
	}
	st.Output = out[1:]
	return st, nil
}
