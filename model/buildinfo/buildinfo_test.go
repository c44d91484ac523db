package buildinfo

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	const rev = "36d01d391a4b4db3913d0259706ac87697f926ee"
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "sscscore", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            Info
		wantString      string
	}{
		{"stamped", "v0.2.0", rev, vcs("false"), Info{"v0.2.0", rev, "go1.27.3"}, "v0.2.0 (36d01d391a4b)"},
		{"stamped wins over vcs", "abc1234-dirty", "abc1234ffff", vcs("true"), Info{"abc1234-dirty", "abc1234ffff", "go1.27.3"}, "abc1234-dirty (abc1234ffff)"},
		{"stamp trimmed", " v1 \n", " " + rev + "\n", nil, Info{"v1", rev, runtime.Version()}, "v1 (36d01d391a4b)"},
		{"vcs clean", "", "", vcs("false"), Info{"36d01d391a4b", rev, "go1.27.3"}, "36d01d391a4b (36d01d391a4b)"},
		{"vcs modified", "", "", vcs("true"), Info{"36d01d391a4b-dirty", rev, "go1.27.3"}, "36d01d391a4b-dirty (36d01d391a4b)"},
		{"module version", "", "", &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Version: "v0.0.0-20261207-36d01d391a4b+dirty"}},
			Info{"v0.0.0-20261207-36d01d391a4b+dirty", UnknownCommit, "go1.27.3"}, "v0.0.0-20261207-36d01d391a4b+dirty"},
		{"nothing recorded", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Info{DevVersion, UnknownCommit, runtime.Version()}, DevVersion},
		{"no build info", "", "", nil, Info{DevVersion, UnknownCommit, runtime.Version()}, DevVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.version, tt.commit, tt.bi)
			if got != tt.want {
				t.Errorf("resolve(%q, %q) = %+v, want %+v", tt.version, tt.commit, got, tt.want)
			}
			if s := got.String(); s != tt.wantString {
				t.Errorf("String() = %q, want %q", s, tt.wantString)
			}
		})
	}
}

func TestShortCommit(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"36d01d391a4b4db3913d0259706ac87697f926ee", "36d01d391a4b"},
		{"36d01d3", "36d01d3"},
		{"", ""},
	} {
		if got := short(tt.in); got != tt.want {
			t.Errorf("short(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRunning checks the package's own accessors against Get in the test
// binary, which no linker flag stamped.
func TestRunning(t *testing.T) {
	i := Get()
	if Version() != i.Version || Commit() != i.Commit || String() != i.String() {
		t.Errorf("Version, Commit, String = %q, %q, %q; want %q, %q, %q", Version(), Commit(), String(), i.Version, i.Commit, i.String())
	}
	if i.Version == "" || i.Commit == "" {
		t.Errorf("Get() = %+v, want a version and a commit (or their fallbacks)", i)
	}
}

// TestLinkerStamp builds a program with the -X flags build.sh passes and
// checks that the program reports them; without the flags (and without VCS
// stamping) it reports the fallbacks.
func TestLinkerStamp(t *testing.T) {
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("needs the go command")
	}
	// go test puts its own toolchain first on the PATH.
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		ldflags string
		want    []string
	}{
		{"stamped", "-X sscscore/model/buildinfo.version=v9.8.7-dirty -X sscscore/model/buildinfo.commit=" + rev,
			[]string{"v9.8.7-dirty", rev, "v9.8.7-dirty (0123456789ab)"}},
		{"unstamped", "", []string{DevVersion, UnknownCommit, DevVersion}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "printbuild")
			cmd := exec.Command(gobin, "build", "-buildvcs=false", "-ldflags", tt.ldflags, "-o", bin, "./testdata/printbuild")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: got error %v, want nil\n%s", err, out)
			}
			out, err := exec.Command(bin).Output()
			if err != nil {
				t.Fatalf("run printbuild: got error %v, want nil", err)
			}
			got := strings.Split(strings.TrimSpace(string(out)), "\n")
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("printbuild printed %q, want %q", got, tt.want)
			}
		})
	}
}
