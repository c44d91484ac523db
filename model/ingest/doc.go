// Package ingest turns folders of DICOM files into Hounsfield-unit volumes.
//
// Ingestion runs in two passes. [Scan] reads only the headers of the input
// files (disk files, browser File objects or zip entries, all as [File]),
// recognising DICOM by content, never by file name. It classifies every file
// (accepted, skipped with a reason, or rejected with an error), groups image
// frames into series, and chooses the series best suited to lung scoring,
// saying why. The second pass decodes only the chosen series (or another the
// caller names): [Inventory.Load] decodes it into one int16 volume, and
// [Inventory.Open] returns a [LazyVolume] that keeps each slice's file
// reference and pixel-data location and decodes a slice when asked, so that
// a 3,000-slice series costs little more than its headers.
//
// Headers are parsed by github.com/suyashkumar/dicom, behind a small
// structural reader of this package (dcmio.go) that finds the transfer
// syntax, the data set and the byte range of the pixel data: the library
// never reads pixel bytes, and its panics become errors for that file. Raw
// data sets without preamble or file meta are recognised from their first
// elements. Native pixel data (implicit and explicit VR little endian,
// explicit big endian, deflated) is converted by tight loops straight from
// the file bytes; compressed syntaxes are decoded by the decoders registered
// in model/codec (codecs.go links them in).
//
// Hounsfield units: RescaleSlope/Intercept (per frame for enhanced CT) or
// the Modality LUT Sequence; stored values are sign-extended or masked to
// BitsStored; PixelPaddingValue (and range) and values below -1024 HU
// (outside the reconstruction field) become air (-1024) and are counted;
// values above 32767 are clipped. Volumes follow model/volume's layout:
// slice 0 most cranial, row 0 anterior, column 0 the patient's right
// (images stored the other way round are mirrored).
package ingest
