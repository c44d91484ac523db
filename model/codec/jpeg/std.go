package jpeg

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"

	"sscscore/model/codec"
)

// decodeStd decodes an 8-bit DCT-based frame with image/jpeg. A grey image
// is returned as decoded (image/jpeg applies no colour conversion to one
// component); a colour one is converted to RGB.
func decodeStd(frame []byte, f codec.FrameInfo, dst []int32) error {
	img, err := stdjpeg.Decode(bytes.NewReader(frame))
	if err != nil {
		// image/jpeg's errors, as this package's own types.
		if u, ok := err.(stdjpeg.UnsupportedError); ok {
			return UnsupportedError(u.Error())
		}
		return FormatError(err.Error())
	}
	b := img.Bounds()
	if b.Dx() != f.Columns || b.Dy() != f.Rows {
		return FormatError(fmt.Sprintf("stream is %dx%d but the header says %dx%d", b.Dx(), b.Dy(), f.Columns, f.Rows))
	}
	spp := max(f.SamplesPerPixel, 1)
	switch m := img.(type) {
	case *image.Gray:
		if spp != 1 {
			return FormatError(fmt.Sprintf("stream has 1 component but the header says %d samples per pixel", spp))
		}
		for y := 0; y < f.Rows; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+f.Columns]
			out := dst[y*f.Columns:]
			for x, v := range row {
				out[x] = int32(v)
			}
		}
	default:
		if spp != 3 {
			return FormatError(fmt.Sprintf("stream has colour components but the header says %d samples per pixel", spp))
		}
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				dst[i], dst[i+1], dst[i+2] = int32(c.R), int32(c.G), int32(c.B)
				i += 3
			}
		}
	}
	f.Interpret(dst[:f.Len()])
	return nil
}
