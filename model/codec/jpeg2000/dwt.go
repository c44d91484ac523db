package jpeg2000

// Inverse discrete wavelet transforms (ISO/IEC 15444-1 Annex F): the
// reversible 5/3 integer lifting and the irreversible 9/7 lifting, applied
// resolution by resolution, rows first then columns (2D_SR), with the
// parity of each resolution's first sample (tile and image offsets) and
// whole-sample symmetric extension at both ends.
//
// The tile-component buffer holds, for resolution r, its low band of
// resolution r-1 in the top-left corner and the HL, LH and HH bands to its
// right, below, and diagonally, which is what one level of synthesis reads.

// 9/7 lifting constants (Table F.4). The irreversible path works in
// float32; every product is rounded to float32 before it is added, so the
// decoded samples are identical on all platforms.
const (
	alpha97 = -1.586134342059924
	beta97  = -0.052980118572961
	gamma97 = 0.882911075530934
	delta97 = 0.443506852043971
	kappa97 = 1.230174104914001
)

// colBatch is the number of columns transformed together, for cache
// locality of the vertical pass.
const colBatch = 8

// idwt53 runs the inverse 5/3 transform of a tile-component in place.
func idwt53(buf []int32, stride int, res []resolution, tmp []int32) []int32 {
	for r := 1; r < len(res); r++ {
		cur, prev := &res[r], &res[r-1]
		rw, rh := cur.x1-cur.x0, cur.y1-cur.y0
		if rw == 0 || rh == 0 {
			continue
		}
		snH, casH := prev.x1-prev.x0, cur.x0&1
		snV, casV := prev.y1-prev.y0, cur.y0&1
		if n := max(rw, rh) * colBatch; cap(tmp) < n {
			tmp = make([]int32, n)
		}
		// Rows.
		t := tmp[:rw]
		for y := 0; y < rh; y++ {
			row := buf[y*stride : y*stride+rw]
			interleave(t, row, snH, casH)
			lift53(t, casH)
			copy(row, t)
		}
		// Columns, colBatch at a time.
		for x0 := 0; x0 < rw; x0 += colBatch {
			nc := min(colBatch, rw-x0)
			t := tmp[:rh*colBatch]
			// Gather with interleaving: sample k of the column goes to row
			// (low k -> cas+2k, high k -> 1-cas+2k) of t.
			for k := 0; k < rh; k++ {
				var dst int
				if k < snV {
					dst = casV + 2*k
				} else {
					dst = 1 - casV + 2*(k-snV)
				}
				copy(t[dst*colBatch:dst*colBatch+nc], buf[k*stride+x0:k*stride+x0+nc])
			}
			lift53Cols(t, rh, casV)
			for k := 0; k < rh; k++ {
				copy(buf[k*stride+x0:k*stride+x0+nc], t[k*colBatch:k*colBatch+nc])
			}
		}
	}
	return tmp
}

// interleave places the sn low samples and the high samples of src into dst
// at their positions for a signal starting at parity cas.
func interleave[T int32 | float32](dst, src []T, sn, cas int) {
	n := len(dst)
	lo := src[:sn]
	hi := src[sn:n]
	for k, v := range lo {
		dst[cas+2*k] = v
	}
	for k, v := range hi {
		dst[1-cas+2*k] = v
	}
}

// lift53 is 1D_FILTR_5-3R (F.3.8.1) on an interleaved signal.
func lift53(x []int32, cas int) {
	n := len(x)
	if n == 1 {
		if cas == 1 {
			x[0] /= 2
		}
		return
	}
	// Step 1: low samples (positions of parity cas).
	k := cas
	if k == 0 {
		x[0] -= (x[1] + x[1] + 2) >> 2
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] -= (x[k-1] + x[k+1] + 2) >> 2
	}
	if k < n { // last sample is low: mirror
		x[k] -= (x[k-1] + x[k-1] + 2) >> 2
	}
	// Step 2: high samples.
	k = 1 - cas
	if k == 0 {
		x[0] += (x[1] + x[1]) >> 1
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] += (x[k-1] + x[k+1]) >> 1
	}
	if k < n {
		x[k] += (x[k-1] + x[k-1]) >> 1
	}
}

