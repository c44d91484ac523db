// Package spec declares networks as data and builds them into nn.Net modules.
//
// A Spec is a per-sample input shape and a list of layers (residual blocks nest their own
// lists); it is plain JSON (Parse, json.Marshal) or a Go value (the shipped specs in zoo.go
// are written with the small constructors of this package). Build turns a spec into an nn.Net
// with freshly initialised parameters; Count reports its parameters, FLOPs and activation
// sizes without building it.
//
// Layer names are PyTorch module paths: a layer named "features.0" owns the state-dict
// entries "features.0.weight", "features.0.bias" (and, for BatchNorm, running_mean,
// running_var, num_batches_tracked). Naming the layers of a spec like the modules of a
// PyTorch model makes that model's state_dict, saved with safetensors, load unchanged
// (nn.Net.LoadSafetensors). The helpers Seq and Block number the layers of a sequence the
// way nn.Sequential does.
//
// # Layer types
//
//	conv        Conv2d/Conv3d: out, kernel, stride (default 1), pad (default 0), bias (default true)
//	bn          BatchNorm2d/3d (eps 1e-5, momentum 0.1)
//	relu, leakyrelu (p = slope, default 0.01), sigmoid
//	maxpool, avgpool   kernel, stride (default = kernel), pad (default 0); floor mode
//	adaptiveavgpool    size (d, h, w or h, w); gap is adaptiveavgpool to 1
//	linear      out, bias (default true)
//	dropout     p
//	flatten     to (N, features); reshape: size = per-sample shape
//	softargmax  (N, C, L) heat maps → (N, C) positions in [0, 1]
//	affine      y = a·x + b (constants)
//	residual    act(body(x) + shortcut(x)); empty shortcut = identity
//
// kernel, stride and pad take one value for every spatial axis or one per axis (d, h, w or
// h, w); pad also takes two per axis (all befores, then all afters, as ONNX).
package spec

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Spec is a network declaration.
type Spec struct {
	Name   string  `json:"name"`
	Doc    string  `json:"doc,omitempty"`
	Input  []int   `json:"input"` // per sample: (C, H, W) or (C, D, H, W), z-y-x for volumes
	Layers []Layer `json:"layers"`
}

// Layer is one layer of a spec (see the package documentation for the types).
type Layer struct {
	Type     string  `json:"type"`
	Name     string  `json:"name,omitempty"` // PyTorch module path
	Out      int     `json:"out,omitempty"`
	Kernel   []int   `json:"kernel,omitempty"`
	Stride   []int   `json:"stride,omitempty"`
	Pad      []int   `json:"pad,omitempty"`
	Bias     *bool   `json:"bias,omitempty"`
	Size     []int   `json:"size,omitempty"`
	P        float64 `json:"p,omitempty"`
	A        float64 `json:"a,omitempty"`
	B        float64 `json:"b,omitempty"`
	Act      string  `json:"act,omitempty"` // residual: activation after the addition
	Body     []Layer `json:"body,omitempty"`
	Shortcut []Layer `json:"shortcut,omitempty"`
}

// Parse reads a JSON spec and checks that it builds (shapes and hyper-parameters).
func Parse(data []byte) (Spec, error) {
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("spec: parsing: %w", err)
	}
	if _, err := Count(s); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// JSON returns the spec as indented JSON.
func (s Spec) JSON() []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // a Spec always marshals
	}
	return b
}

func boolp(b bool) *bool { return &b }

// Conv declares a convolution with bias.
func Conv(out int, kernel, stride, pad []int) Layer {
	return Layer{Type: "conv", Out: out, Kernel: kernel, Stride: stride, Pad: pad}
}

// ConvNoBias declares a convolution without bias (typically before a BatchNorm).
func ConvNoBias(out int, kernel, stride, pad []int) Layer {
	l := Conv(out, kernel, stride, pad)
	l.Bias = boolp(false)
	return l
}

// BN declares a BatchNorm.
func BN() Layer { return Layer{Type: "bn"} }

// ReLU declares a ReLU.
func ReLU() Layer { return Layer{Type: "relu"} }

// MaxPool declares a max pooling.
func MaxPool(kernel, stride, pad []int) Layer {
	return Layer{Type: "maxpool", Kernel: kernel, Stride: stride, Pad: pad}
}

// Linear declares a fully connected layer with bias.
func Linear(out int) Layer { return Layer{Type: "linear", Out: out} }

// Dropout declares a dropout.
func Dropout(p float64) Layer { return Layer{Type: "dropout", P: p} }

// Named returns l with a module name.
func Named(name string, l Layer) Layer {
	l.Name = name
	return l
}

// Seq names the layers prefix.0, prefix.1, … as in a PyTorch nn.Sequential.
func Seq(prefix string, ls ...Layer) []Layer {
	out := make([]Layer, len(ls))
	for i, l := range ls {
		l.Name = fmt.Sprintf("%s.%d", prefix, i)
		out[i] = l
	}
	return out
}

// I is a shorthand for an []int literal.
func I(v ...int) []int { return v }
