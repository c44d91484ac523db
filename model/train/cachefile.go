package train

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// The phantom caches' files (levels cases, score slices) share one layout:
// a magic string, the length of a JSON header as a little-endian uint32,
// the header, then the raw data.

// writeCacheHeader writes the magic string and the JSON header hb.
func writeCacheHeader(bw *bufio.Writer, magic string, hb []byte) {
	bw.WriteString(magic)
	binary.Write(bw, binary.LittleEndian, uint32(len(hb)))
	bw.Write(hb)
}

// readCacheHeader checks the magic string and decodes a JSON header of at
// most maxLen bytes into h; what names the kind of file in errors.
func readCacheHeader(br *bufio.Reader, magic string, maxLen uint32, what string, h any) error {
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(br, m); err != nil || string(m) != magic {
		return fmt.Errorf("train: not a %s file", what)
	}
	var n uint32
	if err := binary.Read(br, binary.LittleEndian, &n); err != nil || n > maxLen {
		return fmt.Errorf("train: bad %s header", what)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(br, hb); err != nil {
		return fmt.Errorf("train: %s header: %w", what, err)
	}
	if err := json.Unmarshal(hb, h); err != nil {
		return fmt.Errorf("train: %s header: %w", what, err)
	}
	return nil
}
