// Command kerngen writes the SIMD micro-kernels of package gemm.
//
// Every kernel has the same contract (see kernFn in package gemm): it computes one MR×NR tile
//
//	c[i*ldc+j] (+)= Σ_{k<kc} a[k*MR+i] · b[off[k]+j]
//
// with A packed (MR values per k), B read through an offset table (packed panels use
// off[k] = k*NR, implicit convolutions use the im2col offsets of the padded input) and the
// accumulators kept in registers for the whole k loop. The generator unrolls the k loop and
// the register tile, which Go source cannot express generically for fixed-size archsimd types.
//
// Run with `go generate ./model/nn/gemm` (the go:generate line is in gemm.go).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"strings"
)

// kernel describes one generated micro-kernel.
type kernel struct {
	name   string // Go function name
	vtype  string // archsimd vector type
	lanes  int    // float32 lanes per vector
	mr, nv int    // register tile: mr rows × nv vectors
	unroll int    // k-loop unroll factor
	load   string // archsimd array-load function
	bcast  string // archsimd broadcast function
	fma    bool   // use MulAdd (fused on amd64); otherwise Mul then Add
	freshB bool   // load B again for every MulAdd (the loaded register becomes the result)
	preA   bool   // A is packed pre-broadcast (lanes copies per value): vector loads, no shuffles
	laneA  bool   // load the MR values of A as one vector and broadcast its lanes (MR == lanes)
}

func (k kernel) arep() int {
	if k.preA {
		return k.lanes
	}
	return 1
}

func (k kernel) nr() int { return k.nv * k.lanes }

func (k kernel) write(w *bytes.Buffer) {
	nr := k.nr()
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("// %s computes np stacked %d×%d tiles (%d×%d %s registers, k unrolled %d×); see kernFn.\n",
		k.name, k.mr, nr, k.mr, k.nv, k.vtype, k.unroll)
	p("func %s(kc, np int, a []float32, as int, b []float32, off []int32, c []float32, ldc int, acc bool) {\n", k.name)
	p("\tif np <= 0 {\n\t\treturn\n\t}\n")
	p("\tif kc <= 0 {\n\t\tif !acc {\n\t\t\tfor q := 0; q < np; q++ {\n\t\t\t\tzeroTile(c[q*%d*ldc:], ldc, %d, %d)\n\t\t\t}\n\t\t}\n\t\treturn\n\t}\n", k.mr, k.mr, nr)
	p("\t_ = a[(np-1)*as+kc*%d-1]\n\t_ = off[kc-1]\n\t_ = c[(np-1)*%d*ldc+%d*ldc+%d-1]\n", k.mr*k.arep(), k.mr, k.mr-1, nr)
	p("\tbp := unsafe.Pointer(unsafe.SliceData(b))\n")
	p("\tfor q := 0; q < np; q++ {\n")
	p("\tap := unsafe.Pointer(&a[q*as])\n")
	p("\top := unsafe.Pointer(unsafe.SliceData(off))\n")
	p("\tcq := c[q*%d*ldc:]\n", k.mr)
	for i := 0; i < k.mr; i++ {
		var names []string
		for j := 0; j < k.nv; j++ {
			names = append(names, fmt.Sprintf("c%d_%d", i, j))
		}
		p("\tvar %s archsimd.%s\n", strings.Join(names, ", "), k.vtype)
	}
	step := func(indent string, q int) {
		p("%s{\n", indent)
		p("%s\tbr := unsafe.Add(bp, uintptr(*(*int32)(unsafe.Add(op, %d)))*4)\n", indent, 4*q)
		bload := func(j int) string {
			return fmt.Sprintf("archsimd.%s((*[%d]float32)(unsafe.Add(br, %d)))", k.load, k.lanes, 4*k.lanes*j)
		}
		if !k.freshB {
			for j := 0; j < k.nv; j++ {
				p("%s\tb%d := %s\n", indent, j, bload(j))
			}
		}
		if k.laneA {
			p("%s\tav := archsimd.%s((*[%d]float32)(unsafe.Add(ap, %d)))\n", indent, k.load, k.lanes, 4*q*k.mr)
		}
		for i := 0; i < k.mr; i++ {
			if k.laneA {
				p("%s\ta%d := archsimd.%s(av.GetElem(%d))\n", indent, i, k.bcast, i)
			} else if k.preA {
				p("%s\ta%d := archsimd.%s((*[%d]float32)(unsafe.Add(ap, %d)))\n", indent, i, k.load, k.lanes, 4*k.lanes*(q*k.mr+i))
			} else {
				p("%s\ta%d := archsimd.%s(*(*float32)(unsafe.Add(ap, %d)))\n", indent, i, k.bcast, 4*(q*k.mr+i))
			}
			for j := 0; j < k.nv; j++ {
				if k.fma && k.freshB {
					p("%s\tc%d_%d = %s.MulAdd(a%d, c%d_%d)\n", indent, i, j, bload(j), i, i, j)
				} else if k.fma {
					p("%s\tc%d_%d = a%d.MulAdd(b%d, c%d_%d)\n", indent, i, j, i, j, i, j)
				} else {
					p("%s\tc%d_%d = c%d_%d.Add(a%d.Mul(b%d))\n", indent, i, j, i, j, i, j)
				}
			}
		}
		p("%s}\n", indent)
	}
	if k.unroll > 1 {
		p("\tn := kc\n")
		// Main loop unrolled k.unroll times, then by 4 (when the main unroll is larger), then 1.
		for _, u := range []int{k.unroll, 4} {
			if u > k.unroll || (u == 4 && k.unroll == 4) {
				continue
			}
			p("\tfor ; n >= %d; n -= %d {\n", u, u)
			for q := 0; q < u; q++ {
				step("\t\t", q)
			}
			p("\t\tap = unsafe.Add(ap, %d)\n\t\top = unsafe.Add(op, %d)\n\t}\n", 4*k.mr*u*k.arep(), 4*u)
		}
		p("\tfor ; n > 0; n-- {\n")
	} else {
		p("\tfor n := kc; n > 0; n-- {\n")
	}
	step("\t\t", 0)
	p("\t\tap = unsafe.Add(ap, %d)\n\t\top = unsafe.Add(op, 4)\n\t}\n", 4*k.mr*k.arep())
	p("\tif acc {\n")
	for i := 0; i < k.mr; i++ {
		p("\t\t{\n\t\t\tr := cq[%d*ldc : %d*ldc+%d]\n", i, i, nr)
		for j := 0; j < k.nv; j++ {
			p("\t\t\tc%d_%d.Add(archsimd.%s((*[%d]float32)(r[%d:%d]))).StoreArray((*[%d]float32)(r[%d:%d]))\n",
				i, j, k.load, k.lanes, j*k.lanes, (j+1)*k.lanes, k.lanes, j*k.lanes, (j+1)*k.lanes)
		}
		p("\t\t}\n")
	}
	p("\t} else {\n")
	for i := 0; i < k.mr; i++ {
		p("\t{\n\t\tr := cq[%d*ldc : %d*ldc+%d]\n", i, i, nr)
		for j := 0; j < k.nv; j++ {
			p("\t\tc%d_%d.StoreArray((*[%d]float32)(r[%d:%d]))\n", i, j, k.lanes, j*k.lanes, (j+1)*k.lanes)
		}
		p("\t}\n")
	}
	p("\t}\n\t}\n}\n\n")
}

