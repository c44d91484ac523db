package phantom

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"sscscore/model/dcmwrite"
	"sscscore/model/volume"
)

// File is one DICOM file held in memory.
type File struct {
	Name string
	Data []byte
}

// SeriesMeta returns the DICOM metadata of the phantom's series: CT Image
// Storage with the sampled kernel name, signed or unsigned pixels
// (RescaleIntercept -1024 either way) and UIDs derived from the seed, so
// that writing the same phantom twice gives identical files.
func (p *Phantom) SeriesMeta(patientID string) dcmwrite.SeriesMeta {
	s := &p.Scanner
	desc := fmt.Sprintf("sscscore phantom seed %d, %.3g mm, %s", p.Seed, s.SliceSpacing, s.Kernel)
	if p.Opt.Disease {
		desc += ", disease"
	}
	uidSeed := fmt.Sprintf("sscscore-phantom/%d/%s/%v/%v/%v/%d", p.Seed, patientID, s.SliceSpacing, s.PixelSpacing, p.Opt.Disease, s.Matrix)
	if p.Opt.VisitMonths != 0 || p.Opt.Growth != 0 {
		uidSeed += fmt.Sprintf("/visit %d/growth %v", p.Opt.VisitMonths, p.Opt.Growth)
		desc += fmt.Sprintf(", follow-up %d months", p.Opt.VisitMonths)
	}
	return dcmwrite.SeriesMeta{
		PatientID:         patientID,
		PatientName:       "Phantom^" + patientID,
		SeriesDescription: desc,
		Kernel:            s.Kernel,
		Manufacturer:      "sscscore phantom",
		Signed:            s.Signed,
		Intercept:         -1024,
		Slope:             1,
		UIDSeed:           uidSeed,
		StudyDate:         p.StudyDate(),
	}
}

// StudyDate is the phantom's study date (YYYYMMDD): 1 January 2024 for
// the first visit, Options.VisitMonths later for a follow-up.
func (p *Phantom) StudyDate() string {
	return time.Date(2024, time.January+time.Month(p.Opt.VisitMonths), 1, 0, 0, 0, 0, time.UTC).Format("20060102")
}

// WriteDICOM renders the phantom on its native grid and writes it as a
// DICOM series into dir (one file per slice, CT00001.dcm first = most
// cranial). progress, if not nil, is called after each file.
func (p *Phantom) WriteDICOM(ctx context.Context, dir, patientID string, progress func(done, total int)) ([]string, error) {
	g := p.Geometry()
	paths, err := dcmwrite.WriteSeries(ctx, dir, p.Source(g), p.SeriesMeta(patientID), progress)
	if err != nil {
		return paths, fmt.Errorf("phantom %d: %w", p.Seed, err)
	}
	return paths, nil
}

// DICOMFiles renders the phantom on its native grid and returns the
// series as DICOM files in memory (the same bytes WriteDICOM writes).
func (p *Phantom) DICOMFiles(ctx context.Context, patientID string, progress func(done, total int)) ([]File, error) {
	g := p.Geometry()
	return encodeSeries(ctx, p.Source(g), p.SeriesMeta(patientID), progress)
}

func encodeSeries(ctx context.Context, src volume.Source, meta dcmwrite.SeriesMeta, progress func(done, total int)) ([]File, error) {
	g := src.Geometry()
	out := make([]File, 0, g.Nz)
	var buf bytes.Buffer
	for k := 0; k < g.Nz; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		buf.Reset()
		if err := dcmwrite.WriteSlice(&buf, src, k, meta); err != nil {
			return nil, err
		}
		out = append(out, File{Name: fmt.Sprintf("CT%05d.dcm", k+1), Data: append([]byte(nil), buf.Bytes()...)})
		if progress != nil {
			progress(k+1, g.Nz)
		}
	}
	return out, nil
}

// DemoSeed is the seed of the built-in demo case.
const DemoSeed = 20240101

// Demo returns the built-in demo case: a phantom with moderate disease on
// 5 mm slices (about 60 slices, about 30 MB as DICOM), without intravenous
// contrast, rendered at reduced quality (one sub-slice per slice, anatomy
// at half resolution) so that it is generated in seconds even in a
// browser.
func Demo() *Phantom {
	p := New(DemoSeed, Options{
		Disease:      true,
		Severity:     0.45,
		SliceSpacing: Range{5, 5},
		Contrast:     ContrastNone,
		Signed:       1,
	})
	p.Quality = Quality{MaxSubSlices: 1, Downsample: 2, FieldStep: 4}
	return p
}

// DemoFiles renders the demo case as DICOM files in memory, to be pushed
// through the normal ingestion path exactly like files dropped by a user.
func DemoFiles(ctx context.Context, progress func(done, total int)) ([]File, error) {
	return Demo().DICOMFiles(ctx, "SSCSCORE-DEMO", progress)
}
