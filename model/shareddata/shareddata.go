// Package shareddata finds the project's shared test data for tests: the
// folder testdata in ../shared beside the repository (its README lists the
// real CT series, single slices and the robustness corpus). Tests read the
// data in place; it is never copied into the repository.
//
// When a path is missing the test is skipped, except with the environment
// variable CI=true, where the data is always present and a missing path
// fails the test.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the shared test data folder after checking that each of
// need (slash-separated paths relative to it) exists; with no need, the
// folder's README.md must exist.
func Root(tb testing.TB, need ...string) string {
	tb.Helper()
	root, err := dir()
	if err != nil {
		missing(tb, err)
	}
	if len(need) == 0 {
		need = []string{"README.md"}
	}
	for _, rel := range need {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err != nil {
			missing(tb, err)
		}
	}
	return root
}

// Path returns the path of rel (slash-separated, relative to the shared
// test data folder) after checking that it exists.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	return filepath.Join(Root(tb, rel), filepath.FromSlash(rel))
}

// Find returns the shared test data folder, or an error when it (its
// README.md) is missing. Unlike Root it never skips or fails: for optional
// uses such as fuzz seeds.
func Find() (string, error) {
	root, err := dir()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "README.md")); err != nil {
		return "", err
	}
	return root, nil
}

func missing(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("shared test data missing (CI=true): %v", err)
	}
	tb.Skipf("shared test data missing: %v", err)
}

// dir returns ../shared/testdata relative to the repository root, present
// or not.
func dir() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(root), "shared", "testdata"), nil
}

// RepoRoot returns the repository root: the first folder with a go.mod at
// or above the working directory (a test's working directory is its
// package's folder).
func RepoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", errors.New("repository root (go.mod) not found above the working directory")
		}
		d = parent
	}
}
