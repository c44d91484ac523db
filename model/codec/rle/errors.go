package rle

// A FormatError reports that the input is not a valid DICOM RLE frame.
type FormatError string

// Error implements error.
func (e FormatError) Error() string { return "rle: " + string(e) }

// An UnsupportedError reports that the input uses a valid but unimplemented
// feature (the string says which, and that it is not supported).
type UnsupportedError string

// Error implements error.
func (e UnsupportedError) Error() string { return "rle: " + string(e) }
