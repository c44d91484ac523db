// Package sr writes a scoring result as a DICOM Structured Report and
// reads it back.
//
// The report is a Comprehensive SR (SOP class 1.2.840.10008.5.1.4.1.1.88.33)
// following TID 1500 "Measurement Report" of PS3.16:
//
//	CONTAINER (126000, DCM, "Imaging Measurement Report")       TID 1500
//	  HAS CONCEPT MOD  Language: (en-US, RFC5646)                 TID 1204
//	  HAS OBS CONTEXT  Observer Type: Device, Device Observer UID, Name,
//	                   Manufacturer, Model Name, Serial Number    TID 1002/1004
//	  HAS CONCEPT MOD  Procedure reported: (169069000, SCT, "Computed tomography of chest")
//	  CONTAINS CONTAINER Image Library > Image Library Group > IMAGE (the level slices)
//	  CONTAINS CONTAINER (126010, DCM, "Imaging Measurements")
//	    CONTAINS CONTAINER (125007, DCM, "Measurement Group")     TID 1501, one per level, then the whole lung
//	      HAS OBS CONTEXT  Tracking Identifier "L3: pulmonary venous confluence", Tracking Unique Identifier
//	      CONTAINS         Measurement Method: (GOH5, 99SSCSCORE)
//	      HAS CONCEPT MOD  Finding Site: (39607008, SCT, "Lung")
//	      HAS CONCEPT MOD  Algorithm Name, Version, Parameters     TID 4019 (model, build, weight hashes)
//	      CONTAINS TEXT    Level status (scored, outside above/below, no-lung)
//	      CONTAINS NUM     Level position (mm), slice index, TOT, GG, RET (%)   TID 300
//	        INFERRED FROM IMAGE (121112, DCM, "Source of Measurement"): the level slice
//	  CONTAINS CONTAINER (C0034375, UMLS, "Qualitative Evaluations")
//	    CONTAINS TEXT    the intended-use statement, the model's note, the warnings
//
// TOT, GG and RET (percent of the lung area at the level, the mean over the
// level slice and its two neighbours) and the level position have no
// standard code: they are coded in the project's private scheme 99SSCSCORE
// (declared in the Coding Scheme Identification Sequence; see codes.go).
// Every number is written as a decimal string and exactly as a 64-bit
// float (Floating Point Value), which Read prefers, so a round trip is
// exact.
//
// The patient and study attributes are the scored study's (from
// cascade.Result.Source), so a PACS files the report beside the images; the
// report is a new series (modality SR) and instance, and its Current
// Requested Procedure Evidence Sequence lists the referenced slices of the
// scored series. SourceOf fills the result's source from an ingested
// series. The package is pure Go (the browser's worker uses it).
package sr

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/dcmwrite"
)

// ComprehensiveSRStorage is the SOP class of the reports.
const ComprehensiveSRStorage = "1.2.840.10008.5.1.4.1.1.88.33"

// Device names of the observer and the equipment.
const (
	DeviceName   = "sscscore"
	Manufacturer = "sscscore project"
	ModelName    = "sscscore Goh-level cascade"
)

// deviceObserverUID identifies sscscore as the observing device.
var deviceObserverUID = dcmwrite.UID("sscscore/device-observer")

// Options controls Build. The zero value is a valid choice.
type Options struct {
	// Time is the report's content date and time; zero means now.
	Time time.Time
	// SeriesUID and InstanceUID are the report's series and SOP instance
	// UIDs; empty ones are derived (dcmwrite.UID) from the scored series
	// and Time.
	SeriesUID, InstanceUID string
	// SeriesNumber of the report's series; 0 means 9901.
	SeriesNumber int
	// Build is the software's version; empty means buildinfo.Get().
	Build *buildinfo.Info
}

// ErrNoSource is returned by Build for a result without a DICOM source
// (e.g. one scored before sources were recorded, or from a folder without
// UIDs): the report would have nothing to refer to.
var ErrNoSource = errors.New("the result does not say which DICOM study and images it scored (no source): score the DICOM series again with this version")

