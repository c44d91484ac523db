package phantom

import (
	"math"

	"sscscore/model/internal/scalar"
)

// gaussKernel returns a normalised 1D Gaussian of standard deviation s
// (pixels).
func gaussKernel(s float64) []float32 {
	if s < 0.05 {
		return []float32{1}
	}
	rad := int(math.Ceil(3 * s))
	k := make([]float32, 2*rad+1)
	var sum float64
	for i := -rad; i <= rad; i++ {
		v := math.Exp(-float64(i*i) / (2 * s * s))
		k[i+rad] = float32(v)
		sum += v
	}
	for i := range k {
		k[i] = float32(float64(k[i]) / sum)
	}
	return k
}

// blur2 convolves src (nx x ny) separably with kx along x and ky along y
// into dst, using tmp as scratch. Edges are clamped.
func blur2(dst, src, tmp []float32, nx, ny int, kx, ky []float32) {
	rx := len(kx) / 2
	for j := 0; j < ny; j++ {
		row := src[j*nx : (j+1)*nx]
		out := tmp[j*nx : (j+1)*nx]
		for i := 0; i < nx; i++ {
			var s float32
			if i >= rx && i < nx-rx {
				base := row[i-rx : i+rx+1]
				for t, w := range kx {
					s += w * base[t]
				}
			} else {
				for t, w := range kx {
					ii := min(max(i+t-rx, 0), nx-1)
					s += w * row[ii]
				}
			}
			out[i] = s
		}
	}
	ry := len(ky) / 2
	for j := 0; j < ny; j++ {
		out := dst[j*nx : (j+1)*nx]
		for i := range out {
			out[i] = 0
		}
		for t, w := range ky {
			jj := min(max(j+t-ry, 0), ny-1)
			in := tmp[jj*nx : (jj+1)*nx]
			for i := range out {
				out[i] += w * in[i]
			}
		}
	}
}

// kernelNorm returns the sum of squared weights of a 1D kernel: filtering
// unit white noise with k along both axes leaves a standard deviation of
// kernelNorm(k).
func kernelNorm(k []float32) float64 {
	var s float64
	for _, w := range k {
		s += float64(w) * float64(w)
	}
	return s
}

// whiteNoise fills dst with approximately Gaussian unit-variance noise
// from a counter-based generator seeded by seed.
func whiteNoise(dst []float32, seed uint64) {
	// The sum of four uniforms on [0, 65535] has mean 2*65535 and standard
	// deviation 65536/sqrt(3).
	const scale = 1.7320508075688772 / 65536
	for i := range dst {
		h := scalar.Hash64(seed + uint64(i)*0x9e3779b97f4a7c15)
		s := float64(h&0xffff) + float64(h>>16&0xffff) + float64(h>>32&0xffff) + float64(h>>48)
		dst[i] = float32((s - 2*65535) * scale)
	}
}

// scannerKernel returns the 1D kernel (1+g) G(s) - g G(sqrt(s² + 1.3²))
// of a reconstruction kernel with blur s pixels and edge gain g.
func scannerKernel(s, g float64) []float32 {
	if s < 0.2 && g <= 0 {
		return []float32{1}
	}
	s = math.Max(s, 0.2)
	a := gaussKernel(s)
	if g <= 0 {
		return a
	}
	b := gaussKernel(math.Hypot(s, 1.3))
	k := make([]float32, len(b))
	off := (len(b) - len(a)) / 2
	for i := range b {
		k[i] = -float32(g) * b[i]
	}
	for i, v := range a {
		k[i+off] += float32(1+g) * v
	}
	return k
}

// noiseTile returns an nx x ny field of periodic, spatially correlated
// (Gaussian, sigma s pixels) noise of unit standard deviation.
func noiseTile(nx, ny int, s float64, seed uint64) []float32 {
	w := make([]float32, nx*ny)
	whiteNoise(w, seed)
	k := gaussKernel(s)
	rad := len(k) / 2
	tmp := make([]float32, nx*ny)
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			var v float32
			for t, c := range k {
				v += c * w[j*nx+((i+t-rad)%nx+nx)%nx]
			}
			tmp[j*nx+i] = v
		}
	}
	for j := 0; j < ny; j++ {
		for i := 0; i < nx; i++ {
			var v float32
			for t, c := range k {
				v += c * tmp[((j+t-rad)%ny+ny)%ny*nx+i]
			}
			w[j*nx+i] = v
		}
	}
	norm := float32(1 / kernelNorm(k))
	for i := range w {
		w[i] *= norm
	}
	return w
}

// applyScanner applies the point spread function, edge enhancement and
// noise of the scanner to r.acc for the slab at z, in place. full is true
// when the grid is the scanner's own resolution.
func (r *renderer) applyScanner(z float64, full bool) {
	p := r.p
	s := &p.Scanner
	g := r.g
	nx, ny := g.Nx, g.Ny
	img := r.acc
	// Noise grows where the body is wider (shoulders, arms).
	bw := r.an.bodySect(z).a / p.Anatomy.BodyW
	sd := s.NoiseSD * math.Pow(scalar.Clamp(bw, 0.6, 1.5), 1.5)
	if full {
		// Point spread function with the sharp kernels' edge enhancement:
		// (1+g) G(psf) - g G(psf (+) 1.3 px), one separable pass.
		if r.kx == nil {
			r.kx = scannerKernel(s.PSF/g.DX, s.EdgeGain)
			r.ky = scannerKernel(s.PSF/g.DY, s.EdgeGain)
		}
		if len(r.kx) > 1 || len(r.ky) > 1 {
			blur2(img, img, r.tmp, nx, ny, r.kx, r.ky)
		}
		// Correlated noise: a periodic tile made once per renderer, read
		// at a random offset and orientation for each slice.
		if r.noise == nil {
			r.noise = noiseTile(nx, ny, s.NoiseCorr, scalar.Hash64(p.noiseSeed()^0x4015e))
		}
		h := scalar.Hash64(p.noiseSeed() ^ math.Float64bits(z))
		ox, oy := int(h%uint64(nx)), int((h>>20)%uint64(ny))
		sign := float32(sd)
		if h>>40&1 == 1 {
			sign = -sign
		}
		flip := h>>41&1 == 1
		for j := 0; j < ny; j++ {
			row := img[j*nx : (j+1)*nx]
			src := r.noise[((j+oy)%ny)*nx : ((j+oy)%ny+1)*nx]
			if flip {
				for i := range row {
					row[i] += sign * src[(nx-1-i+ox)%nx]
				}
			} else {
				for i := range row {
					row[i] += sign * src[(i+ox)%nx]
				}
			}
		}
		return
	}
	// Coarse grid: the noise left after averaging the scanner's correlated
	// noise over the larger voxel.
	corrArea := 4 * math.Pi * sq(s.NoiseCorr*s.PixelSpacing)
	f := math.Sqrt(corrArea / (g.DX * g.DY))
	if g.Thickness > s.SliceSpacing {
		f *= math.Sqrt(s.SliceSpacing / g.Thickness)
	}
	sd *= math.Min(1, f)
	whiteNoise(r.tmp2, scalar.Hash64(p.noiseSeed()^math.Float64bits(z)^0xc0a75e))
	for i := range img {
		img[i] += float32(sd) * r.tmp2[i]
	}
}
