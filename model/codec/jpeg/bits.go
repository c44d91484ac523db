package jpeg

import "sscscore/model/codec/internal/bits"

// bitReader reads the entropy-coded segment of a scan (bits.Reader with
// T.81's zero byte stuffing).
type bitReader struct{ bits.Reader }

func newBitReader(data []byte, pos int) *bitReader {
	return &bitReader{bits.Reader{Data: data, Pos: pos, Stuffing: bits.ZeroByte}}
}

// restart skips the RSTm marker that ends a restart interval and resets the
// reader. It reports false when no RST marker is there.
func (br *bitReader) restart() bool {
	br.Reset(br.Pos)
	d := br.Data
	for br.Pos+1 < len(d) && d[br.Pos] == 0xFF && d[br.Pos+1] == 0xFF {
		br.Pos++
	}
	if br.Pos+1 < len(d) && d[br.Pos] == 0xFF && d[br.Pos+1] >= 0xD0 && d[br.Pos+1] <= 0xD7 {
		br.Pos += 2
		return true
	}
	return false
}

// extend converts the k-bit additional bits v of a Huffman-coded
// difference into its signed value (T.81 F.2.2.1).
func extend(v int32, k uint) int32 {
	if v < 1<<(k-1) {
		return v - 1<<k + 1
	}
	return v
}
