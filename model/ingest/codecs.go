package ingest

// The compressed-pixel decoders register themselves with model/codec; the
// ingestion package links them in here. A transfer syntax without a
// registered decoder is rejected with a message naming it.
import (
	_ "sscscore/model/codec/jpeg"
	_ "sscscore/model/codec/jpeg2000"
	_ "sscscore/model/codec/jpegls"
	_ "sscscore/model/codec/rle"
)
