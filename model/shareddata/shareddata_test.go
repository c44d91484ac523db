package shareddata

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// recorder is a testing.TB that records how a helper ended the test.
type recorder struct {
	testing.TB
	ended string // "skip", "fatal" or ""
	msg   string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(f string, a ...any) {
	r.ended, r.msg = "skip", fmt.Sprintf(f, a...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.ended, r.msg = "fatal", fmt.Sprintf(f, a...)
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine (Skipf and Fatalf end
// it, as in a real test).
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestMissing(t *testing.T) {
	for _, tc := range []struct {
		ci   string
		want string
	}{
		{"", "skip"},
		{"false", "skip"},
		{"true", "fatal"},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := run(t, func(tb testing.TB) { Path(tb, "no/such/file.dcm") })
			if r.ended != tc.want {
				t.Errorf("ended %q (%s), want %q", r.ended, r.msg, tc.want)
			}
		})
	}
}

// TestPresent: an existing path is returned under the root, which is
// ../shared/testdata beside the repository.
func TestPresent(t *testing.T) {
	root, err := dir()
	if err != nil {
		t.Fatalf("dir: got error %v, want nil", err)
	}
	if filepath.Base(root) != "testdata" || filepath.Base(filepath.Dir(root)) != "shared" {
		t.Errorf("dir(): got %s, want a folder .../shared/testdata", root)
	}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("shared test data: got %v, want a README.md (CI=true)", err)
		}
		t.Skip(err)
	}
	r := run(t, func(tb testing.TB) {
		if p := Path(tb, "chest-ct/levels.csv"); p != filepath.Join(root, "chest-ct", "levels.csv") {
			t.Errorf("Path: got %s, want %s", p, filepath.Join(root, "chest-ct", "levels.csv"))
		}
		if got := Root(tb); got != root {
			t.Errorf("Root: %s, want %s", got, root)
		}
		if got, err := Find(); got != root || err != nil {
			t.Errorf("Find: %s, %v, want %s", got, err, root)
		}
	})
	if r.ended != "" {
		t.Errorf("ended %q (%s), want it to run to the end", r.ended, r.msg)
	}
}
