package vec

func maxPool2(dst, r0, r1 []float32) {
	r0 = r0[:2*len(dst)]
	r1 = r1[:2*len(dst)]
	for i := range dst {
		m := r0[2*i]
		if v := r0[2*i+1]; v > m {
			m = v
		}
		if v := r1[2*i]; v > m {
			m = v
		}
		if v := r1[2*i+1]; v > m {
			m = v
		}
		dst[i] = m
	}
}

func maxWin3S2(dst, src []float32) {
	src = src[:2*len(dst)+1]
	for i := range dst {
		m := src[2*i]
		if v := src[2*i+1]; v > m {
			m = v
		}
		if v := src[2*i+2]; v > m {
			m = v
		}
		dst[i] = m
	}
}

// MaxWin3S2 sets dst[i] to the maximum of src[2i], src[2i+1], src[2i+2] (a 3-wide, stride-2
// max-pooling window along a row).
func MaxWin3S2(dst, src []float32) { maxWin3S2Fast(dst, src) }
