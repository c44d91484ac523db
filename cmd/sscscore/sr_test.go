package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/cascade"
	"sscscore/model/shareddata"
	"sscscore/model/sr"
)

// TestSRFromResult writes the SR of an earlier `score --json` result, with
// and without the patient's identity, and reads every number back.
func TestSRFromResult(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	tmp := t.TempDir()
	for _, c := range []struct {
		name    string
		flags   []string
		patient bool
	}{
		{"anonymous", nil, false},
		{"with patient", []string{"--patient"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := run(t, append(append([]string{"score", "--json", "-q"}, c.flags...), dir)...)
			if code != 0 {
				t.Fatalf("score: exit %d: %s, want 0", code, errs)
			}
			if got := strings.Contains(out, `"patient"`); got != c.patient {
				t.Errorf("JSON holds the patient: %v, want %v", got, c.patient)
			}
			in := filepath.Join(tmp, strings.ReplaceAll(c.name, " ", "-")+".json")
			if err := os.WriteFile(in, []byte(out), 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
			var res cascade.Result
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("json.Unmarshal: got error %v, want nil", err)
			}
			msg, errs, code := run(t, "sr", in)
			if code != 0 {
				t.Fatalf("sr: exit %d: %s, want 0", code, errs)
			}
			path := strings.TrimSuffix(in, ".json") + "-sr.dcm"
			if !strings.HasPrefix(msg, path+":") {
				t.Errorf("sr says %q, want it to name %s", msg, path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("os.ReadFile: got error %v, want nil", err)
			}
			rep, err := sr.Read(data)
			if err != nil {
				t.Fatalf("sr.Read: got error %v, want nil", err)
			}
			if len(rep.Levels) != len(res.Levels) || rep.StudyUID != res.Source.StudyUID {
				t.Fatalf("report: %d levels of study %s, want %d of %s", len(rep.Levels), rep.StudyUID, len(res.Levels), res.Source.StudyUID)
			}
			for i, l := range res.Levels {
				g := rep.Levels[i]
				for _, p := range [][2]*float64{{g.ZMM, l.ZMM}, {g.TOT, l.TOT}, {g.GG, l.GG}, {g.RET, l.RET}} {
					if (p[0] == nil) != (p[1] == nil) || (p[0] != nil && *p[0] != *p[1]) {
						t.Errorf("%s: got %v in the report, want %v (the result)", l.Name, fmtNum(p[0]), fmtNum(p[1]))
					}
				}
			}
			if wantID := map[bool]string{true: "Lung_Dx-A0002", false: ""}[c.patient]; rep.Patient.ID != wantID {
				t.Errorf("report's patient ID %q, want %q", rep.Patient.ID, wantID)
			}
		})
	}
}

func fmtNum(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

func TestSRBadInput(t *testing.T) {
	tmp := t.TempDir()
	noSource := `{"levels":[{"name":"L1"},{"name":"L2"},{"name":"L3"},{"name":"L4"},{"name":"L5"}],"series_uid":"1.2.3"}`
	for _, c := range []struct {
		name, content, want string
	}{
		{"garbage.json", "not json", "not a `sscscore score --json` result"},
		{"levels.json", `{"levels":[]}`, "0 levels, want 5"},
		{"nosource.json", noSource, "no source"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(tmp, c.name)
			if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
				t.Fatalf("os.WriteFile: got error %v, want nil", err)
			}
			_, errs, code := run(t, "sr", p)
			if code == 0 || !strings.Contains(errs, p) || !strings.Contains(errs, c.want) {
				t.Errorf("sr %s: exit %d, stderr %q; want a failure naming the file and saying %q", c.name, code, errs, c.want)
			}
		})
	}
	_, errs, code := run(t, "sr", filepath.Join(tmp, "missing.json"))
	if code == 0 || !strings.Contains(errs, "missing.json") {
		t.Errorf("sr of a missing file: got exit %d, stderr %q; want a failure naming missing.json", code, errs)
	}
}
