package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sscscore/model/train"
)

// TestTrainPipeline runs both trainings for a couple of steps on a tiny
// phantom cache, resumes one, exports the weights and evaluates them on
// one unseen phantom: the whole documented pipeline, quickly.
func TestTrainPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("renders phantoms and trains for a few steps")
	}
	tmp := t.TempDir()
	cache := filepath.Join(tmp, "cache")
	lv := filepath.Join(tmp, "levels")
	sc := filepath.Join(tmp, "scores")
	common := []string{"--cache", cache, "--val-every", "2", "--warmup", "1"}
	args := append([]string{"train", "levels", "--out", lv, "--steps", "2", "--batch", "1", "--train-seeds", "1:3", "--val-seeds", "1000001:1000002"}, common...)
	if out, errs, code := run(t, args...); code != 0 || !strings.Contains(out, "levels: 2 steps") {
		t.Fatalf("train levels: got exit %d, want 0 and \"levels: 2 steps\"\n%s\n%s", code, out, errs)
	}
	// resume to 3 steps
	args = append([]string{"train", "levels", "--out", lv, "--steps", "3", "--batch", "1", "--train-seeds", "1:3", "--val-seeds", "1000001:1000002", "--resume"}, common...)
	if out, errs, code := run(t, args...); code != 0 || !strings.Contains(errs, "resumed levels at step 2") {
		t.Fatalf("resume: got exit %d, want 0 and \"resumed levels at step 2\"\n%s\n%s", code, out, errs)
	}
	var st train.State
	b, err := os.ReadFile(filepath.Join(lv, "levels-state.json"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Step != 3 || len(st.Val) != 2 {
		t.Fatalf("state after resume: got %v, step %d, %d validations; want nil, 3, 2", err, st.Step, len(st.Val))
	}
	for _, f := range []string{"levels-best.safetensors", "levels-last.safetensors", "levels-last.adam", "levels-curves.png"} {
		if _, err := os.Stat(filepath.Join(lv, f)); err != nil {
			t.Errorf("os.Stat: got error %v, want nil", err)
		}
	}
	args = append([]string{"train", "scores", "--out", sc, "--steps", "2", "--batch", "2", "--train-seeds", "1:2", "--val-seeds", "1000001:1000002"}, common...)
	if out, errs, code := run(t, args...); code != 0 {
		t.Fatalf("train scores: got exit %d, want 0\n%s\n%s", code, out, errs)
	}
	wd := filepath.Join(tmp, "weights")
	if out, errs, code := run(t, "train", "export", "--levels", lv, "--scores", sc, "--to", wd); code != 0 {
		t.Fatalf("export: got exit %d, want 0\n%s\n%s", code, out, errs)
	}
	for _, f := range []string{"levels.json", "levels.safetensors", "scores.json", "scores.safetensors", "SHA256SUMS"} {
		if _, err := os.Stat(filepath.Join(wd, f)); err != nil {
			t.Errorf("os.Stat: got error %v, want nil", err)
		}
	}
	out, errs, code := run(t, "eval", "--weights", wd, "--synthetic", "1", "--seed-from", "2000001", "--json")
	if code != 0 {
		t.Fatalf("eval: got exit %d, want 0\n%s", code, errs)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Synthetic == nil || ev.Synthetic.Phantoms != 1 {
		t.Fatalf("eval JSON: got %v, want nil and 1 synthetic phantom\n%s", err, out)
	}
}

func TestTrainErrors(t *testing.T) {
	for _, args := range [][]string{
		{"train"},
		{"train", "shapes"},
		{"train", "levels", "--train-seeds", "5:1"},
		{"train", "cache", "levels"},
		{"train", "levels", "--resume", "--out", t.TempDir()},
		{"eval"},
	} {
		if _, _, code := run(t, args...); code == 0 {
			t.Errorf("%v: exit 0, got %v, want != 0", args, code)
		}
	}
}
