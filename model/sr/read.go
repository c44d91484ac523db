package sr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/cascade"
)

// Report is what Read finds in a report written by Build.
type Report struct {
	// SOPInstanceUID and SeriesUID are the report's own.
	SOPInstanceUID, SeriesUID string
	// StudyUID is the study's; ScoredSeriesUID the scored series (from
	// the evidence sequence).
	StudyUID, ScoredSeriesUID string
	Patient                   cascade.Patient
	// ContentDate (YYYYMMDD) and ContentTime (HHMMSS) of the report.
	ContentDate, ContentTime string
	// Levels in document order (L1..L5).
	Levels []Level
	// Mean is the whole-lung group.
	Mean Mean
	// Algorithm is the first group's Algorithm Identification.
	Algorithm Algorithm
	// Statement is the intended-use statement, Note the model's note.
	Statement, Note string
	Warnings        []string
}

// Level is one level's measurement group.
type Level struct {
	// Name is "L1".."L5", TrackingID the group's tracking identifier
	// (name and anatomical definition).
	Name, TrackingID, TrackingUID string
	// Status, Outside and ReaderPlaced as in cascade.LevelResult.
	Status, Outside string
	ReaderPlaced    bool
	ZMM             *float64
	Slice           *int
	TOT, GG, RET    *float64
	// Image is the level slice the measurements are inferred from.
	Image *Image
}

// Mean is the whole-lung group: the mean over Levels scored levels.
type Mean struct {
	Levels       int
	TOT, GG, RET *float64
	// Images are the level slices the means are inferred from.
	Images []Image
}

// Algorithm is a TID 4019 Algorithm Identification.
type Algorithm struct {
	Name, Version string
	Parameters    []string
}

// Read parses a report written by Build.
func Read(data []byte) (*Report, error) {
	ds, err := dicom.Parse(bytes.NewReader(data), int64(len(data)), nil, dicom.SkipPixelData())
	if err != nil {
		return nil, fmt.Errorf("sr: not a readable DICOM file: %w", err)
	}
	top := elems(ds.Elements)
	if c := top.str(tag.SOPClassUID); c != ComprehensiveSRStorage {
		return nil, fmt.Errorf("sr: SOP class %q is not Comprehensive SR (%s)", c, ComprehensiveSRStorage)
	}
	if n := top.code(tag.ConceptNameCodeSequence); n != codeReport {
		return nil, fmt.Errorf("sr: document title %v is not %v", n, codeReport)
	}
	r := &Report{
		SOPInstanceUID: top.str(tag.SOPInstanceUID), SeriesUID: top.str(tag.SeriesInstanceUID),
		StudyUID: top.str(tag.StudyInstanceUID),
		Patient: cascade.Patient{Name: top.str(tag.PatientName), ID: top.str(tag.PatientID),
			BirthDate: top.str(tag.PatientBirthDate), Sex: top.str(tag.PatientSex)},
		ContentDate: top.str(tag.ContentDate), ContentTime: top.str(tag.ContentTime),
	}
	for _, ev := range top.items(tag.CurrentRequestedProcedureEvidenceSequence) {
		for _, se := range ev.items(tag.ReferencedSeriesSequence) {
			r.ScoredSeriesUID = se.str(tag.SeriesInstanceUID)
		}
	}
	for _, it := range top.items(tag.ContentSequence) {
		switch it.name() {
		case codeMeasurements:
			for _, g := range it.items(tag.ContentSequence) {
				if g.name() != codeGroup {
					continue
				}
				if err := r.group(g); err != nil {
					return nil, fmt.Errorf("sr: %w", err)
				}
			}
		case codeQualitative:
			for _, q := range it.items(tag.ContentSequence) {
				switch q.name() {
				case codeStatement:
					r.Statement = q.str(tag.TextValue)
				case codeNote:
					r.Note = q.str(tag.TextValue)
				case codeWarning:
					r.Warnings = append(r.Warnings, q.str(tag.TextValue))
				}
			}
		}
	}
	if len(r.Levels) == 0 {
		return nil, fmt.Errorf("sr: no level measurement groups")
	}
	return r, nil
}

