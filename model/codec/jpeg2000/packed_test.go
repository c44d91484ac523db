package jpeg2000

import (
	"encoding/binary"
	"fmt"
)

// movePacketHeaders rewrites a codestream whose packet headers are in the
// tile-part bodies into one with packed packet headers: all in PPM marker
// segments of the main header (ppm), or in PPT marker segments of each
// tile-part header. It lets the tests check the PPM/PPT paths on streams
// made by an encoder that does not write them. Packets must not straddle
// tile-parts (OpenJPEG splits tile-parts at packet boundaries).
func movePacketHeaders(data []byte, ppm bool) ([]byte, error) {
	raw, err := codestreamOf(data)
	if err != nil {
		return nil, err
	}
	cs, err := parseCodestream(raw, false)
	if err != nil {
		return nil, err
	}
	// Locate the tile-parts: SOT offset, header markers, body.
	type tpLoc struct {
		sot, sod, end int
		tile          int
	}
	var locs []tpLoc
	first := -1
	for pos := 2; pos+2 <= len(raw); {
		m := int(binary.BigEndian.Uint16(raw[pos:]))
		if m == mEOC {
			break
		}
		if m != mSOT {
			if first >= 0 {
				return nil, fmt.Errorf("unexpected marker %#x", m)
			}
			pos += 2 + int(binary.BigEndian.Uint16(raw[pos+2:]))
			continue
		}
		if first < 0 {
			first = pos
		}
		psot := int(binary.BigEndian.Uint32(raw[pos+6:]))
		tile := int(binary.BigEndian.Uint16(raw[pos+4:]))
		end := pos + psot
		if psot == 0 {
			end = len(raw) - 2
		}
		q := pos + 12
		for binary.BigEndian.Uint16(raw[q:]) != mSOD {
			q += 2 + int(binary.BigEndian.Uint16(raw[q+2:]))
		}
		locs = append(locs, tpLoc{pos, q, end, tile})
		pos = end
	}
	// Packet spans per tile-part, from decoding each tile with a trace.
	type pkt struct{ start, hs, he, end int }
	partPkts := make([][]pkt, len(locs))
	d := &decoder{cs: cs, data: raw}
	tiles := map[int][]int{} // tile -> indexes into locs
	var order []int
	for i, l := range locs {
		if _, ok := tiles[l.tile]; !ok {
			order = append(order, l.tile)
		}
		tiles[l.tile] = append(tiles[l.tile], i)
	}
	for _, ti := range order {
		var body []byte
		var bases []int
		for _, i := range tiles[ti] {
			bases = append(bases, len(body))
			body = append(body, raw[locs[i].sod+2:locs[i].end]...)
		}
		td, err := d.setupTile(ti, body, nil)
		if err != nil {
			return nil, err
		}
		td.trace = func(start, hs, he, end int) {
			k := len(bases) - 1
			for k > 0 && bases[k] > start {
				k--
			}
			b := bases[k]
			partPkts[tiles[ti][k]] = append(partPkts[tiles[ti][k]], pkt{start - b, hs - b, he - b, end - b})
		}
		if err := td.forEachPacket(); err != nil {
			return nil, err
		}
	}
	// Split each tile-part into packed headers and bodies.
	hdrs := make([][]byte, len(locs))
	bodies := make([][]byte, len(locs))
	for i, l := range locs {
		src := raw[l.sod+2 : l.end]
		for _, p := range partPkts[i] {
			if p.end > len(src) {
				return nil, fmt.Errorf("packet straddles tile-parts")
			}
			bodies[i] = append(bodies[i], src[p.start:p.hs]...) // SOP
			hdrs[i] = append(hdrs[i], src[p.hs:p.he]...)
			bodies[i] = append(bodies[i], src[p.he:p.end]...)
		}
	}
	out := append([]byte(nil), raw[:first]...)
	segments := func(marker int, payload []byte) []byte {
		var b []byte
		z := 0
		for len(payload) > 0 || z == 0 {
			n := min(len(payload), 65535-3)
			b = binary.BigEndian.AppendUint16(b, uint16(marker))
			b = binary.BigEndian.AppendUint16(b, uint16(n+3))
			b = append(b, byte(z))
			b = append(b, payload[:n]...)
			payload = payload[n:]
			z++
		}
		return b
	}
	if ppm {
		var payload []byte
		for i := range locs {
			payload = binary.BigEndian.AppendUint32(payload, uint32(len(hdrs[i])))
			payload = append(payload, hdrs[i]...)
		}
		out = append(out, segments(mPPM, payload)...)
	}
	for i, l := range locs {
		hdr := append([]byte(nil), raw[l.sot+12:l.sod]...)
		if !ppm {
			hdr = append(hdr, segments(mPPT, hdrs[i])...)
		}
		sot := append([]byte(nil), raw[l.sot:l.sot+12]...)
		binary.BigEndian.PutUint32(sot[6:], uint32(12+len(hdr)+2+len(bodies[i])))
		out = append(out, sot...)
		out = append(out, hdr...)
		out = append(out, 0xFF, 0x93)
		out = append(out, bodies[i]...)
	}
	return append(out, 0xFF, 0xD9), nil
}
