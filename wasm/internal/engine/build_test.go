package engine

import (
	"testing"

	"sscscore/model/buildinfo"
)

// TestBuild checks that the worker names the running build (or the one it
// is given) to the page, and in the model card that exports and the
// printed page carry.
func TestBuild(t *testing.T) {
	given := buildinfo.Info{Version: "v1.2.3-dirty", Commit: "0123456789abcdef0123456789abcdef01234567"}
	for _, tt := range []struct {
		name string
		opt  buildinfo.Info
		want buildinfo.Info
	}{
		{"running build", buildinfo.Info{}, buildinfo.Get()},
		{"given build", given, given},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := New(Options{Build: tt.opt}).Ready()
			if r.Version != tt.want.Version || r.Commit != tt.want.Commit {
				t.Errorf("ready names build %q, %q; want %q, %q", r.Version, r.Commit, tt.want.Version, tt.want.Commit)
			}
		})
	}
	c := defaultCascade(t)
	card := modelCard(c)
	want := "sscscore " + c.Info().Build.Version + ", commit " + c.Info().Build.Commit
	var got string
	for _, f := range card.Fields {
		if f[0] == "Build" {
			got = f[1]
		}
	}
	if got != want || c.Info().Build != buildinfo.Get() {
		t.Errorf("model card's build = %q, want %q", got, want)
	}
}
