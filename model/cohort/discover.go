package cohort

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sscscore/model/ingest"
)

// Study is one study found under the roots: every file whose images belong
// to it.
type Study struct {
	// Key names the study in outputs and orders them: its
	// StudyInstanceUID, or SeriesKeyPrefix and the series UID for images
	// without one.
	Key string
	// PatientID is the DICOM PatientID of its first series ("" when none).
	PatientID string
	// Files holds the study's files (zip entries included), sorted by path.
	Files []ingest.File
	// Series lists the UIDs of its usable axial series, sorted.
	Series []string
}

// SeriesKeyPrefix starts the key of a study whose images have no
// StudyInstanceUID: each of their series is a study of its own.
const SeriesKeyPrefix = "series:"

// Outside is a file that belongs to no study: not DICOM, a DICOMDIR, a
// DICOM object without images (a report, a dose screen) or a file that
// could not be read. It is listed in the manifest with its reason.
type Outside struct {
	Path   string      `json:"path"`
	Code   ingest.Code `json:"code"`
	Reason string      `json:"reason"`
}

// Cohort is what Discover found under the roots.
type Cohort struct {
	Roots []string
	// Studies are sorted by key.
	Studies []*Study
	// Outside lists the files of no study, by path.
	Outside []Outside
}

// Discover reads the headers of every file under roots (files, folders read
// recursively, zip archives; a DICOMDIR stands for its folder) and groups
// their image series by study. progress, if not nil, follows the header
// pass.
func Discover(ctx context.Context, roots []string, progress func(ingest.Progress)) (*Cohort, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("cohort: no root given")
	}
	paths := make([]string, len(roots))
	for i, r := range roots {
		paths[i] = r
		if strings.EqualFold(filepath.Base(r), "DICOMDIR") {
			if fi, err := os.Stat(r); err == nil && !fi.IsDir() {
				paths[i] = filepath.Dir(r) // its files are found by content
			}
		}
	}
	files, err := ingest.DiskFiles(paths...)
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	inv, err := ingest.Scan(ctx, files, ingest.Options{Progress: progress})
	if err != nil {
		return nil, fmt.Errorf("cohort: reading headers: %w", err)
	}
	return group(roots, inv), nil
}

// group gathers the files of inv by study.
func group(roots []string, inv *ingest.Inventory) *Cohort {
	c := &Cohort{Roots: append([]string(nil), roots...)}
	byKey := map[string]*Study{}
	seriesStudy := map[string]*Study{}
	for _, s := range inv.Series {
		key := s.StudyUID
		if key == "" {
			key = SeriesKeyPrefix + s.UID
		}
		st := byKey[key]
		if st == nil {
			st = &Study{Key: key, PatientID: strings.TrimSpace(s.PatientID)}
			byKey[key] = st
			c.Studies = append(c.Studies, st)
		}
		if s.Usable && s.Axial {
			st.Series = append(st.Series, s.UID)
		}
		seriesStudy[s.UID] = st
	}
	for _, fr := range inv.Files {
		f, ok := inv.Input(fr.Path)
		st := seriesStudy[fr.Series]
		switch {
		case st != nil && ok:
			st.Files = append(st.Files, f)
		case fr.Code != ingest.CodeArchive:
			c.Outside = append(c.Outside, Outside{Path: fr.Path, Code: fr.Code, Reason: fr.Reason})
		}
	}
	sort.Slice(c.Studies, func(i, j int) bool { return c.Studies[i].Key < c.Studies[j].Key })
	for _, st := range c.Studies {
		sort.Strings(st.Series)
		sort.Slice(st.Files, func(i, j int) bool { return st.Files[i].Path < st.Files[j].Path })
	}
	return c
}

// Fingerprint identifies the study's input: a SHA-256 of its files' paths
// and sizes. A resumed run scores a study again when it changed.
func (s *Study) Fingerprint() string {
	h := sha256.New()
	for _, f := range s.Files {
		fmt.Fprintf(h, "%s\t%d\n", f.Path, f.Size)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Job is one row of the output: a study, scored on its automatically
// chosen series, or one of its series (AllSeries).
type Job struct {
	Study *Study
	// Series is the series to score; "" for the automatic choice.
	Series string
}

// Key identifies the job in outputs: the study key, then the series UID
// after a space when the series was named.
func (j Job) Key() string { return jobKey(j.Study.Key, j.Series) }

func jobKey(study, series string) string {
	if series == "" {
		return study
	}
	return study + " " + series
}

// Jobs returns the jobs of the studies in shard sh: one per study, or with
// allSeries one per usable series (a study without any still has one, which
// reports why). Jobs are in output order.
func (c *Cohort) Jobs(allSeries bool, sh Shard) []Job {
	var jobs []Job
	for _, st := range c.Studies {
		if !sh.Has(st.Key) {
			continue
		}
		if !allSeries || len(st.Series) == 0 {
			jobs = append(jobs, Job{Study: st})
			continue
		}
		for _, uid := range st.Series {
			jobs = append(jobs, Job{Study: st, Series: uid})
		}
	}
	return jobs
}
