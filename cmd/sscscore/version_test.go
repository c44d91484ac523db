package main

import (
	"encoding/json"
	"strings"
	"testing"

	"sscscore/model/buildinfo"
)

// versionJSON runs `sscscore version --json`.
func versionJSON(t *testing.T) versionInfo {
	t.Helper()
	out, errs, code := run(t, "version", "--json")
	if code != 0 {
		t.Fatalf("version --json: exit %d, want 0: %s", code, errs)
	}
	var v versionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version --json: got error %v, want nil\n%s", err, out)
	}
	return v
}

func TestVersion(t *testing.T) {
	v := versionJSON(t)
	want := buildinfo.Get()
	if v.Info != want {
		t.Errorf("version --json build = %+v, want %+v", v.Info, want)
	}
	if len(v.Weights.Levels) != 64 || len(v.Weights.Scores) != 64 {
		t.Errorf("version --json weights = %+v, want two SHA-256 in hex", v.Weights)
	}
	out, errs, code := run(t, "version")
	if code != 0 {
		t.Fatalf("version: exit %d, want 0: %s", code, errs)
	}
	for _, line := range []string{
		"sscscore " + want.Version + "\n",
		"commit   " + want.Commit + "\n",
		"go       " + want.Go + " ",
		"levels sha256:" + v.Weights.Levels + "\n",
		"scores sha256:" + v.Weights.Scores + "\n",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("version printed\n%s\nwant a line with %q", out, line)
		}
	}
	if _, _, code := run(t, "version", "extra"); code == 0 {
		t.Errorf("version extra: exit 0, want an error")
	}
}

// checkSameBuild checks that a result's "model" (from `score --json`)
// names the build and the weights that `sscscore version` prints.
func checkSameBuild(t *testing.T, model map[string]any) {
	t.Helper()
	v := versionJSON(t)
	b, _ := json.Marshal(model)
	var got struct {
		Build  buildinfo.Info `json:"build"`
		Levels struct {
			SHA256 string `json:"sha256"`
		} `json:"levels"`
		Scores struct {
			SHA256 string `json:"sha256"`
		} `json:"scores"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("result's model: got error %v, want nil", err)
	}
	if got.Build != v.Info {
		t.Errorf("result's model.build = %+v, want %+v (sscscore version)", got.Build, v.Info)
	}
	if got.Levels.SHA256 != v.Weights.Levels || got.Scores.SHA256 != v.Weights.Scores {
		t.Errorf("result's weights = %s, %s; want %s, %s (sscscore version)",
			got.Levels.SHA256, got.Scores.SHA256, v.Weights.Levels, v.Weights.Scores)
	}
}
