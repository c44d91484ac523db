// Package buildinfo names the build of sscscore that is running: its version
// and the commit it was built from, so that every result (the CLI's output,
// the page, the worker, the JSON export and the printable report) can say
// exactly which build made it.
//
// build.sh stamps both at link time:
//
//	go build -ldflags "-X sscscore/model/buildinfo.version=$(git describe --always --dirty) \
//	                   -X sscscore/model/buildinfo.commit=$(git rev-parse HEAD)"
//
// A binary built without those flags (go build, go run, go test) falls back
// to what the Go toolchain recorded in it (debug.ReadBuildInfo: the main
// module's version and the vcs.revision and vcs.modified settings, present
// when the build ran in a git checkout without -buildvcs=false), and
// otherwise says "dev" and "unknown".
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at link time with -ldflags "-X sscscore/model/buildinfo.version=...
// -X sscscore/model/buildinfo.commit=...". Empty when not stamped.
var (
	version string
	commit  string
)

// Fallbacks when neither the linker nor the toolchain recorded a value.
const (
	// DevVersion is the version of an unstamped build.
	DevVersion = "dev"
	// UnknownCommit is the commit of a build that recorded none.
	UnknownCommit = "unknown"
)

// Info is the provenance of a build, as it is written into exports and
// reports.
type Info struct {
	// Version is the build's version: `git describe --always --dirty` when
	// build.sh made it (a tag, or an abbreviated commit, with "-dirty" when
	// the tree had uncommitted changes).
	Version string `json:"version"`
	// Commit is the full hash of the commit the build was made from.
	Commit string `json:"commit"`
	// Go is the Go toolchain that compiled it (runtime.Version).
	Go string `json:"go,omitempty"`
}

// Get returns the running build's provenance.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, commit, bi)
}

// Version returns the running build's version ("dev" when unstamped).
func Version() string { return Get().Version }

// Commit returns the full hash of the commit the running build was made
// from ("unknown" when no commit was recorded).
func Commit() string { return Get().Commit }

// String returns the running build as "version (commit)", the commit
// abbreviated to 12 hex digits, e.g. "36d01d3-dirty (36d01d391a4b)".
func String() string { return Get().String() }

// String returns i as "version (commit)", the commit abbreviated to 12
// characters; a build with no known commit is just its version.
func (i Info) String() string {
	if i.Commit == "" || i.Commit == UnknownCommit {
		return i.Version
	}
	return i.Version + " (" + short(i.Commit) + ")"
}

// short abbreviates a commit hash to its first 12 characters.
func short(commit string) string {
	const n = 12
	if len(commit) > n {
		return commit[:n]
	}
	return commit
}

// resolve picks each value from the linker's stamp, else from the build
// information the toolchain recorded (bi may be nil), else the fallback.
func resolve(version, commit string, bi *debug.BuildInfo) Info {
	info := Info{Version: strings.TrimSpace(version), Commit: strings.TrimSpace(commit), Go: runtime.Version()}
	var revision string
	var modified bool
	if bi != nil {
		if bi.GoVersion != "" {
			info.Go = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if info.Commit == "" {
		info.Commit = revision
	}
	if info.Version == "" && bi != nil {
		// The toolchain stamps the main module's version from the VCS
		// (a tag or a pseudo-version, "+dirty" when modified); a build
		// outside a checkout says "(devel)" or nothing.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		} else if revision != "" {
			info.Version = short(revision)
			if modified {
				info.Version += "-dirty"
			}
		}
	}
	if info.Version == "" {
		info.Version = DevVersion
	}
	if info.Commit == "" {
		info.Commit = UnknownCommit
	}
	return info
}
