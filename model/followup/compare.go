package followup

import (
	"fmt"
	"math"
	"strings"
	"time"

	"sscscore/model/cascade"
)

// Verdicts of a change.
const (
	Increased    = "increased"
	Decreased    = "decreased"
	NoChange     = "no measurable change"
	NotCompared  = "not compared"
	levelMissing = "not scored in both scans"
)

// Input is one of the two scans compared: its result and what identifies it.
type Input struct {
	// Label names the scan for the reader (the path given, a study key).
	Label  string
	Result *cascade.Result
	// Patient is the patient's identity from the DICOM headers (nil when
	// unknown); it is checked against the other scan's and copied into the
	// comparison only with Options.ShowPatient.
	Patient *cascade.Patient
	// StudyDate (YYYYMMDD) overrides the result's Source.StudyDate.
	StudyDate string
}

// Options controls Compare.
type Options struct {
	// ShowPatient puts the patients' identities into the comparison.
	ShowPatient bool
	// Limits are the measurement errors of a change (zero: DefaultLimits).
	Limits *Limits
}

// Scan is one scan of a comparison.
type Scan struct {
	Label     string           `json:"label"`
	SeriesUID string           `json:"series_uid"`
	StudyUID  string           `json:"study_uid,omitempty"`
	StudyDate string           `json:"study_date,omitempty"`
	Patient   *cascade.Patient `json:"patient,omitempty"`
	Result    *cascade.Result  `json:"result"`
}

// Change is the change of one score between the two scans (points of
// percent of the lung area).
type Change struct {
	Baseline *float64 `json:"baseline"`
	FollowUp *float64 `json:"followup"`
	// Delta is FollowUp - Baseline; nil when either is missing.
	Delta *float64 `json:"change"`
	// Limit is the measurement error of a change of this score.
	Limit float64 `json:"limit"`
	// Verdict is Increased or Decreased when |Delta| > Limit, NoChange
	// when it is within, NotCompared when Delta is nil.
	Verdict string `json:"verdict"`
}

// LevelChange is the change at one level, or for the whole lung.
type LevelChange struct {
	Name string `json:"name"`
	// Z (mm) and Slice of the level in each scan (nil when not placed).
	BaselineZ      *float64 `json:"baseline_z_mm"`
	FollowUpZ      *float64 `json:"followup_z_mm"`
	BaselineSlice  *int     `json:"baseline_slice"`
	FollowUpSlice  *int     `json:"followup_slice"`
	BaselineReader bool     `json:"baseline_reader_placed,omitempty"`
	FollowUpReader bool     `json:"followup_reader_placed,omitempty"`
	TOT            Change   `json:"tot"`
	GG             Change   `json:"gg"`
	RET            Change   `json:"ret"`
	// Levels counts the levels averaged (whole lung only).
	Levels int `json:"levels,omitempty"`
	// Summary says the change in words.
	Summary string `json:"summary"`
}

// Comparison is the change between a baseline and a follow-up scan.
type Comparison struct {
	Baseline Scan `json:"baseline"`
	FollowUp Scan `json:"followup"`
	// IntervalMonths is the time between the study dates (months of 30.44
	// days, one decimal); nil when a date is missing.
	IntervalMonths *float64 `json:"interval_months"`
	// Levels holds L1..L5, paired by name; Lung the whole-lung mean over
	// the levels scored in both scans.
	Levels []LevelChange `json:"levels"`
	Lung   LevelChange   `json:"lung"`
	Limits Limits        `json:"limits"`
	// Warnings: the patients differ, a date is missing or out of order, a
	// level is not scored in both scans.
	Warnings []string `json:"warnings"`
	Note     string   `json:"note"`
}

// Note is the statement every comparison carries.
const Note = "A change is flagged when it exceeds the measurement error of a change (the 95 % limit derived from the model's synthetic evaluation, see limits); smaller ones read \"no measurable change\". " + cascade.SyntheticNote

// Compare pairs the levels of two results by name and computes the change
// of TOT, GG and RET per level and for the whole lung (the mean over the
// levels scored in both), the interval between the study dates and the
// patient identity check.
func Compare(base, fu Input, opt Options) (*Comparison, error) {
	if base.Result == nil || fu.Result == nil {
		return nil, fmt.Errorf("followup: compare: a result is missing")
	}
	lim := DefaultLimits()
	if opt.Limits != nil {
		lim = *opt.Limits
	}
	c := &Comparison{Baseline: scanOf(base, opt.ShowPatient), FollowUp: scanOf(fu, opt.ShowPatient),
		Limits: lim, Warnings: []string{}, Note: Note}
	c.Warnings = append(c.Warnings, identityWarnings(base.Patient, fu.Patient)...)
	months, warn := interval(c.Baseline.StudyDate, c.FollowUp.StudyDate)
	c.IntervalMonths = months
	if warn != "" {
		c.Warnings = append(c.Warnings, warn)
	}
	byName := func(r *cascade.Result) map[string]cascade.LevelResult {
		m := map[string]cascade.LevelResult{}
		for _, l := range r.Levels {
			m[l.Name] = l
		}
		return m
	}
	bl, fl := byName(base.Result), byName(fu.Result)
	var sumB, sumF [3]float64
	n := 0
	for _, name := range cascade.LevelNames {
		b, f := bl[name], fl[name]
		lc := LevelChange{Name: name, BaselineZ: b.ZMM, FollowUpZ: f.ZMM, BaselineSlice: b.Slice, FollowUpSlice: f.Slice,
			BaselineReader: b.ReaderPlaced, FollowUpReader: f.ReaderPlaced}
		bs, fs := scoresOf(b), scoresOf(f)
		lc.TOT, lc.GG, lc.RET = change(bs[0], fs[0], lim.Level[0]), change(bs[1], fs[1], lim.Level[1]), change(bs[2], fs[2], lim.Level[2])
		lc.Summary = summary(&lc)
		if bs[0] != nil && fs[0] != nil {
			for i := range 3 {
				sumB[i] += *bs[i]
				sumF[i] += *fs[i]
			}
			n++
		} else {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s %s: %s", name, levelMissing, whyMissing(b, f)))
		}
		c.Levels = append(c.Levels, lc)
	}
	c.Lung = LevelChange{Name: "lung", Levels: n}
	if n > 0 {
		var bm, fm [3]*float64
		for i := range 3 {
			bm[i], fm[i] = fptr(sumB[i]/float64(n)), fptr(sumF[i]/float64(n))
		}
		c.Lung.TOT, c.Lung.GG, c.Lung.RET = change(bm[0], fm[0], lim.Lung[0]), change(bm[1], fm[1], lim.Lung[1]), change(bm[2], fm[2], lim.Lung[2])
	} else {
		c.Lung.TOT, c.Lung.GG, c.Lung.RET = change(nil, nil, lim.Lung[0]), change(nil, nil, lim.Lung[1]), change(nil, nil, lim.Lung[2])
	}
	c.Lung.Summary = summary(&c.Lung)
	if n > 0 && n < cascade.NumLevels {
		c.Lung.Summary += fmt.Sprintf(" (mean of the %d levels scored in both scans)", n)
	}
	return c, nil
}

