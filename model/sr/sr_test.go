package sr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"sscscore/model/buildinfo"
	"sscscore/model/cascade"
	"sscscore/model/cascade/cascadetest"
)

// handResult is cascadetest's result with every kind of level, the
// patient and two warnings.
func handResult() *cascade.Result {
	return cascadetest.Result(true, []string{"slices are 5 mm thick", "a gap of 10 mm"})
}

func k(v int) *int { return &v }

var fixedTime = time.Date(2026, 12, 8, 1, 2, 3, 0, time.UTC)

// roundTrip builds the report of res, reads it back, checks that it holds
// exactly what res says and returns it with the file.
func roundTrip(t *testing.T, res *cascade.Result, opt Options) (*Report, []byte) {
	t.Helper()
	data, err := Build(res, opt)
	if err != nil {
		t.Fatalf("Build: got error %v, want nil", err)
	}
	rep, err := Read(data)
	if err != nil {
		t.Fatalf("Read: got error %v, want nil", err)
	}
	checkRoundTrip(t, res, rep)
	return rep, data
}

// checkRoundTrip fails unless rep holds exactly what res says.
func checkRoundTrip(t *testing.T, res *cascade.Result, rep *Report) {
	t.Helper()
	if rep.StudyUID != res.Source.StudyUID || rep.ScoredSeriesUID != res.SeriesUID {
		t.Errorf("study/series: got %s / %s, want %s / %s", rep.StudyUID, rep.ScoredSeriesUID, res.Source.StudyUID, res.SeriesUID)
	}
	if len(rep.Levels) != len(res.Levels) {
		t.Fatalf("got %d levels, want %d", len(rep.Levels), len(res.Levels))
	}
	eq := func(a, b *float64) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }
	for i, w := range res.Levels {
		g := rep.Levels[i]
		if g.ReaderPlaced != w.ReaderPlaced {
			t.Errorf("%s: got placed by a reader %v, want %v", w.Name, g.ReaderPlaced, w.ReaderPlaced)
		}
		if g.Name != w.Name || g.Status != w.Status || g.Outside != w.Outside || !eq(g.ZMM, w.ZMM) ||
			!eq(g.TOT, w.TOT) || !eq(g.GG, w.GG) || !eq(g.RET, w.RET) || fmtSlice(g.Slice) != fmtSlice(w.Slice) {
			t.Errorf("level %d: got %s %s %s z %v slice %s TOT/GG/RET %v/%v/%v, want %s %s %s z %v slice %s TOT/GG/RET %v/%v/%v", i,
				g.Name, g.Status, g.Outside, fp(g.ZMM), fmtSlice(g.Slice), fp(g.TOT), fp(g.GG), fp(g.RET),
				w.Name, w.Status, w.Outside, fp(w.ZMM), fmtSlice(w.Slice), fp(w.TOT), fp(w.GG), fp(w.RET))
		}
		s := res.Source.Levels[i]
		var want *Image
		if w.ZMM != nil {
			want = &Image{s.SOPClassUID, s.SOPInstanceUID, s.Frame}
		}
		if !reflect.DeepEqual(g.Image, want) {
			t.Errorf("%s: image %+v, want %+v", w.Name, g.Image, want)
		}
		if g.TrackingID != TrackingID(w.Name) {
			t.Errorf("%s: tracking identifier %q, want %q", w.Name, g.TrackingID, TrackingID(w.Name))
		}
	}
	m := res.Mean
	if rep.Mean.Levels != m.Levels || !eq(rep.Mean.TOT, m.TOT) || !eq(rep.Mean.GG, m.GG) || !eq(rep.Mean.RET, m.RET) {
		t.Errorf("whole lung: got %d levels %v/%v/%v, want %d levels %v/%v/%v", rep.Mean.Levels, fp(rep.Mean.TOT), fp(rep.Mean.GG), fp(rep.Mean.RET),
			m.Levels, fp(m.TOT), fp(m.GG), fp(m.RET))
	}
	if len(rep.Mean.Images) != m.Levels {
		t.Errorf("whole lung inferred from %d images, want %d", len(rep.Mean.Images), m.Levels)
	}
	if rep.Statement != Statement || rep.Note != res.Note || strings.Join(rep.Warnings, "|") != strings.Join(res.Warnings, "|") {
		t.Errorf("texts: got %q %q %q, want %q %q %q", rep.Statement, rep.Note, rep.Warnings, Statement, res.Note, res.Warnings)
	}
	params := strings.Join(rep.Algorithm.Parameters, "|")
	if rep.Algorithm.Name != ModelName || !strings.Contains(params, res.Model.Levels.SHA256) || !strings.Contains(params, res.Model.Scores.SHA256) {
		t.Errorf("algorithm %+v, want %s with both weight hashes", rep.Algorithm, ModelName)
	}
	var wantP cascade.Patient
	if res.Source.Patient != nil {
		wantP = *res.Source.Patient
	}
	if rep.Patient != wantP {
		t.Errorf("patient %+v, want %+v", rep.Patient, wantP)
	}
}

