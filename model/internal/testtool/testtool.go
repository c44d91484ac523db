// Package testtool finds the external programs that tests check the
// project's files with (dciodvfy, dsrdump, pdftotext...). A missing program
// skips the test, except with the environment variable CI=true, where CI
// installs it (.ci/run) and its absence fails the test. Under js/wasm no
// program can run, so the test is skipped there.
package testtool

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// Path returns the path of the program name, from the Debian package pkg.
func Path(tb testing.TB, name, pkg string) string {
	tb.Helper()
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		tb.Skipf("%s cannot run under %s", name, runtime.GOOS)
	}
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is missing (Debian package %s): %v", name, pkg, err)
		}
		tb.Skipf("%s is missing (Debian package %s)", name, pkg)
	}
	return p
}
