package nn

import "fmt"

// tailSlack is the number of spare elements kept after every buffer an implicit GEMM reads:
// the micro-kernels compute whole NR-wide tiles and may read up to NR-1 elements past the
// last useful one (NR ≤ 64 for every kernel).
const tailSlack = 128

// layout describes how a batch of N C-channel volumes of D×H×W is stored in a flat buffer:
// NCDHW order, each volume surrounded by a zero halo of pd/ph/pw elements before and after
// along each axis. Autograd tensors use halo 0 (dense NCDHW); the inference plan keeps the
// halo its consumer convolution needs, so that no padded copy is made. 2-D data has D = 1.
type layout struct {
	N, C, D, H, W int
	pd, ph, pw    [2]int
}

func denseLayout(n, c, d, h, w int) layout { return layout{N: n, C: c, D: d, H: h, W: w} }

func (l layout) dp() int     { return l.D + l.pd[0] + l.pd[1] }
func (l layout) hp() int     { return l.H + l.ph[0] + l.ph[1] }
func (l layout) wp() int     { return l.W + l.pw[0] + l.pw[1] }
func (l layout) plane() int  { return l.hp() * l.wp() }
func (l layout) chanSz() int { return l.dp() * l.plane() }
func (l layout) sample() int { return l.C * l.chanSz() }

// size is the number of elements a buffer in this layout takes, slack included.
func (l layout) size() int {
	return l.N*l.sample() + tailSlack
}

func (l layout) hasHalo() bool {
	return l.pd != [2]int{} || l.ph != [2]int{} || l.pw != [2]int{}
}

// idx is the position of element (n, c, d, h, w) of the interior.
func (l layout) idx(n, c, d, h, w int) int {
	return n*l.sample() + c*l.chanSz() + (d+l.pd[0])*l.plane() + (h+l.ph[0])*l.wp() + w + l.pw[0]
}

func (l layout) String() string {
	return fmt.Sprintf("%dx%dx%dx%dx%d halo d%v h%v w%v", l.N, l.C, l.D, l.H, l.W, l.pd, l.ph, l.pw)
}

// withHalo returns l with the given halo.
func (l layout) withHalo(pd, ph, pw [2]int) layout {
	l.pd, l.ph, l.pw = pd, ph, pw
	return l
}

// rows calls f for every interior row (n, c, d, h): the W elements at off.
func (l layout) rows(f func(n, c, d, h, off int)) {
	for n := 0; n < l.N; n++ {
		for c := 0; c < l.C; c++ {
			for d := 0; d < l.D; d++ {
				for h := 0; h < l.H; h++ {
					f(n, c, d, h, l.idx(n, c, d, h, 0))
				}
			}
		}
	}
}

// copyInto copies the interior of src (layout sl) into dst (layout dl, same N,C,D,H,W).
func copyInto[T Float](dst []T, dl layout, src []T, sl layout) {
	if dl == sl {
		copy(dst[:dl.N*dl.sample()], src)
		return
	}
	sl.rows(func(n, c, d, h, off int) {
		o := dl.idx(n, c, d, h, 0)
		copy(dst[o:o+dl.W], src[off:off+sl.W])
	})
}

// zeroHalo clears every halo element of buf (the interior is left alone), plus the slack.
func zeroHalo[T Float](buf []T, l layout) {
	if !l.hasHalo() {
		clear(buf[l.N*l.sample() : l.size()])
		return
	}
	wp, dp := l.wp(), l.dp()
	plane := l.plane()
	for n := 0; n < l.N; n++ {
		for c := 0; c < l.C; c++ {
			base := n*l.sample() + c*l.chanSz()
			for d := 0; d < dp; d++ {
				pb := base + d*plane
				if d < l.pd[0] || d >= l.pd[0]+l.D {
					clear(buf[pb : pb+plane])
					continue
				}
				// Top halo rows and the left halo of the first interior row, then between rows
				// the right halo of one and the left halo of the next, then the rest.
				lo := pb + l.ph[0]*wp + l.pw[0]
				clear(buf[pb:lo])
				for h := 0; h+1 < l.H; h++ {
					a := lo + h*wp + l.W
					z := buf[a : a+wp-l.W]
					for i := range z {
						z[i] = 0
					}
				}
				clear(buf[lo+(l.H-1)*wp+l.W : pb+plane])
			}
		}
	}
	clear(buf[l.N*l.sample() : l.size()])
}