// Build writes res as a DICOM Part-10 file: a Comprehensive SR following
// TID 1500. res.Source must be filled (SourceOf) for the result as it is:
// a level moved after the source was made is an error.
func Build(res *cascade.Result, opt Options) ([]byte, error) {
	if err := check(res); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	src := res.Source
	opt, bi := opt.resolve(res, "sr", 9901)

	images := levelImages(res)
	root := &node{vt: vtContainer, name: &codeReport, template: templateReport}
	root.kids = append(root.kids,
		codeNode(relConceptMod, codeLanguage, codeEnglishUS),
		codeNode(relObsContext, codeObserverType, codeDevice),
		uidRef(relObsContext, codeDeviceUID, deviceObserverUID),
		text(relObsContext, codeDeviceName, DeviceName),
		text(relObsContext, codeDeviceMaker, Manufacturer),
		text(relObsContext, codeDeviceModel, ModelName),
		text(relObsContext, codeDeviceSerial, bi.String()),
		codeNode(relConceptMod, codeProcedure, codeCTChest),
	)
	lib := container(relContains, codeLibraryGroup)
	seen := map[Image]bool{}
	var evidence []Image
	for _, im := range images {
		if im == nil || seen[*im] {
			continue
		}
		seen[*im] = true
		evidence = append(evidence, *im)
		lib.kids = append(lib.kids, image(relContains, nil, *im))
	}
	if len(lib.kids) > 0 {
		root.kids = append(root.kids, container(relContains, codeImageLibrary, lib))
	}
	meas := container(relContains, codeMeasurements)
	algo := algorithm(res, bi)
	for i, l := range res.Levels {
		meas.kids = append(meas.kids, levelGroup(l, images[i], opt.InstanceUID, algo))
	}
	meas.kids = append(meas.kids, meanGroup(res, images, opt.InstanceUID, algo))
	root.kids = append(root.kids, meas)
	qual := container(relContains, codeQualitative, text(relContains, codeStatement, Statement))
	if res.Note != "" {
		qual.kids = append(qual.kids, text(relContains, codeNote, res.Note))
	}
	for _, w := range res.Warnings {
		qual.kids = append(qual.kids, text(relContains, codeWarning, w))
	}
	root.kids = append(root.kids, qual)

	attrs := common(res, opt, bi, "SR", "sscscore Goh scores (research use only)")
	attrs = append(attrs, srDocument(res, src, evidence)...)
	attrs = append(attrs, root.item()...)
	var buf bytes.Buffer
	if err := dcmwrite.WriteDataset(&buf, ComprehensiveSRStorage, opt.InstanceUID, attrs); err != nil {
		return nil, fmt.Errorf("sr: %w", err)
	}
	return buf.Bytes(), nil
}

// check verifies that res can be reported: a source that refers to the
// result's level slices with valid UIDs.
func check(res *cascade.Result) error {
	if res == nil {
		return errors.New("no result")
	}
	src := res.Source
	if src == nil || src.StudyUID == "" {
		return ErrNoSource
	}
	if !ValidUID(src.StudyUID) {
		return fmt.Errorf("the study UID %q is not a valid DICOM UID", src.StudyUID)
	}
	if !ValidUID(res.SeriesUID) {
		return fmt.Errorf("the series UID %q is not a valid DICOM UID (a series without SeriesInstanceUID cannot be referenced)", res.SeriesUID)
	}
	if len(src.Levels) != len(res.Levels) {
		return fmt.Errorf("the source lists %d levels, the result %d", len(src.Levels), len(res.Levels))
	}
	for i, l := range res.Levels {
		s := src.Levels[i]
		if s.Name != l.Name || (s.Slice == nil) != (l.Slice == nil) || (s.Slice != nil && *s.Slice != *l.Slice) {
			return fmt.Errorf("source out of date: level %s is at slice %s in the result but %s %s in its source (make the source again after moving a level)",
				l.Name, fmtSlice(l.Slice), s.Name, fmtSlice(s.Slice))
		}
		if l.Slice != nil && (!ValidUID(s.SOPInstanceUID) || !ValidUID(s.SOPClassUID)) {
			return fmt.Errorf("level %s: slice %d has no valid SOP instance (%q) or class UID (%q)", l.Name, *l.Slice, s.SOPInstanceUID, s.SOPClassUID)
		}
	}
	return nil
}

func fmtSlice(k *int) string {
	if k == nil {
		return "none"
	}
	return fmt.Sprint(*k)
}

