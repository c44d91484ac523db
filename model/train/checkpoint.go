package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/optimizers/adam"

	"sscscore/model/cascade"
	"sscscore/model/nn"
	"sscscore/model/nn/spec"
)

// State is the resumable state of a training run (besides the weights).
type State struct {
	Kind     string    `json:"kind"` // "levels" or "scores"
	Step     int       `json:"step"`
	Seed     uint64    `json:"seed"`
	BestStep int       `json:"best_step"`
	BestVal  float64   `json:"best_val"`
	Elapsed  float64   `json:"elapsed_s"` // wall-clock seconds of training so far
	Train    []Point   `json:"train"`     // smoothed training loss
	Val      []Point   `json:"val"`       // validation metric
	ValParts []Point3  `json:"val_parts,omitempty"`
	Config   RunConfig `json:"config"`
}

// Point is one value of a curve.
type Point struct {
	Step  int     `json:"step"`
	Value float64 `json:"value"`
}

// Point3 is a triple of values (TOT, GG, RET MAE).
type Point3 struct {
	Step  int        `json:"step"`
	Value [3]float64 `json:"value"`
}

// writeFileAtomic writes data to path through a temporary file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// saveNet writes the network's weights (F32, exact) to path.
func saveNet(net *nn.Net, path string, meta map[string]string) error {
	var b bytes.Buffer
	if err := net.WriteSafetensors(&b, nn.SaveOptions{Metadata: meta}); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes())
}

// loadNet reads weights into net.
func loadNet(net *nn.Net, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return net.LoadSafetensors(b)
}

// adamStateNet is a view of the optimiser's moments as a network state
// dict, so that they are saved in safetensors beside the weights.
func saveAdam(net *nn.Net, opt *nn.Adam, path string) error {
	views := map[string][]float32{}
	var names []string
	for _, t := range net.StateDict() {
		if t.Param == nil {
			continue
		}
		st, ok := t.Param.State.(*adam.State)
		if !ok {
			continue
		}
		views[t.Name+".adam_v"] = mat.Data[float32](st.V)
		views[t.Name+".adam_m"] = mat.Data[float32](st.M)
		names = append(names, t.Name)
	}
	sort.Strings(names)
	type entry struct {
		Name string `json:"name"`
		Off  int    `json:"off"`
		N    int    `json:"n"`
	}
	var idx []entry
	var data []float32
	keys := make([]string, 0, len(views))
	for k := range views {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		idx = append(idx, entry{Name: k, Off: len(data), N: len(views[k])})
		data = append(data, views[k]...)
	}
	hdr, _ := json.Marshal(struct {
		TimeStep int     `json:"time_step"`
		Entries  []entry `json:"entries"`
	}{opt.TimeStep, idx})
	var b bytes.Buffer
	b.WriteString(fmt.Sprintf("%d\n", len(hdr)))
	b.Write(hdr)
	for _, v := range data {
		var u [4]byte
		bits := math.Float32bits(v)
		u[0], u[1], u[2], u[3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
		b.Write(u[:])
	}
	return writeFileAtomic(path, b.Bytes())
}

// loadAdam restores the optimiser's moments saved by saveAdam.
func loadAdam(net *nn.Net, opt *nn.Adam, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return fmt.Errorf("train: bad optimiser state %s", path)
	}
	var hl int
	fmt.Sscanf(string(b[:nl]), "%d", &hl)
	if nl+1+hl > len(b) {
		return fmt.Errorf("train: bad optimiser state %s", path)
	}
	var hdr struct {
		TimeStep int `json:"time_step"`
		Entries  []struct {
			Name string `json:"name"`
			Off  int    `json:"off"`
			N    int    `json:"n"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(b[nl+1:nl+1+hl], &hdr); err != nil {
		return err
	}
	data := b[nl+1+hl:]
	get := map[string][]float32{}
	for _, e := range hdr.Entries {
		if 4*(e.Off+e.N) > len(data) {
			return fmt.Errorf("train: truncated optimiser state %s", path)
		}
		v := make([]float32, e.N)
		for i := range v {
			o := 4 * (e.Off + i)
			v[i] = math.Float32frombits(uint32(data[o]) | uint32(data[o+1])<<8 | uint32(data[o+2])<<16 | uint32(data[o+3])<<24)
		}
		get[e.Name] = v
	}
	for _, t := range net.StateDict() {
		if t.Param == nil {
			continue
		}
		v, okv := get[t.Name+".adam_v"]
		m, okm := get[t.Name+".adam_m"]
		if !okv || !okm {
			continue
		}
		shape := t.Param.Value().Shape()
		st := &adam.State{
			V:    mat.NewDense[float32](mat.WithShape(shape...), mat.WithBacking(v)),
			M:    mat.NewDense[float32](mat.WithShape(shape...), mat.WithBacking(m)),
			Buf1: mat.NewDense[float32](mat.WithShape(shape...)),
			Buf2: mat.NewDense[float32](mat.WithShape(shape...)),
			Buf3: mat.NewDense[float32](mat.WithShape(shape...)),
		}
		t.Param.State = st
	}
	opt.TimeStep = hdr.TimeStep
	return nil
}

// Export writes a trained network for shipping into dir: <name>.json (its
// spec) and <name>.safetensors (float16-stored weights with metadata),
// and rewrites dir/SHA256SUMS with the checksums of every .json and
// .safetensors file in dir. It returns the weights' SHA-256.
func Export(net *nn.Net, s spec.Spec, dir, name string, meta map[string]string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := net.WriteSafetensors(&b, nn.SaveOptions{DType: "F16", Metadata: meta}); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(dir, name+".safetensors"), b.Bytes()); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(dir, name+".json"), append(s.JSON(), '\n')); err != nil {
		return "", err
	}
	if err := WriteSums(dir); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// WriteSums writes dir/SHA256SUMS (sha256sum format) for the .json and
// .safetensors files in dir and its MODEL_CARD.md.
func WriteSums(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var lines []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, ".json") || strings.HasSuffix(n, ".safetensors") || n == cascade.ModelCardFile) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		lines = append(lines, hex.EncodeToString(sum[:])+"  "+n)
	}
	sort.Strings(lines)
	return writeFileAtomic(filepath.Join(dir, "SHA256SUMS"), []byte(strings.Join(lines, "\n")+"\n"))
}
