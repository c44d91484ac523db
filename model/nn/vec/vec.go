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
