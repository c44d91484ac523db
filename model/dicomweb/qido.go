package dicomweb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// StudyQuery is a QIDO-RS study search. Empty fields match anything; text
// fields use DICOM matching (the server's: usually exact, with * and ?
// wildcards, and case-insensitive for names).
type StudyQuery struct {
	PatientID, PatientName, AccessionNumber string
	// DateFrom and DateTo bound the study date (YYYYMMDD, inclusive);
	// either may be empty.
	DateFrom, DateTo string
	// Modality is matched against the study's modalities: "CT" when
	// empty, any modality when "*".
	Modality string
	// Limit is the largest number of studies to return (0: the server's
	// own limit).
	Limit int
}

// Study is one study found by SearchStudies.
type Study struct {
	UID, PatientID, PatientName, PatientBirthDate, Date, Time, Accession, Description string
	Modalities                                                                        []string
	NumSeries, NumInstances                                                           int
}

// Series is one series of a study, found by SearchSeries.
type Series struct {
	StudyUID, UID, Modality, Description string
	Number, NumInstances                 int
}

// Tags of the DICOM JSON model (PS3.18 F.2) that the searches read.
const (
	tagStudyDate            = "00080020"
	tagStudyTime            = "00080030"
	tagAccessionNumber      = "00080050"
	tagModality             = "00080060"
	tagModalitiesInStudy    = "00080061"
	tagStudyDescription     = "00081030"
	tagSeriesDescription    = "0008103E"
	tagPatientName          = "00100010"
	tagPatientID            = "00100020"
	tagPatientBirthDate     = "00100030"
	tagStudyInstanceUID     = "0020000D"
	tagSeriesInstanceUID    = "0020000E"
	tagSeriesNumber         = "00200011"
	tagNumStudySeries       = "00201206"
	tagNumStudyInstances    = "00201208"
	tagNumSeriesInstances   = "00201209"
	tagFailedSOPSequence    = "00081198"
	tagFailureReason        = "00081197"
	tagReferencedSOPInstUID = "00081155"
)

// maxJSON bounds a QIDO-RS or STOW-RS answer.
const maxJSON = 64 << 20

// acceptJSON is the Accept header of QIDO-RS and STOW-RS requests.
const acceptJSON = "application/dicom+json, application/json;q=0.9"

// SearchStudies searches the server's studies (QIDO-RS GET {base}/studies).
func (c *Client) SearchStudies(ctx context.Context, q StudyQuery) ([]Study, error) {
	v := url.Values{}
	set := func(k, val string) {
		if val = strings.TrimSpace(val); val != "" {
			v.Set(k, val)
		}
	}
	set("PatientID", q.PatientID)
	set("PatientName", q.PatientName)
	set("AccessionNumber", q.AccessionNumber)
	for _, d := range []struct{ name, val string }{{"from", q.DateFrom}, {"to", q.DateTo}} {
		if d.val != "" && !isDate(d.val) {
			return nil, fmt.Errorf("dicomweb: study date %s %q is not a date as YYYYMMDD", d.name, d.val)
		}
	}
	if q.DateFrom != "" || q.DateTo != "" {
		if q.DateFrom == q.DateTo {
			v.Set("StudyDate", q.DateFrom)
		} else {
			v.Set("StudyDate", q.DateFrom+"-"+q.DateTo)
		}
	}
	switch m := strings.TrimSpace(q.Modality); m {
	case "":
		v.Set("ModalitiesInStudy", "CT")
	case "*":
	default:
		v.Set("ModalitiesInStudy", m)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	// Attributes a server need not return unless asked.
	v["includefield"] = []string{tagStudyDescription, tagModalitiesInStudy, tagNumStudySeries, tagNumStudyInstances}
	objs, err := c.qido(ctx, "/studies", v)
	if err != nil {
		return nil, err
	}
	out := make([]Study, 0, len(objs))
	for _, o := range objs {
		out = append(out, Study{
			UID:              o.str(tagStudyInstanceUID),
			PatientID:        o.str(tagPatientID),
			PatientName:      o.str(tagPatientName),
			PatientBirthDate: o.str(tagPatientBirthDate),
			Date:             o.str(tagStudyDate),
			Time:             o.str(tagStudyTime),
			Accession:        o.str(tagAccessionNumber),
			Description:      o.str(tagStudyDescription),
			Modalities:       o.strs(tagModalitiesInStudy),
			NumSeries:        o.int(tagNumStudySeries),
			NumInstances:     o.int(tagNumStudyInstances),
		})
	}
	return out, nil
}

// SearchSeries lists a study's series (QIDO-RS GET {base}/studies/{uid}/series).
func (c *Client) SearchSeries(ctx context.Context, studyUID string) ([]Series, error) {
	if err := checkUID("study UID", studyUID); err != nil {
		return nil, err
	}
	v := url.Values{"includefield": {tagSeriesDescription, tagSeriesNumber, tagNumSeriesInstances}}
	objs, err := c.qido(ctx, "/studies/"+studyUID+"/series", v)
	if err != nil {
		return nil, err
	}
	out := make([]Series, 0, len(objs))
	for _, o := range objs {
		s := Series{
			StudyUID:     o.str(tagStudyInstanceUID),
			UID:          o.str(tagSeriesInstanceUID),
			Modality:     o.str(tagModality),
			Description:  o.str(tagSeriesDescription),
			Number:       o.int(tagSeriesNumber),
			NumInstances: o.int(tagNumSeriesInstances),
		}
		if s.StudyUID == "" {
			s.StudyUID = studyUID
		}
		out = append(out, s)
	}
	return out, nil
}

// qido runs a QIDO-RS search and returns the answer's objects.
func (c *Client) qido(ctx context.Context, path string, q url.Values) ([]object, error) {
	resp, target, err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, accept: acceptJSON}, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil // no match
	}
	return readObjects(ctx, resp, http.MethodGet, target)
}

