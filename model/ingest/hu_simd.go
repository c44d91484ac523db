//go:build goexperiment.simd && wasm

package ingest

// The vector kernel is used in js/wasm only (wasm SIMD128): on amd64 with
// Go 1.27.3 it measured 3 to 10 times slower than the scalar loops (the
// compiler re-materialises the shift count with a legacy-SSE MOVQ inside
// the AVX loop), so native builds keep the scalar twin.

import "simd"

// le16ToHUVec converts the longest vector-multiple prefix of u (16-bit
// stored values) to HU in dst with int16 vector arithmetic, and returns how
// many values it converted and the counts. The caller has checked that
// every intermediate fits int16: unsigned values have at most 15 bits
// stored, ic and the padding bounds are int16. Sums saturate, so clipped
// counts values at or above 32767, as the scalar loops do.
func le16ToHUVec(u []uint16, dst []int16, p le16Params) (done int, c huCounts) {
	lanes := simd.Int16s{}.Len()
	n := len(u) / lanes * lanes
	if n == 0 {
		return 0, c
	}
	dst = dst[:len(u)]
	maskV := simd.BroadcastUint16s(p.mask)
	icV := simd.BroadcastInt16s(p.ic)
	airV := simd.BroadcastInt16s(-1024)
	topV := simd.BroadcastInt16s(32767)
	loV := simd.BroadcastInt16s(p.padLo)
	hiV := simd.BroadcastInt16s(p.padHi)
	shift := uint64(p.shift)
	var accBelow, accClip, accPad simd.Int16s
	const block = 16384 // iterations before an int16 lane counter could overflow
	it := 0
	for i := 0; i < n; i += lanes {
		v := simd.LoadUint16s(u[i:])
		var s simd.Int16s
		if p.signed {
			s = v.BitsToInt16().ShiftAllLeft(shift).ShiftAllRight(shift)
		} else {
			s = v.And(maskV).BitsToInt16()
		}
		h := s.AddSaturated(icV)
		below := h.Less(airV).ToInt16s()
		clip := h.Equal(topV).ToInt16s()
		h = h.Max(airV)
		if p.hasPad {
			pad := s.GreaterEqual(loV).And(s.LessEqual(hiV))
			padI := pad.ToInt16s()
			below = below.And(padI.Not())
			clip = clip.And(padI.Not())
			accPad = accPad.Add(padI)
			h = airV.IfElse(pad, h)
		}
		accBelow = accBelow.Add(below)
		accClip = accClip.Add(clip)
		h.Store(dst[i:])
		if it++; it == block {
			c.add(huCounts{belowAir: negSum(accBelow), clipped: negSum(accClip), padding: negSum(accPad)})
			accBelow, accClip, accPad = simd.Int16s{}, simd.Int16s{}, simd.Int16s{}
			it = 0
		}
	}
	c.add(huCounts{belowAir: negSum(accBelow), clipped: negSum(accClip), padding: negSum(accPad)})
	return n, c
}

// negSum returns minus the sum of the lanes of v (counters that added -1
// per counted lane).
func negSum(v simd.Int16s) int64 {
	var lane [64]int16
	n := v.Len()
	v.Store(lane[:n])
	var sum int64
	for _, x := range lane[:n] {
		sum -= int64(x)
	}
	return sum
}
