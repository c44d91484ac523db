package sr

import (
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
)

// SourceOf returns the source of res, scored on series s: the study's
// identity and the DICOM instance of each level's slice. The patient's
// name, ID, birth date and sex are in it only when withPatient is true.
// Call it again after a level is moved (Build checks that the source's
// slices are the result's).
func SourceOf(s *ingest.Series, res *cascade.Result, withPatient bool) *cascade.Source {
	t := strings.TrimSpace
	src := &cascade.Source{
		StudyUID: t(s.StudyUID), StudyID: t(s.StudyID), StudyDate: t(s.StudyDate), StudyTime: t(s.StudyTime),
		AccessionNumber: t(s.AccessionNumber), ReferringPhysician: t(s.ReferringPhysician),
		Levels: make([]cascade.SourceImage, len(res.Levels)),
	}
	if withPatient {
		src.Patient = &cascade.Patient{Name: t(s.PatientName), ID: t(s.PatientID), BirthDate: t(s.PatientBirthDate), Sex: t(s.PatientSex)}
	}
	for i, l := range res.Levels {
		im := cascade.SourceImage{Name: l.Name}
		if l.Slice != nil {
			k := *l.Slice
			im.Slice = &k
			if inst, ok := s.SliceInstance(k); ok {
				im.SOPClassUID, im.SOPInstanceUID, im.Frame = inst.SOPClassUID, inst.SOPInstanceUID, inst.Frame
			}
		}
		src.Levels[i] = im
	}
	return src
}