func file(name, tags, doc string, ks []kernel, extra string) {
	var w bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by kerngen (model/nn/gemm/internal/kerngen); DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "//go:build %s\n\n", tags)
	fmt.Fprintf(&w, "%s\n", doc)
	w.WriteString("package gemm\n\nimport (\n\t\"simd/archsimd\"\n\t\"unsafe\"\n)\n\n")
	w.WriteString(extra)
	for _, k := range ks {
		k.write(&w)
	}
	src, err := format.Source(w.Bytes())
	if err != nil {
		os.WriteFile(name+".broken", w.Bytes(), 0o644)
		log.Fatalf("%s: %v", name, err)
	}
	if err := os.WriteFile(name, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

func main() {
	wasm := kernel{name: "kernWasm", vtype: "Float32x4", lanes: 4, mr: 4, nv: 3, unroll: 16,
		load: "LoadFloat32x4Array", bcast: "BroadcastFloat32x4"}
	if v := os.Getenv("KG_WASM"); v != "" { // tuning: mr,nv,unroll,preA
		var pre, lane int
		fmt.Sscanf(v, "%d,%d,%d,%d,%d", &wasm.mr, &wasm.nv, &wasm.unroll, &pre, &lane)
		wasm.preA = pre != 0
		wasm.laneA = lane != 0
	}
	file("kern_wasm_simd.go", "goexperiment.simd && wasm",
		"// WebAssembly SIMD128 micro-kernel (4 float32 lanes; wasm has no fused multiply-add, so Mul then Add).",
		[]kernel{wasm}, fmt.Sprintf(`func init() {
	f32Kernel = kernelInfo{name: "wasm-simd128 %dx%d", mr: %d, nr: %d, arep: %d, fn: kernWasm, simd: true}
}

`, wasm.mr, wasm.nr(), wasm.mr, wasm.nr(), wasm.arep()))
	avx512 := kernel{name: "kernAVX512", vtype: "Float32x16", lanes: 16, mr: 4, nv: 4, unroll: 1, freshB: true,
		load: "LoadFloat32x16Array", bcast: "BroadcastFloat32x16", fma: true}
	avx2 := kernel{name: "kernAVX2", vtype: "Float32x8", lanes: 8, mr: 4, nv: 2, unroll: 1, freshB: true,
		load: "LoadFloat32x8Array", bcast: "BroadcastFloat32x8", fma: true}
	if v := os.Getenv("KG_AVX512"); v != "" { // tuning: mr,nv,unroll,freshB
		var fresh, pre int
		fmt.Sscanf(v, "%d,%d,%d,%d,%d", &avx512.mr, &avx512.nv, &avx512.unroll, &fresh, &pre)
		avx512.freshB = fresh != 0
		avx512.preA = pre != 0
	}
	file("kern_amd64_simd.go", "goexperiment.simd && amd64",
		"// AVX-512 and AVX2+FMA micro-kernels, chosen at start-up from the CPU's features.",
		[]kernel{avx512, avx2}, fmt.Sprintf(`func init() {
	switch {
	case archsimd.X86.AVX512():
		f32Kernel = kernelInfo{name: "avx512 %dx%d", mr: %d, nr: %d, arep: %d, fn: kernAVX512, simd: true}
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		f32Kernel = kernelInfo{name: "avx2-fma %dx%d", mr: %d, nr: %d, arep: 1, fn: kernAVX2, simd: true}
	}
}

func avx2Kernel() kernelInfo {
	return kernelInfo{name: "avx2-fma %dx%d", mr: %d, nr: %d, arep: 1, fn: kernAVX2, simd: true}
}

`, avx512.mr, avx512.nr(), avx512.mr, avx512.nr(), avx512.arep(), avx2.mr, avx2.nr(), avx2.mr, avx2.nr(), avx2.mr, avx2.nr(), avx2.mr, avx2.nr()))
}