// readObjects reads a JSON array of DICOM JSON objects, or one object.
func readObjects(ctx context.Context, resp *http.Response, method, target string) ([]object, error) {
	ct := resp.Header.Get("Content-Type")
	if mt := mediaType(ct); mt != "application/dicom+json" && mt != "application/json" {
		return nil, badResponse(method, target, "its content type is %q, not application/dicom+json", ct)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJSON+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, target, ctx.Err())
		}
		return nil, fmt.Errorf("%s %s: %w: %w", method, target, ErrTruncated, err)
	}
	if len(b) > maxJSON {
		return nil, badResponse(method, target, "the answer is larger than %d MB", maxJSON>>20)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil // some servers answer 200 with an empty body for no match
	}
	var objs []object
	if b = bytes.TrimSpace(b); b[0] == '{' {
		// A single data set, as STOW-RS answers.
		var o object
		if err := json.Unmarshal(b, &o); err != nil {
			return nil, badResponse(method, target, "its JSON cannot be read (%v)", err)
		}
		return []object{o}, nil
	}
	if err := json.Unmarshal(b, &objs); err != nil {
		return nil, badResponse(method, target, "its JSON cannot be read (%v)", err)
	}
	return objs, nil
}

// object is one data set in the DICOM JSON model: attributes by tag
// (8 hexadecimal digits).
type object map[string]attribute

// attribute is one attribute of the DICOM JSON model.
type attribute struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value"`
}

// strs returns the attribute's values as text: strings as they are,
// numbers in their JSON form, person names by their alphabetic group.
func (o object) strs(tag string) []string {
	a, ok := o[strings.ToUpper(tag)]
	if !ok {
		a = o[strings.ToLower(tag)]
	}
	var out []string
	for _, raw := range a.Value {
		out = append(out, valueText(raw))
	}
	return out
}

// str returns the attribute's first value as text ("" when absent).
func (o object) str(tag string) string {
	if v := o.strs(tag); len(v) > 0 {
		return strings.TrimSpace(v[0])
	}
	return ""
}

// int returns the attribute's first value as an integer (0 when absent or
// not a number).
func (o object) int(tag string) int {
	s := o.str(tag)
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return int(f)
	}
	return 0
}

// valueText returns one JSON value of an attribute as text.
func valueText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{':
		var pn struct{ Alphabetic, Ideographic, Phonetic string }
		if json.Unmarshal(raw, &pn) == nil {
			switch {
			case pn.Alphabetic != "":
				return pn.Alphabetic
			case pn.Ideographic != "":
				return pn.Ideographic
			}
			return pn.Phonetic
		}
	}
	return string(raw) // a number
}

// isDate reports whether s is a date as YYYYMMDD.
func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	m, _ := strconv.Atoi(s[4:6])
	d, _ := strconv.Atoi(s[6:8])
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}