// lift53Cols runs lift53 on colBatch interleaved columns of n samples
// (t[k*colBatch+j] is sample k of column j).
func lift53Cols(t []int32, n, cas int) {
	const B = colBatch
	if n == 1 {
		if cas == 1 {
			for j := 0; j < B; j++ {
				t[j] /= 2
			}
		}
		return
	}
	row := func(k int) []int32 { return t[k*B : k*B+B : k*B+B] }
	step := func(k, kl, kr int, low bool) {
		x, l, r := row(k), row(kl), row(kr)
		if low {
			for j := 0; j < B; j++ {
				x[j] -= (l[j] + r[j] + 2) >> 2
			}
		} else {
			for j := 0; j < B; j++ {
				x[j] += (l[j] + r[j]) >> 1
			}
		}
	}
	for pass := 0; pass < 2; pass++ {
		low := pass == 0
		k := cas
		if !low {
			k = 1 - cas
		}
		for ; k < n; k += 2 {
			kl, kr := k-1, k+1
			if kl < 0 {
				kl = kr
			}
			if kr >= n {
				kr = kl
			}
			step(k, kl, kr, low)
		}
	}
}

// idwt97 runs the inverse 9/7 transform of a tile-component in place.
func idwt97(buf []float32, stride int, res []resolution, tmp []float32) []float32 {
	for r := 1; r < len(res); r++ {
		cur, prev := &res[r], &res[r-1]
		rw, rh := cur.x1-cur.x0, cur.y1-cur.y0
		if rw == 0 || rh == 0 {
			continue
		}
		snH, casH := prev.x1-prev.x0, cur.x0&1
		snV, casV := prev.y1-prev.y0, cur.y0&1
		if n := max(rw, rh) * colBatch; cap(tmp) < n {
			tmp = make([]float32, n)
		}
		t := tmp[:rw]
		for y := 0; y < rh; y++ {
			row := buf[y*stride : y*stride+rw]
			interleave(t, row, snH, casH)
			lift97(t, casH)
			copy(row, t)
		}
		for x0 := 0; x0 < rw; x0 += colBatch {
			nc := min(colBatch, rw-x0)
			t := tmp[:rh*colBatch]
			for k := 0; k < rh; k++ {
				var dst int
				if k < snV {
					dst = casV + 2*k
				} else {
					dst = 1 - casV + 2*(k-snV)
				}
				copy(t[dst*colBatch:dst*colBatch+nc], buf[k*stride+x0:k*stride+x0+nc])
			}
			lift97Cols(t, rh, casV)
			for k := 0; k < rh; k++ {
				copy(buf[k*stride+x0:k*stride+x0+nc], t[k*colBatch:k*colBatch+nc])
			}
		}
	}
	return tmp
}

// lift97 is 1D_FILTR_9-7I (F.3.8.2) on an interleaved signal.
func lift97(x []float32, cas int) {
	n := len(x)
	if n == 1 {
		if cas == 1 {
			x[0] /= 2
		}
		return
	}
	for k := cas; k < n; k += 2 {
		x[k] *= kappa97
	}
	for k := 1 - cas; k < n; k += 2 {
		x[k] *= 1 / kappa97
	}
	liftStep97(x, cas, -delta97)
	liftStep97(x, 1-cas, -gamma97)
	liftStep97(x, cas, -beta97)
	liftStep97(x, 1-cas, -alpha97)
}

// liftStep97 adds c times the sum of the two neighbours to every sample of
// parity start, mirroring at the ends. The float32 conversion of each
// product forbids fused multiply-adds, so that results are the same on
// every architecture (the Go spec allows fusing x*y+z otherwise).
func liftStep97(x []float32, start int, c float32) {
	n := len(x)
	k := start
	if k == 0 {
		x[0] += float32(c * (x[1] + x[1]))
		k = 2
	}
	for ; k+1 < n; k += 2 {
		x[k] += float32(c * (x[k-1] + x[k+1]))
	}
	if k < n {
		x[k] += float32(c * (x[k-1] + x[k-1]))
	}
}

// lift97Cols runs lift97 on colBatch interleaved columns.
func lift97Cols(t []float32, n, cas int) {
	const B = colBatch
	if n == 1 {
		if cas == 1 {
			for j := 0; j < B; j++ {
				t[j] /= 2
			}
		}
		return
	}
	row := func(k int) []float32 { return t[k*B : k*B+B : k*B+B] }
	for k := 0; k < n; k++ {
		x := row(k)
		s := float32(1 / kappa97)
		if k&1 == cas {
			s = kappa97
		}
		for j := 0; j < B; j++ {
			x[j] *= s
		}
	}
	steps := [4]struct {
		start int
		c     float32
	}{{cas, -delta97}, {1 - cas, -gamma97}, {cas, -beta97}, {1 - cas, -alpha97}}
	for _, st := range steps {
		for k := st.start; k < n; k += 2 {
			kl, kr := k-1, k+1
			if kl < 0 {
				kl = kr
			}
			if kr >= n {
				kr = kl
			}
			x, l, r := row(k), row(kl), row(kr)
			c := st.c
			for j := 0; j < B; j++ {
				x[j] += float32(c * (l[j] + r[j])) // no FMA: see liftStep97
			}
		}
	}
}
