package ingest

// The compressed-pixel decoders register themselves with model/codec; the
// ingestion package links them in here. A transfer syntax without a
// registered decoder is rejected with a message naming it.
import (
	"sscscore/model/codec"
	_ "sscscore/model/codec/jpeg"
	_ "sscscore/model/codec/jpeg2000"
	_ "sscscore/model/codec/jpegls"
	_ "sscscore/model/codec/rle"
)

// TransferSyntaxes returns the UIDs of the transfer syntaxes whose files
// this package reads: the native encodings, explicit VR little endian (the
// DICOM default) first, then every compressed syntax with a decoder
// registered in model/codec, sorted. A DICOMweb client asks for these.
func TransferSyntaxes() []string {
	return append([]string{tsExplicitLE, tsImplicitLE, tsDeflatedLE, tsExplicitBE}, codec.Registered()...)
}