func fptr(v float64) *float64 { return &v }

func scanOf(in Input, showPatient bool) Scan {
	s := Scan{Label: in.Label, SeriesUID: in.Result.SeriesUID, StudyDate: in.StudyDate, Result: in.Result}
	if src := in.Result.Source; src != nil {
		s.StudyUID = src.StudyUID
		if s.StudyDate == "" {
			s.StudyDate = src.StudyDate
		}
	}
	if showPatient {
		s.Patient = in.Patient
	} else if src := in.Result.Source; src != nil && src.Patient != nil {
		// An earlier result made with --patient: its identity stays out
		// of the comparison too.
		r, c := *in.Result, *src
		c.Patient = nil
		r.Source = &c
		s.Result = &r
	}
	return s
}

// identityWarnings says which parts of the patients' identities differ
// (without naming them: the identities appear only when asked for).
func identityWarnings(a, b *cascade.Patient) []string {
	if a == nil || b == nil {
		return []string{"the patient identity could not be checked (it is missing from a scan; results need `score --json --patient`)"}
	}
	norm := func(s string) string {
		return strings.ToUpper(strings.Join(strings.Fields(strings.ReplaceAll(s, "^", " ")), " "))
	}
	var diff []string
	for _, f := range []struct{ what, x, y string }{
		{"Patient ID", a.ID, b.ID}, {"patient name", a.Name, b.Name}, {"birth date", a.BirthDate, b.BirthDate},
	} {
		x, y := norm(f.x), norm(f.y)
		if x != "" && y != "" && x != y {
			diff = append(diff, f.what)
		}
	}
	if len(diff) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the two scans may not be of the same patient: the %s differ", strings.Join(diff, ", "))}
}

// interval returns the months between two DICOM dates (YYYYMMDD) and a
// warning when it cannot be known or the follow-up comes first.
func interval(b, f string) (*float64, string) {
	tb, errB := time.Parse("20060102", strings.TrimSpace(b))
	tf, errF := time.Parse("20060102", strings.TrimSpace(f))
	if errB != nil || errF != nil {
		return nil, "the interval is unknown: a study date is missing or unreadable"
	}
	m := math.Round(tf.Sub(tb).Hours()/24/(365.25/12)*10) / 10
	if m < 0 {
		return &m, "the follow-up is dated before the baseline"
	}
	return &m, ""
}

func scoresOf(l cascade.LevelResult) [3]*float64 {
	if l.Status != cascade.StatusScored {
		return [3]*float64{}
	}
	return [3]*float64{l.TOT, l.GG, l.RET}
}

func whyMissing(b, f cascade.LevelResult) string {
	var why []string
	for _, x := range []struct {
		scan string
		l    cascade.LevelResult
	}{{"baseline", b}, {"follow-up", f}} {
		if x.l.Status == cascade.StatusScored {
			continue
		}
		msg := x.l.Message
		if msg == "" {
			msg = "not scored"
		}
		why = append(why, fmt.Sprintf("%s: %s", x.scan, msg))
	}
	return strings.Join(why, "; ")
}

func change(b, f *float64, limit float64) Change {
	c := Change{Baseline: b, FollowUp: f, Limit: limit, Verdict: NotCompared}
	if b == nil || f == nil {
		return c
	}
	d := *f - *b
	c.Delta = &d
	switch {
	case d > limit:
		c.Verdict = Increased
	case d < -limit:
		c.Verdict = Decreased
	default:
		c.Verdict = NoChange
	}
	return c
}

// summary says a level's change in words: the scores whose change exceeds
// the measurement error, else "no measurable change".
func summary(l *LevelChange) string {
	cs := [3]*Change{&l.TOT, &l.GG, &l.RET}
	if cs[0].Delta == nil {
		return NotCompared + ": " + levelMissing
	}
	var parts []string
	for i, c := range cs {
		if c.Verdict == Increased || c.Verdict == Decreased {
			parts = append(parts, fmt.Sprintf("%s %s by %.1f points (measurement error %.1f)", ScoreNames[i], c.Verdict, math.Abs(*c.Delta), c.Limit))
		}
	}
	if len(parts) == 0 {
		return NoChange
	}
	return strings.Join(parts, "; ")
}
