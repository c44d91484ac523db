package cohort

import (
	"context"
	"fmt"
	"strings"

	"sscscore/model/cascade"
	"sscscore/model/ingest"
	"sscscore/model/sr"
)

// maxWhy is how many left-out files an error about a study with no usable
// series names.
const maxWhy = 5

// ScoreFiles is `sscscore score` on files: it reads their headers, takes the
// series the app would choose (or the one named by uid) and scores it with
// c, its Source filled from the DICOM headers (no patient identity). It
// returns the inventory of the files (nil when ctx was cancelled
// during the header pass) and the volume scored, so that callers can say
// which files were used. progress, if not nil, receives the cascade's
// stages.
func ScoreFiles(ctx context.Context, c *cascade.Cascade, files []ingest.File, uid string, progress func(stage cascade.Stage, done, total int)) (*cascade.Result, *ingest.LazyVolume, *ingest.Inventory, error) {
	inv, err := ingest.Scan(ctx, files, ingest.Options{})
	if err != nil {
		return nil, nil, nil, err
	}
	if uid == "" && inv.Chosen == "" {
		// say why files were left out (at most a few)
		var why []string
		for _, f := range inv.Files {
			if f.Reason != "" && len(why) < maxWhy {
				why = append(why, fmt.Sprintf("%s: %s", f.Path, f.Reason))
			}
		}
		if len(why) == 0 {
			return nil, nil, inv, ingest.ErrNoSeries
		}
		return nil, nil, inv, fmt.Errorf("%w; %s", ingest.ErrNoSeries, strings.Join(why, "; "))
	}
	src, err := inv.Open(uid)
	if err != nil {
		return nil, nil, inv, err
	}
	res, err := c.Score(ctx, src, cascade.Options{Progress: progress, SeriesUID: src.Series().UID})
	if err != nil {
		return nil, src, inv, err
	}
	res.Source = sr.SourceOf(src.Series(), res, false)
	return res, src, inv, nil
}

// PatID is the CSV's PatID of a scan as `sscscore score --csv` writes it: the
// DICOM PatientID of the series (the CSV falls back on the series UID when
// it is empty).
func PatID(src *ingest.LazyVolume) string {
	if src == nil {
		return ""
	}
	return strings.TrimSpace(src.Series().PatientID)
}
