package engine

import (
	"errors"
	"fmt"

	"sscscore/model/sr"
	"sscscore/wasm/internal/protocol"
)

// storeFile is one DICOM file made for the PACS.
type storeFile struct {
	what string // in words, for the page
	data []byte
	uid  string // its SOP Instance UID
}

// srFile builds the DICOM SR (model/sr, TID 1500) of the current result of
// job as it is now (moved levels included). The patient's name, ID,
// birth date and sex are in it only when withPatient is true.
func (e *Engine) srFile(job int, withPatient bool) (*storeFile, error) {
	r := e.Report(withPatient) // a copy of the result
	if r == nil || job != e.job {
		return nil, errors.New("There is no scored scan to report.")
	}
	res := r.Result
	res.Source = sr.SourceOf(e.series, res, withPatient)
	b, err := sr.Build(res, sr.Options{Time: r.Created})
	if err != nil {
		return nil, fmt.Errorf("The DICOM report could not be made: %w", err)
	}
	back, err := sr.Read(b)
	if err != nil {
		return nil, fmt.Errorf("The DICOM report made cannot be read back: %w", err)
	}
	return &storeFile{what: "DICOM SR", data: b, uid: back.SOPInstanceUID}, nil
}

// exportSR makes the "sr" export: the SR as a .dcm file, with the patient
// as the other exports have it (only when asked).
func (e *Engine) exportSR(job int, patient bool) (*protocol.ExportInfo, []byte, error) {
	f, err := e.srFile(job, patient)
	if err != nil {
		return nil, nil, err
	}
	name := "sscscore-" + e.result.computed.Format("20060102-150405") + "-sr.dcm"
	return &protocol.ExportInfo{Name: name, Type: "application/dicom", Binary: true}, f.data, nil
}

// storeFiles are the files a store request sends: the SR, with the
// patient's identity (the PACS files it under the patient of the study
// it came from; without it the PACS would make a separate, anonymous
// patient). The printable report is not sent: the page makes it in the
// browser's print dialogue, not as a file.
func (e *Engine) storeFiles(job int) ([]storeFile, error) {
	f, err := e.srFile(job, true)
	if err != nil {
		return nil, err
	}
	return []storeFile{*f}, nil
}