func fp(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func TestRoundTrip(t *testing.T) {
	res := handResult()
	bi := buildinfo.Info{Version: "v1.2.3", Commit: strings.Repeat("0123456789", 4)}
	rep, data := roundTrip(t, res, Options{Time: fixedTime, Build: &bi})
	if rep.Algorithm.Version != bi.String() {
		t.Errorf("algorithm version %q, want %q", rep.Algorithm.Version, bi.String())
	}
	if rep.ContentDate != "20261208" || rep.ContentTime != "010203" {
		t.Errorf("content date/time %s %s, want 20261208 010203", rep.ContentDate, rep.ContentTime)
	}
	again, err := Build(res, Options{Time: fixedTime, Build: &bi})
	if err != nil || string(again) != string(data) {
		t.Errorf("the same result and options: got a different file (err %v), want the same", err)
	}
	later, err := Build(res, Options{Time: fixedTime.Add(time.Second), Build: &bi})
	if err != nil {
		t.Fatalf("Build: got error %v, want nil", err)
	}
	if rl, _ := Read(later); rl == nil || rl.SOPInstanceUID == rep.SOPInstanceUID || rl.SeriesUID == rep.SeriesUID {
		t.Errorf("a report made later: got the same UIDs %s, want new ones", rep.SOPInstanceUID)
	}

	// Without the patient's identity, the patient module is empty.
	res.Source.Patient = nil
	_, data = roundTrip(t, res, Options{Time: fixedTime})
	if strings.Contains(string(data), "Anna") || strings.Contains(string(data), "P001") {
		t.Errorf("a report made without the patient: got the patient's name or ID in it, want neither")
	}
}

func TestBuildRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(r *cascade.Result)
		want  string
	}{
		{"no source", func(r *cascade.Result) { r.Source = nil }, "no source"},
		{"moved level", func(r *cascade.Result) { r.Levels[2].Slice = k(18) }, "source out of date: level L3"},
		{"series without UID", func(r *cascade.Result) { r.SeriesUID = "nouid-0123abcd" }, "not a valid DICOM UID"},
		{"bad study UID", func(r *cascade.Result) { r.Source.StudyUID = "1.2.03" }, "not a valid DICOM UID"},
		{"missing instance", func(r *cascade.Result) { r.Source.Levels[1].SOPInstanceUID = "" }, "level L2: slice 3 has no valid SOP instance"},
		{"levels differ", func(r *cascade.Result) { r.Source.Levels = r.Source.Levels[:4] }, "the source lists 4 levels, the result 5"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := handResult()
			c.spoil(res)
			_, err := Build(res, Options{Time: fixedTime})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Build: got error %v, want one saying %q", err, c.want)
			}
			if c.name == "no source" && !errors.Is(err, ErrNoSource) {
				t.Errorf("got %v, want ErrNoSource", err)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a readable DICOM file"},
		{"text", []byte("hello, this is not DICOM at all"), "not a readable DICOM file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Read(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Read: got error %v, want one saying %q", err, c.want)
			}
		})
	}
}

func TestValidUID(t *testing.T) {
	for _, c := range []struct {
		uid  string
		want bool
	}{
		{"1.2.840.10008.5.1.4.1.1.88.33", true},
		{"2.25.0", true},
		{"", false},
		{"1..2", false},
		{"1.02", false},
		{"1.2.a", false},
		{"nouid-1234", false},
		{"1." + strings.Repeat("1", 63), false},
	} {
		if got := ValidUID(c.uid); got != c.want {
			t.Errorf("ValidUID(%q) = %v, want %v", c.uid, got, c.want)
		}
	}
}
