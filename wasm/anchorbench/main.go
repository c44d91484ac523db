//go:build js && wasm

// Command anchorbench exposes the CNN engine (model/nn) to the anchor-bench harness
// (../shared/tools/anchor-bench) through its small `anchorBench` contract, so that the engine
// is timed in headless Chromium on the same page as TensorFlow.js and onnxruntime-web:
//
//	info()        → engine description
//	prepare(spec) → builds the workload (an nn.Net compiled to an nn.Plan, or a GEMM)
//	run(id)       → one forward pass
//	output(id)    → float32 output bytes in NCHW order
//
// Build it with ./build.sh anchor (GOOS=js GOARCH=wasm GOEXPERIMENT=simd) and run the harness
// with ANCHOR_BENCH_EXT pointing at the output folder.
package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"syscall/js"

	"github.com/nlpodyssey/spago/mat"
	spagonn "github.com/nlpodyssey/spago/nn"

	"sscscore/model/nn"
	"sscscore/model/nn/gemm"
)

// workload is a prepared anchor workload.
type workload struct {
	run    func() error
	output []float32
}

var workloads = map[string]*workload{}

func main() {
	api := js.Global().Get("Object").New()
	api.Set("info", js.FuncOf(func(js.Value, []js.Value) any {
		k := gemm.Kernel()
		return map[string]any{
			"name": "sscscore model/nn", "version": runtime.Version(), "kernel": k.Name,
			"simd": k.SIMD, "threads": gemm.Threads(),
		}
	}))
	api.Set("prepare", js.FuncOf(func(_ js.Value, args []js.Value) any {
		id, err := prepare(args[0])
		if err != nil {
			return fmt.Sprintf("prepare %s: %v", id, err)
		}
		return js.Undefined()
	}))
	api.Set("run", js.FuncOf(func(_ js.Value, args []js.Value) any {
		w := workloads[args[0].String()]
		if w == nil {
			return "unknown workload " + args[0].String()
		}
		if err := w.run(); err != nil {
			return err.Error()
		}
		return js.Undefined()
	}))
	api.Set("output", js.FuncOf(func(_ js.Value, args []js.Value) any {
		w := workloads[args[0].String()]
		if w == nil {
			return js.Null()
		}
		b := make([]byte, 4*len(w.output))
		for i, v := range w.output {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		u := js.Global().Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(u, b)
		return u
	}))
	js.Global().Set("anchorBench", api)
	select {}
}

// tensor reads {shape, bytes} into a shape and float32 values.
func tensor(v js.Value) ([]int, []float32) {
	if v.IsUndefined() || v.IsNull() {
		return nil, nil
	}
	sh := v.Get("shape")
	shape := make([]int, sh.Length())
	for i := range shape {
		shape[i] = sh.Index(i).Int()
	}
	u := v.Get("bytes")
	b := make([]byte, u.Length())
	js.CopyBytesToGo(b, u)
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return shape, f
}

func ints(v js.Value) []int {
	if v.IsUndefined() || v.IsNull() {
		return nil
	}
	out := make([]int, v.Length())
	for i := range out {
		out[i] = v.Index(i).Int()
	}
	return out
}

func param(rows, cols int, data []float32) *spagonn.Param {
	return spagonn.NewParam(mat.NewDense[float32](mat.WithShape(rows, cols), mat.WithBacking(data)))
}

func prepare(spec js.Value) (string, error) {
	id := spec.Get("id").String()
	inShape, input := tensor(spec.Get("input"))
	layers := spec.Get("layers")
	w := &workload{}
	if layers.Length() == 1 && layers.Index(0).Get("op").String() == "matmul" {
		// C = A·B with A the input (m×k) and B the weight (k×n).
		wsh, b := tensor(layers.Index(0).Get("weight"))
		m, k, n := inShape[0], inShape[1], wsh[1]
		w.output = make([]float32, m*n)
		w.run = func() error {
			gemm.Gemm(false, false, m, n, k, input, k, b, n, 0, w.output, n)
			return nil
		}
		workloads[id] = w
		return id, w.run()
	}
	net, err := buildNet(id, inShape, layers)
	if err != nil {
		return id, err
	}
	plan, err := nn.Compile(net, 1, nn.CompileOptions{})
	if err != nil {
		return id, err
	}
	w.run = func() error {
		out, err := plan.Run(input)
		w.output = out
		return err
	}
	workloads[id] = w
	return id, w.run()
}

// buildNet turns the workload's layer list (ONNX layouts) into an nn.Net.
func buildNet(id string, inShape []int, layers js.Value) (*nn.Net, error) {
	net := &nn.Net{Name: id, Input: nn.Shape(inShape[1:])}
	shape := nn.Shape(append([]int(nil), inShape...))
	for i := 0; i < layers.Length(); i++ {
		l := layers.Index(i)
		var mods []nn.Layer
		switch op := l.Get("op").String(); op {
		case "conv":
			wsh, wd := tensor(l.Get("weight"))
			_, bd := tensor(l.Get("bias"))
			dims := len(shape) - 2
			k, s := [3]int{1, 1, 1}, [3]int{1, 1, 1}
			var p [3][2]int
			pads := ints(l.Get("pads"))
			for a := 0; a < dims; a++ {
				k[3-dims+a] = wsh[2+a]
				s[3-dims+a] = l.Get("stride").Int()
				p[3-dims+a] = [2]int{pads[a], pads[dims+a]}
			}
			c := &nn.Conv{Name: fmt.Sprintf("conv%d", i), Dims: dims, In: wsh[1], Out: wsh[0], Kernel: k, Stride: s, Pad: p,
				W: param(wsh[0], len(wd)/wsh[0], wd)}
			if bd != nil {
				c.B = param(len(bd), 1, bd)
			}
			mods = append(mods, c)
			if l.Get("relu").Truthy() {
				mods = append(mods, &nn.Activation{Kind: nn.ActReLU})
			}
		case "maxpool":
			mods = append(mods, &nn.Pool{Max: true, Kernel: [3]int{1, 2, 2}, Stride: [3]int{1, 2, 2}})
		case "gap":
			mods = append(mods, &nn.AdaptivePool{Out: [3]int{1, 1, 1}}, &nn.Reshape{})
		case "dense":
			wsh, wd := tensor(l.Get("weight"))
			_, bd := tensor(l.Get("bias"))
			d := &nn.Linear{Name: fmt.Sprintf("dense%d", i), In: wsh[1], Out: wsh[0], W: param(wsh[0], wsh[1], wd)}
			if bd != nil {
				d.B = param(len(bd), 1, bd)
			}
			mods = append(mods, d)
		default:
			return nil, fmt.Errorf("layer %d: unsupported op %q", i, op)
		}
		for _, m := range mods {
			next, err := m.OutShape(shape)
			if err != nil {
				return nil, fmt.Errorf("layer %d: %w", i, err)
			}
			shape = next
			net.Layers = append(net.Layers, m)
		}
	}
	return net, nil
}