// ValidUID reports whether s is a DICOM UID: at most 64 characters, dot
// separated components of digits without leading zeros.
func ValidUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range strings.Split(s, ".") {
		if c == "" || (len(c) > 1 && c[0] == '0') {
			return false
		}
		for _, r := range c {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

// levelImages returns the image of each level's slice (nil without one).
func levelImages(res *cascade.Result) []*Image {
	out := make([]*Image, len(res.Levels))
	for i, l := range res.Levels {
		if l.Slice == nil {
			continue
		}
		s := res.Source.Levels[i]
		out[i] = &Image{SOPClassUID: s.SOPClassUID, SOPInstanceUID: s.SOPInstanceUID, Frame: s.Frame}
	}
	return out
}

// algorithm is the TID 4019 Algorithm Identification of the result.
func algorithm(res *cascade.Result, bi buildinfo.Info) []*node {
	m := res.Model
	params := []string{
		"levels network " + m.Levels.Spec + " sha256 " + m.Levels.SHA256,
		"scores network " + m.Scores.Spec + " sha256 " + m.Scores.SHA256,
		"level decoding: " + m.LevelDecoding,
		"training data: " + m.Training,
	}
	if m.Weights != "" { // a weights folder, not the shipped weights
		params = append(params, "weights: "+m.Weights)
	}
	out := []*node{
		text(relConceptMod, codeAlgorithmName, ModelName),
		text(relConceptMod, codeAlgorithmVer, bi.String()),
	}
	for _, p := range params {
		out = append(out, text(relConceptMod, codeAlgorithmParam, p))
	}
	return out
}

// groupHead is the start of a TID 1501 measurement group: tracking
// identifier and UID, method, finding site and algorithm.
func groupHead(trackingID, trackingUID string, algo []*node) *node {
	g := container(relContains, codeGroup,
		text(relObsContext, codeTrackingID, trackingID),
		uidRef(relObsContext, codeTrackingUID, trackingUID),
		codeNode(relContains, codeMethod, codeGoh),
		codeNode(relConceptMod, codeFindingSite, codeLung),
	)
	g.template = templateGroup
	g.kids = append(g.kids, algo...)
	return g
}

// sources are the INFERRED FROM references of a measurement.
func sources(ims ...*Image) []*node {
	var out []*node
	for _, im := range ims {
		if im != nil {
			out = append(out, image(relInferred, &codeSourceOfMeasure, *im))
		}
	}
	return out
}

// scoreNums are the TOT, GG and RET items (those that are known).
func scoreNums(tot, gg, ret *float64, refs []*node) []*node {
	var out []*node
	for _, s := range []struct {
		c Code
		v *float64
	}{{codeTOT, tot}, {codeGG, gg}, {codeRET, ret}} {
		if s.v != nil {
			out = append(out, num(relContains, s.c, *s.v, unitPercent, refs...))
		}
	}
	return out
}

// TrackingID is the tracking identifier of a level's group: its name and
// anatomical definition.
func TrackingID(level string) string {
	if d, ok := levelDefinitions[level]; ok {
		return level + ": " + d
	}
	return level
}

// readerSuffix ends the status of a level placed by a reader.
const readerSuffix = " (placed by a reader)"

func levelGroup(l cascade.LevelResult, im *Image, docUID string, algo []*node) *node {
	g := groupHead(TrackingID(l.Name), dcmwrite.UID(docUID+"/"+l.Name), algo)
	status := l.Status
	if l.Outside != "" {
		status += " " + l.Outside
	}
	if l.ReaderPlaced {
		status += readerSuffix
	}
	g.kids = append(g.kids, text(relContains, codeStatus, status))
	refs := sources(im)
	if l.ZMM != nil {
		g.kids = append(g.kids, num(relContains, codeLevelZ, *l.ZMM, unitMM, refs...))
	}
	if l.Slice != nil {
		g.kids = append(g.kids, num(relContains, codeSlice, float64(*l.Slice), unitNone))
	}
	g.kids = append(g.kids, scoreNums(l.TOT, l.GG, l.RET, refs)...)
	return g
}

func meanGroup(res *cascade.Result, images []*Image, docUID string, algo []*node) *node {
	g := groupHead(WholeLung, dcmwrite.UID(docUID+"/whole-lung"), algo)
	g.kids = append(g.kids, num(relContains, codeLevelsN, float64(res.Mean.Levels), unitNone))
	var scored []*Image
	for i, l := range res.Levels {
		if l.TOT != nil {
			scored = append(scored, images[i])
		}
	}
	g.kids = append(g.kids, scoreNums(res.Mean.TOT, res.Mean.GG, res.Mean.RET, sources(scored...))...)
	return g
}

// resolve fills opt's defaults: the time, the series number and UIDs
// derived from the scored series, the time and kind ("sr", "pdf").
func (opt Options) resolve(res *cascade.Result, kind string, series int) (Options, buildinfo.Info) {
	if opt.Time.IsZero() {
		opt.Time = time.Now()
	}
	if opt.SeriesNumber == 0 {
		opt.SeriesNumber = series
	}
	bi := buildinfo.Get()
	if opt.Build != nil {
		bi = *opt.Build
	}
	stamp := opt.Time.Format("20060102150405.000000")
	if opt.InstanceUID == "" {
		opt.InstanceUID = dcmwrite.UID("sscscore/" + kind + "/" + res.SeriesUID + "/" + stamp)
	}
	if opt.SeriesUID == "" {
		opt.SeriesUID = dcmwrite.UID("sscscore/" + kind + "-series/" + res.SeriesUID + "/" + stamp)
	}
	return opt, bi
}

// str is a one-valued text attribute value.
func str(v string) []string { return []string{v} }

// common returns the attributes every report of a result has: SOP common,
// patient, general study (copied from the source), series (new), general
// equipment, and the instance number and content date and time.
func common(res *cascade.Result, opt Options, bi buildinfo.Info, modality, description string) []dcmwrite.Attr {
	src := res.Source
	var p cascade.Patient
	if src.Patient != nil {
		p = *src.Patient
	}
	date, clock := opt.Time.Format("20060102"), opt.Time.Format("150405")
	return []dcmwrite.Attr{
		// SOP Common
		{Tag: tag.SpecificCharacterSet, Value: str("ISO_IR 192")},
		{Tag: tag.InstanceCreationDate, Value: str(date)},
		{Tag: tag.InstanceCreationTime, Value: str(clock)},
		// Patient
		{Tag: tag.PatientName, Value: str(p.Name)},
		{Tag: tag.PatientID, Value: str(p.ID)},
		{Tag: tag.PatientBirthDate, Value: str(p.BirthDate)},
		{Tag: tag.PatientSex, Value: str(p.Sex)},
		// General Study
		{Tag: tag.StudyInstanceUID, Value: str(src.StudyUID)},
		{Tag: tag.StudyDate, Value: str(src.StudyDate)},
		{Tag: tag.StudyTime, Value: str(src.StudyTime)},
		{Tag: tag.ReferringPhysicianName, Value: str(src.ReferringPhysician)},
		{Tag: tag.StudyID, Value: str(src.StudyID)},
		{Tag: tag.AccessionNumber, Value: str(src.AccessionNumber)},
		// Series
		{Tag: tag.Modality, Value: str(modality)},
		{Tag: tag.SeriesInstanceUID, Value: str(opt.SeriesUID)},
		{Tag: tag.SeriesNumber, Value: str(fmt.Sprint(opt.SeriesNumber))},
		{Tag: tag.SeriesDescription, Value: str(description)},
		// General Equipment
		{Tag: tag.Manufacturer, Value: str(Manufacturer)},
		{Tag: tag.ManufacturerModelName, Value: str(ModelName)},
		{Tag: tag.SoftwareVersions, Value: str(bi.String())},
		// Instance
		{Tag: tag.InstanceNumber, Value: str("1")},
		{Tag: tag.ContentDate, Value: str(date)},
		{Tag: tag.ContentTime, Value: str(clock)},
	}
}

// instanceRefs are the reference items of the images' instances (never
// frames), each once.
func instanceRefs(images []Image) []dcmwrite.Item {
	var refs []dcmwrite.Item
	listed := map[string]bool{}
	for _, im := range images {
		if !listed[im.SOPInstanceUID] {
			listed[im.SOPInstanceUID] = true
			refs = append(refs, Image{SOPClassUID: im.SOPClassUID, SOPInstanceUID: im.SOPInstanceUID}.refItem())
		}
	}
	return refs
}

// srDocument returns the SR Document Series and General modules'
// attributes beyond the common ones, with the evidence: the referenced
// instances of the scored series.
func srDocument(res *cascade.Result, src *cascade.Source, evidence []Image) []dcmwrite.Attr {
	attrs := []dcmwrite.Attr{
		{Tag: tag.CodingSchemeIdentificationSequence, Value: codingSchemes()},
		{Tag: tag.ReferencedPerformedProcedureStepSequence, Value: []dcmwrite.Item{}},
		{Tag: tag.CompletionFlag, Value: str("COMPLETE")},
		{Tag: tag.VerificationFlag, Value: str("UNVERIFIED")},
		{Tag: tag.PerformedProcedureCodeSequence, Value: []dcmwrite.Item{}},
	}
	if refs := instanceRefs(evidence); len(refs) > 0 {
		attrs = append(attrs, dcmwrite.Attr{Tag: tag.CurrentRequestedProcedureEvidenceSequence, Value: []dcmwrite.Item{{
			{Tag: tag.StudyInstanceUID, Value: str(src.StudyUID)},
			{Tag: tag.ReferencedSeriesSequence, Value: []dcmwrite.Item{{
				{Tag: tag.SeriesInstanceUID, Value: str(res.SeriesUID)},
				{Tag: tag.ReferencedSOPSequence, Value: refs},
			}}},
		}}})
	}
	return attrs
}