// group reads one measurement group into r.
func (r *Report) group(g elems) error {
	var l Level
	var m Mean
	var algo Algorithm
	for _, it := range g.items(tag.ContentSequence) {
		name := it.name()
		var v float64
		if it.str(tag.ValueType) == vtNum {
			var err error
			if v, err = it.num(); err != nil {
				return err
			}
		}
		text := it.str(tag.TextValue)
		switch name {
		case codeTrackingID:
			l.TrackingID = text
		case codeTrackingUID:
			l.TrackingUID = it.str(tag.UID)
		case codeAlgorithmName:
			algo.Name = text
		case codeAlgorithmVer:
			algo.Version = text
		case codeAlgorithmParam:
			algo.Parameters = append(algo.Parameters, text)
		case codeStatus:
			text, l.ReaderPlaced = strings.CutSuffix(text, readerSuffix)
			l.Status, l.Outside, _ = strings.Cut(text, " ")
		case codeLevelZ:
			l.ZMM = &v
			l.Image = it.inferredImage()
		case codeSlice:
			k := int(v)
			l.Slice = &k
		case codeLevelsN:
			m.Levels = int(v)
		case codeTOT, codeGG, codeRET:
			dst := map[Code][2]**float64{codeTOT: {&l.TOT, &m.TOT}, codeGG: {&l.GG, &m.GG}, codeRET: {&l.RET, &m.RET}}[name]
			*dst[0], *dst[1] = &v, &v
			if l.Image == nil {
				l.Image = it.inferredImage()
			}
			if name == codeTOT {
				m.Images = it.inferredImages()
			}
		}
	}
	if r.Algorithm.Name == "" {
		r.Algorithm = algo
	}
	if l.TrackingID == WholeLung {
		m.TOT, m.GG, m.RET = l.TOT, l.GG, l.RET
		r.Mean = m
		return nil
	}
	l.Name, _, _ = strings.Cut(l.TrackingID, ":")
	if l.Name == "" {
		return fmt.Errorf("a measurement group without tracking identifier")
	}
	r.Levels = append(r.Levels, l)
	return nil
}

// elems is one data set or item.
type elems []*dicom.Element

func (e elems) find(t tag.Tag) *dicom.Element {
	for _, el := range e {
		if el.Tag == t {
			return el
		}
	}
	return nil
}

// str is the first value of a text attribute, without padding.
func (e elems) str(t tag.Tag) string {
	el := e.find(t)
	if el == nil {
		return ""
	}
	v, ok := el.Value.GetValue().([]string)
	if !ok || len(v) == 0 {
		return ""
	}
	return strings.TrimRight(strings.Join(v, "\\"), " \x00")
}

// items are the items of a sequence attribute.
func (e elems) items(t tag.Tag) []elems {
	el := e.find(t)
	if el == nil {
		return nil
	}
	seq, ok := el.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([]elems, len(seq))
	for i, it := range seq {
		out[i], _ = it.GetValue().([]*dicom.Element)
	}
	return out
}

// code is the first code of a code sequence.
func (e elems) code(t tag.Tag) Code {
	its := e.items(t)
	if len(its) == 0 {
		return Code{}
	}
	c := its[0]
	return Code{c.str(tag.CodeValue), c.str(tag.CodingSchemeDesignator), c.str(tag.CodeMeaning)}
}

// name is a content item's concept name.
func (e elems) name() Code { return e.code(tag.ConceptNameCodeSequence) }

// num is a NUM item's value: the Floating Point Value when present (exact),
// else the decimal string.
func (e elems) num() (float64, error) {
	mv := e.items(tag.MeasuredValueSequence)
	if len(mv) == 0 {
		return 0, fmt.Errorf("%s: no measured value", e.name().Meaning)
	}
	if el := mv[0].find(tag.FloatingPointValue); el != nil {
		if f, ok := el.Value.GetValue().([]float64); ok && len(f) == 1 {
			return f[0], nil
		}
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(mv[0].str(tag.NumericValue)), 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", e.name().Meaning, err)
	}
	return v, nil
}

// inferredImages are the images of a measurement's INFERRED FROM items.
func (e elems) inferredImages() []Image {
	var out []Image
	for _, it := range e.items(tag.ContentSequence) {
		if it.str(tag.RelationshipType) != relInferred || it.str(tag.ValueType) != vtImage {
			continue
		}
		for _, ref := range it.items(tag.ReferencedSOPSequence) {
			im := Image{SOPClassUID: ref.str(tag.ReferencedSOPClassUID), SOPInstanceUID: ref.str(tag.ReferencedSOPInstanceUID)}
			im.Frame, _ = strconv.Atoi(strings.TrimSpace(ref.str(tag.ReferencedFrameNumber)))
			out = append(out, im)
		}
	}
	return out
}

func (e elems) inferredImage() *Image {
	if ims := e.inferredImages(); len(ims) > 0 {
		return &ims[0]
	}
	return nil
}
