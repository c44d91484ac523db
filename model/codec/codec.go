// Package codec is the registry of compressed pixel-data decoders.
//
// Each codec lives in its own subpackage (rle, jpeg, jpegls, jpeg2000, ...)
// and registers itself, for the DICOM transfer syntaxes it decodes, from an
// init function. The DICOM reader looks decoders up by transfer syntax UID;
// a syntax without a registered decoder is rejected with a message that names
// it.
package codec

import (
	"fmt"
	"sort"
	"sync"
)

// FrameInfo is what the DICOM header says about the pixels of one frame.
type FrameInfo struct {
	Rows, Columns       int
	SamplesPerPixel     int
	BitsAllocated       int
	BitsStored          int
	PixelRepresentation int // 0 unsigned, 1 two's complement
}

// Len returns the number of samples in one frame.
func (f FrameInfo) Len() int { return f.Rows * f.Columns * max(f.SamplesPerPixel, 1) }

// Interpret turns raw decoded samples (the bit patterns the encoder was
// given) into the stored values the header says they are, in place:
// sign-extended from BitsStored when PixelRepresentation is 1, masked to
// BitsStored otherwise. A BitsStored outside 1..31 leaves them as they are.
// This is the one place of the rule every Decoder follows.
func (f FrameInfo) Interpret(dst []int32) {
	bits := f.BitsStored
	if bits <= 0 || bits >= 32 {
		return
	}
	if f.PixelRepresentation == 1 {
		s := uint(32 - bits)
		for i, v := range dst {
			dst[i] = v << s >> s
		}
		return
	}
	m := int32(1)<<uint(bits) - 1
	for i := range dst {
		dst[i] &= m
	}
}

// A Decoder decodes one encapsulated frame (the concatenated fragments of
// that frame, without item headers) into dst, which holds f.Len() samples
// (pixel-interleaved when SamplesPerPixel > 1). Samples are the stored pixel
// values interpreted as the header says (FrameInfo.Interpret). Where the
// compressed stream and the header disagree (sign, precision) a decoder
// follows the rules pydicom and GDCM apply and says so in its documentation.
type Decoder interface {
	Decode(frame []byte, f FrameInfo, dst []int32) error
}

// DecoderFunc adapts a function to the Decoder interface.
type DecoderFunc func(frame []byte, f FrameInfo, dst []int32) error

// Decode calls fn.
func (fn DecoderFunc) Decode(frame []byte, f FrameInfo, dst []int32) error { return fn(frame, f, dst) }

type entry struct {
	name string
	dec  Decoder
}

var (
	mu       sync.RWMutex
	registry = map[string]entry{}
)

// Register makes a decoder available for a transfer syntax UID. name is a
// short human-readable name of the syntax, such as "JPEG-LS lossless".
// Registering a UID twice panics.
func Register(uid, name string, d Decoder) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[uid]; dup {
		panic(fmt.Sprintf("codec: transfer syntax %s registered twice", uid))
	}
	registry[uid] = entry{name, d}
}

// Lookup returns the decoder registered for a transfer syntax UID.
func Lookup(uid string) (Decoder, bool) {
	mu.RLock()
	defer mu.RUnlock()
	e, ok := registry[uid]
	return e.dec, ok
}

// Registered returns the registered transfer syntax UIDs, sorted.
func Registered() []string {
	mu.RLock()
	defer mu.RUnlock()
	uids := make([]string, 0, len(registry))
	for uid := range registry {
		uids = append(uids, uid)
	}
	sort.Strings(uids)
	return uids
}

// Transfer syntax UIDs of the encapsulated (compressed) syntaxes.
const (
	JPEGBaseline8      = "1.2.840.10008.1.2.4.50"
	JPEGExtended12     = "1.2.840.10008.1.2.4.51"
	JPEGLossless       = "1.2.840.10008.1.2.4.57"
	JPEGLosslessSV1    = "1.2.840.10008.1.2.4.70"
	JPEGLSLossless     = "1.2.840.10008.1.2.4.80"
	JPEGLSNearLossless = "1.2.840.10008.1.2.4.81"
	JPEG2000Lossless   = "1.2.840.10008.1.2.4.90"
	JPEG2000           = "1.2.840.10008.1.2.4.91"
	RLELossless        = "1.2.840.10008.1.2.5"
)

// SyntaxName returns a short human-readable name of a transfer syntax UID,
// registered or not, or the UID itself when it is unknown.
func SyntaxName(uid string) string {
	if n, ok := names[uid]; ok {
		return n
	}
	mu.RLock()
	defer mu.RUnlock()
	if e, ok := registry[uid]; ok {
		return e.name
	}
	return uid
}

var names = map[string]string{
	"1.2.840.10008.1.2":      "Implicit VR Little Endian",
	"1.2.840.10008.1.2.1":    "Explicit VR Little Endian",
	"1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
	"1.2.840.10008.1.2.2":    "Explicit VR Big Endian",
	JPEGBaseline8:            "JPEG baseline (8-bit lossy)",
	JPEGExtended12:           "JPEG extended (12-bit lossy)",
	JPEGLossless:             "JPEG lossless (process 14)",
	JPEGLosslessSV1:          "JPEG lossless (process 14, SV1)",
	JPEGLSLossless:           "JPEG-LS lossless",
	JPEGLSNearLossless:       "JPEG-LS near-lossless",
	JPEG2000Lossless:         "JPEG 2000 lossless",
	JPEG2000:                 "JPEG 2000",
	RLELossless:              "RLE lossless",
}
