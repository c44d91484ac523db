package nn

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/nlpodyssey/safetensors"
)

// SaveOptions controls how weights are written.
type SaveOptions struct {
	// DType of the floating-point tensors: "F32" (default), "F16" (half the size, for shipping
	// browser weights) or "BF16".
	DType string
	// Metadata is stored in the file's __metadata__ (string pairs).
	Metadata map[string]string
}

// view is a safetensors.View (the library's NewTensorView rejects 0-dimensional tensors,
// which PyTorch uses for num_batches_tracked).
type view struct {
	dtype safetensors.DType
	shape []uint64
	data  []byte
}

func (v view) DType() safetensors.DType { return v.dtype }
func (v view) Shape() []uint64          { return v.shape }
func (v view) Data() []byte             { return v.data }
func (v view) DataLen() uint64          { return uint64(len(v.data)) }

// WriteSafetensors writes the network's state dict (parameters, BatchNorm running statistics
// and batch counters) with PyTorch's names, shapes and layouts: loading the file in PyTorch
// with model.load_state_dict(safetensors.torch.load_file(path)) restores the same network.
func (n *Net) WriteSafetensors(w io.Writer, opt SaveOptions) error {
	dt := safetensors.F32
	switch strings.ToUpper(opt.DType) {
	case "", "F32":
	case "F16":
		dt = safetensors.F16
	case "BF16":
		dt = safetensors.BF16
	default:
		return fmt.Errorf("nn: unsupported weight dtype %q (F32, F16 or BF16)", opt.DType)
	}
	views := map[string]view{}
	for _, t := range n.StateDict() {
		shape := make([]uint64, len(t.Shape))
		for i, s := range t.Shape {
			shape[i] = uint64(s)
		}
		switch {
		case t.Count != nil:
			b := binary.LittleEndian.AppendUint64(nil, uint64(*t.Count))
			views[t.Name] = view{dtype: safetensors.I64, shape: shape, data: b}
		case t.Stat != nil:
			views[t.Name] = view{dtype: dt, shape: shape, data: encodeFloats(dt, t.Stat)}
		default:
			v := t.Param.Value().Data().F64()
			views[t.Name] = view{dtype: dt, shape: shape, data: encodeFloats(dt, v)}
		}
	}
	if err := safetensors.SerializeToWriter(views, opt.Metadata, w); err != nil {
		return fmt.Errorf("nn: writing safetensors for %s: %w", n.Name, err)
	}
	return nil
}

// LoadSafetensors replaces the network's parameters and buffers with the tensors of a
// safetensors file written by WriteSafetensors or by PyTorch (a state_dict of the same
// architecture saved with safetensors). F32, F16, BF16 and F64 tensors are accepted. Every
// parameter and statistic must be present with its PyTorch shape (num_batches_tracked may
// be missing); tensors the network does not have are an error, as with strict loading.
func (n *Net) LoadSafetensors(data []byte) error {
	st, err := safetensors.Deserialize(data)
	if err != nil {
		return fmt.Errorf("nn: reading safetensors for %s: %w", n.Name, err)
	}
	known := map[string]bool{}
	for _, t := range n.StateDict() {
		known[t.Name] = true
		tv, ok := st.Tensor(t.Name)
		if !ok {
			if t.Count != nil {
				continue
			}
			return fmt.Errorf("nn: %s: weights file has no tensor %q", n.Name, t.Name)
		}
		shape := make([]int, len(tv.Shape()))
		for i, s := range tv.Shape() {
			shape[i] = int(s)
		}
		if !slices.Equal(shape, t.Shape) {
			return fmt.Errorf("nn: %s: tensor %q has shape %v, the network needs %v", n.Name, t.Name, shape, t.Shape)
		}
		if t.Count != nil {
			if tv.DType() != safetensors.I64 || len(tv.Data()) != 8 {
				return fmt.Errorf("nn: %s: tensor %q must be one int64, is %v", n.Name, t.Name, tv.DType())
			}
			*t.Count = int64(binary.LittleEndian.Uint64(tv.Data()))
			continue
		}
		vals, err := decodeFloats(tv.DType(), tv.Data())
		if err != nil {
			return fmt.Errorf("nn: %s: tensor %q: %w", n.Name, t.Name, err)
		}
		if t.Stat != nil {
			copy(t.Stat, vals)
			continue
		}
		if paramIsF64(t.Param) {
			copy(paramData[float64](t.Param), vals)
		} else {
			dst := paramData[float32](t.Param)
			for i, v := range vals {
				dst[i] = float32(v)
			}
		}
	}
	var extra []string
	for _, name := range st.Names() {
		if !known[name] {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("nn: %s: weights file has tensors the network does not: %s", n.Name, strings.Join(extra, ", "))
	}
	return nil
}

func encodeFloats(dt safetensors.DType, v []float64) []byte {
	switch dt {
	case safetensors.F16:
		b := make([]byte, 0, 2*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, Float32ToHalf(float32(x)))
		}
		return b
	case safetensors.BF16:
		b := make([]byte, 0, 2*len(v))
		for _, x := range v {
			b = binary.LittleEndian.AppendUint16(b, float32ToBF16(float32(x)))
		}
		return b
	}
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(x)))
	}
	return b
}

func decodeFloats(dt safetensors.DType, b []byte) ([]float64, error) {
	var out []float64
	switch dt {
	case safetensors.F32:
		out = make([]float64, len(b)/4)
		for i := range out {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:])))
		}
	case safetensors.F64:
		out = make([]float64, len(b)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case safetensors.F16:
		out = make([]float64, len(b)/2)
		for i := range out {
			out[i] = float64(HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:])))
		}
	case safetensors.BF16:
		out = make([]float64, len(b)/2)
		for i := range out {
			out[i] = float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16))
		}
	default:
		return nil, fmt.Errorf("unsupported dtype %v (need F32, F16, BF16 or F64)", dt)
	}
	return out, nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value to float32.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		if frac == 0 {
			return math.Float32frombits(sign)
		}
		// Subnormal: normalise.
		e := uint32(127 - 15 + 1)
		for frac&0x400 == 0 {
			frac <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Float32ToHalf converts a float32 to IEEE 754 binary16, rounding to nearest even
// (overflow gives ±Inf).
func Float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff {
		if frac != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := frac | 0x800000
		shift := uint32(14 - e)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, which is correct (up to Inf)
	}
	return sign | uint16(h)
}

func float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
