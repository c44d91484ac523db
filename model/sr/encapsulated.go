package sr

import (
	"bytes"
	"fmt"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/cascade"
	"sscscore/model/dcmwrite"
)

// EncapsulatedPDFStorage is the SOP class of the printable report.
const EncapsulatedPDFStorage = "1.2.840.10008.5.1.4.1.1.104.1"

// EncapsulatePDF wraps pdf, the printable report of res, as a DICOM
// Encapsulated PDF (a Part-10 file) under the scored study: patient and
// study as in the structured report, a new series (modality DOC), the
// level slices as its source instances. The PDF shows the patient's
// identity exactly when res.Source holds it (Burned In Annotation says so).
func EncapsulatePDF(res *cascade.Result, pdf []byte, opt Options) ([]byte, error) {
	if err := check(res); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, fmt.Errorf("sr: the document to encapsulate is not a PDF")
	}
	opt, bi := opt.resolve(res, "pdf", 9902)
	burned := "NO"
	if res.Source.Patient != nil {
		burned = "YES"
	}
	var images []Image
	for _, im := range levelImages(res) {
		if im != nil {
			images = append(images, *im)
		}
	}
	attrs := common(res, opt, bi, "DOC", "sscscore printable report (research use only)")
	attrs = append(attrs,
		dcmwrite.Attr{Tag: tag.ConversionType, Value: str("WSD")},
		dcmwrite.Attr{Tag: tag.AcquisitionDateTime, Value: str("")},
		dcmwrite.Attr{Tag: tag.BurnedInAnnotation, Value: str(burned)},
		dcmwrite.Attr{Tag: tag.DocumentTitle, Value: str("sscscore report: Goh levels and lung involvement scores")},
		dcmwrite.Attr{Tag: tag.ConceptNameCodeSequence, Value: []dcmwrite.Item{}},
		dcmwrite.Attr{Tag: tag.MIMETypeOfEncapsulatedDocument, Value: str("application/pdf")},
		dcmwrite.Attr{Tag: tag.EncapsulatedDocument, Value: pdf},
		dcmwrite.Attr{Tag: tag.EncapsulatedDocumentLength, Value: []int{len(pdf)}},
	)
	if refs := instanceRefs(images); len(refs) > 0 {
		attrs = append(attrs, dcmwrite.Attr{Tag: tag.SourceInstanceSequence, Value: refs})
	}
	var buf bytes.Buffer
	if err := dcmwrite.WriteDataset(&buf, EncapsulatedPDFStorage, opt.InstanceUID, attrs); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadPDF returns the PDF document of an Encapsulated PDF written by
// EncapsulatePDF (or any Encapsulated PDF).
func ReadPDF(data []byte) ([]byte, error) {
	ds, err := dicom.Parse(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		return nil, fmt.Errorf("sr: not a readable DICOM file: %w", err)
	}
	top := elems(ds.Elements)
	if c := top.str(tag.SOPClassUID); c != EncapsulatedPDFStorage {
		return nil, fmt.Errorf("sr: SOP class %q is not Encapsulated PDF (%s)", c, EncapsulatedPDFStorage)
	}
	if m := top.str(tag.MIMETypeOfEncapsulatedDocument); m != "application/pdf" {
		return nil, fmt.Errorf("sr: the encapsulated document is %q, not application/pdf", m)
	}
	el := top.find(tag.EncapsulatedDocument)
	if el == nil {
		return nil, fmt.Errorf("sr: no encapsulated document")
	}
	doc, ok := el.Value.GetValue().([]byte)
	if !ok {
		return nil, fmt.Errorf("sr: the encapsulated document is not bytes")
	}
	if l := top.find(tag.EncapsulatedDocumentLength); l != nil {
		if n, ok := l.Value.GetValue().([]int); ok && len(n) == 1 && n[0] <= len(doc) {
			doc = doc[:n[0]]
		}
	}
	if !bytes.HasPrefix(doc, []byte("%PDF-")) {
		return nil, fmt.Errorf("sr: the encapsulated document is not a PDF")
	}
	return doc, nil
}
