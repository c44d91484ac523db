package jpeg2000

import (
	"fmt"

	"sscscore/model/codec"
)

func init() {
	codec.Register(codec.JPEG2000Lossless, "JPEG 2000 lossless", DICOMDecoder{})
	codec.Register(codec.JPEG2000, "JPEG 2000", DICOMDecoder{})
}

// DICOMDecoder is the [codec.Decoder] of the DICOM JPEG 2000 transfer
// syntaxes (1.2.840.10008.1.2.4.90 lossless only, .91 lossless or lossy).
// A frame may be a raw codestream or, as some writers produce, a whole JP2
// file.
//
// The codestream must have Rows x Columns samples and SamplesPerPixel
// components (anything else is an error, which also stops hostile headers
// from allocating more than one frame). Where the DICOM header and the
// codestream disagree, the rules of pydicom (pixels/decoders/base.py,
// _apply_sign_correction, "j2k_is_signed"/"j2k_precision") and GDCM apply:
//
//   - Precision: the codestream's bit depth wins over BitsStored (GDCM
//     rewrites BitsStored to it; pydicom uses it), so 693_J2KR, whose header
//     says 16 bits for a 14-bit signed codestream, decodes to its true
//     values. Samples are not masked to BitsStored.
//   - Sign, codestream precision p below BitsAllocated: the p-bit pattern is
//     read as PixelRepresentation says: sign-extended from p bits when
//     PixelRepresentation is 1 and the codestream is unsigned
//     (J2K_pixelrep_mismatch: 13-bit unsigned 6192 becomes -2000), masked to
//     p bits when PixelRepresentation is 0 and the codestream is signed.
//   - Sign, p equal to BitsAllocated (no spare bit to tell): the samples are
//     signed. For PixelRepresentation 1 and an unsigned codestream this is
//     pydicom's rule (the 16-bit pattern read as two's complement:
//     TOSHIBA_J2K_SIZ0_PixRep1). For PixelRepresentation 0 and a signed
//     codestream (TOSHIBA_J2K_SIZ1_PixRep0) pydicom and GDCM return the
//     16-bit pattern as unsigned, which turns air at -2048 into 63488; here
//     the codestream's sign is kept instead, so that both Toshiba files give
//     the same, correct, values. This is the one deliberate departure.
type DICOMDecoder struct{}

// Decode decodes one frame into dst (see [codec.Decoder]).
func (DICOMDecoder) Decode(frame []byte, f codec.FrameInfo, dst []int32) error {
	n := f.Len()
	if len(dst) < n {
		return fmt.Errorf("jpeg2000: destination holds %d samples, frame needs %d", len(dst), n)
	}
	cfg, err := DecodeConfig(frame)
	if err != nil {
		return err
	}
	spp := max(f.SamplesPerPixel, 1)
	if cfg.Width != f.Columns || cfg.Height != f.Rows || cfg.NumComponents != spp {
		return formatErr("codestream is %dx%d with %d component(s), header says %dx%d with %d",
			cfg.Width, cfg.Height, cfg.NumComponents, f.Columns, f.Rows, spp)
	}
	ba := f.BitsAllocated
	if ba <= 0 {
		ba = (cfg.Precision + 7) / 8 * 8
	}
	if cfg.Precision > ba {
		return formatErr("codestream has %d-bit samples but BitsAllocated is %d", cfg.Precision, ba)
	}
	img, err := decode(frame, n)
	if err != nil {
		return err
	}
	pix := img.Pix
	copy(dst, pix)
	out := dst[:n]
	p := img.Precision
	pr := f.PixelRepresentation == 1
	switch {
	case img.Signed == pr:
		// Agreement: samples as coded.
	case p < ba && pr:
		sh := uint(32 - p)
		for i, v := range out {
			out[i] = v << sh >> sh
		}
	case p < ba:
		mask := int32(1)<<uint(p) - 1
		for i, v := range out {
			out[i] = v & mask
		}
	case pr:
		// Unsigned codestream at full width, signed header: two's complement.
		sh := uint(32 - ba)
		for i, v := range out {
			out[i] = v << sh >> sh
		}
	default:
		// Signed codestream at full width, unsigned header: keep the sign.
	}
	return nil
}
