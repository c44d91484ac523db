package ingest

import (
	"os"
	"path/filepath"
	"testing"
)

// testdataDir returns ../shared/testdata relative to the repository root,
// skipping the test when it is missing (failing when CI=true).
func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
	td := filepath.Join(dir, "..", "shared", "testdata")
	if _, err := os.Stat(filepath.Join(td, "README.md")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("test data missing at %s (CI=true)", td)
		}
		t.Skipf("test data missing at %s", td)
	}
	return td
}
