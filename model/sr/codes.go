package sr

import (
	"github.com/suyashkumar/dicom/pkg/tag"

	"sscscore/model/dcmwrite"
)

// Code is a coded concept: code value, coding scheme designator and code
// meaning (at most 16, 16 and 64 characters).
type Code struct {
	Value, Scheme, Meaning string
}

// item is the code as an item of a code sequence.
func (c Code) item() dcmwrite.Item {
	return dcmwrite.Item{
		{Tag: tag.CodeValue, Value: []string{c.Value}},
		{Tag: tag.CodingSchemeDesignator, Value: []string{c.Scheme}},
		{Tag: tag.CodeMeaning, Value: []string{c.Meaning}},
	}
}

// Scheme is the project's private coding scheme designator, declared in
// the Coding Scheme Identification Sequence of every report. It names the
// concepts that no standard code covers: Goh's extents at a level and the
// level's place in the scan.
const Scheme = "99SSCSCORE"

// Codes of the report. DCM (DICOM PS3.16), SCT (SNOMED CT) and UCUM codes
// are the standard ones of TID 1500 and its included templates; the
// measurements themselves have no standard code and are private (Scheme).
var (
	// Document and its templates.
	codeReport          = Code{"126000", "DCM", "Imaging Measurement Report"}
	codeLanguage        = Code{"121049", "DCM", "Language of Content Item and Descendants"}
	codeEnglishUS       = Code{"en-US", "RFC5646", "English (United States)"}
	codeObserverType    = Code{"121005", "DCM", "Observer Type"}
	codeDevice          = Code{"121007", "DCM", "Device"}
	codeDeviceUID       = Code{"121012", "DCM", "Device Observer UID"}
	codeDeviceName      = Code{"121013", "DCM", "Device Observer Name"}
	codeDeviceMaker     = Code{"121014", "DCM", "Device Observer Manufacturer"}
	codeDeviceModel     = Code{"121015", "DCM", "Device Observer Model Name"}
	codeDeviceSerial    = Code{"121016", "DCM", "Device Observer Serial Number"}
	codeProcedure       = Code{"121058", "DCM", "Procedure reported"}
	codeCTChest         = Code{"169069000", "SCT", "Computed tomography of chest"}
	codeImageLibrary    = Code{"111028", "DCM", "Image Library"}
	codeLibraryGroup    = Code{"126200", "DCM", "Image Library Group"}
	codeMeasurements    = Code{"126010", "DCM", "Imaging Measurements"}
	codeGroup           = Code{"125007", "DCM", "Measurement Group"}
	codeTrackingID      = Code{"112039", "DCM", "Tracking Identifier"}
	codeTrackingUID     = Code{"112040", "DCM", "Tracking Unique Identifier"}
	codeFindingSite     = Code{"363698007", "SCT", "Finding Site"}
	codeLung            = Code{"39607008", "SCT", "Lung"}
	codeMethod          = Code{"370129005", "SCT", "Measurement Method"}
	codeSourceOfMeasure = Code{"121112", "DCM", "Source of Measurement"}
	codeAlgorithmName   = Code{"111001", "DCM", "Algorithm Name"}
	codeAlgorithmVer    = Code{"111003", "DCM", "Algorithm Version"}
	codeAlgorithmParam  = Code{"111002", "DCM", "Algorithm Parameters"}
	codeQualitative     = Code{"C0034375", "UMLS", "Qualitative Evaluations"}

	// Units (UCUM).
	unitPercent = Code{"%", "UCUM", "Percent"}
	unitMM      = Code{"mm", "UCUM", "Millimeter"}
	unitNone    = Code{"1", "UCUM", "no units"}

	// Private concepts (Scheme).
	codeGoh       = Code{"GOH5", Scheme, "Goh five-level CT extent scoring, automated"}
	codeTOT       = Code{"TOT", Scheme, "Total disease extent, percent of lung area"}
	codeGG        = Code{"GG", Scheme, "Ground glass extent, percent of lung area"}
	codeRET       = Code{"RET", Scheme, "Reticulation extent, percent of lung area"}
	codeLevelZ    = Code{"LEVELZ", Scheme, "Level position, patient z"}
	codeSlice     = Code{"SLICE", Scheme, "Level slice index in series, 0 most cranial"}
	codeLevelsN   = Code{"NLEVELS", Scheme, "Number of levels averaged"}
	codeStatus    = Code{"STATUS", Scheme, "Level status"}
	codeStatement = Code{"INTENDEDUSE", Scheme, "Intended use statement"}
	codeWarning   = Code{"WARNING", Scheme, "Scoring warning"}
	codeNote      = Code{"NOTE", Scheme, "Model note"}
)

// codingSchemes is the Coding Scheme Identification Sequence: the private
// scheme's declaration.
func codingSchemes() []dcmwrite.Item {
	return []dcmwrite.Item{{
		{Tag: tag.CodingSchemeDesignator, Value: []string{Scheme}},
		{Tag: tag.CodingSchemeName, Value: []string{"sscscore measurement concepts"}},
		{Tag: tag.CodingSchemeResponsibleOrganization, Value: []string{"sscscore project"}},
	}}
}

// levelDefinitions are the anatomical definitions of Goh's five levels.
var levelDefinitions = map[string]string{
	"L1": "origin of the great vessels",
	"L2": "main carina",
	"L3": "pulmonary venous confluence",
	"L4": "halfway between L3 and L5",
	"L5": "just above the right hemidiaphragm",
}

// WholeLung is the tracking identifier of the whole-lung group (the mean
// over the scored levels).
const WholeLung = "Whole lung: mean of the scored levels"

// Statement is the intended-use statement every report carries.
const Statement = "Research use only. Not a medical device. The networks are trained on synthetic data."
