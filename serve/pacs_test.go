package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// pageWithTags is an index.html with the two tags serve fills in.
const pageWithTags = `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self'; img-src 'self'">` +
	`<meta name="sscscore-dicomweb" content=""><title>t</title>`

func pacsFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html": {Data: []byte(pageWithTags)},
		"sw.js":      {Data: []byte("const BUILD = \"" + swBuildMarker + "\";\nconst ASSETS = [" + swAssetsMarker + "];\n")},
	}
}

func parsePACS(t *testing.T, args ...string) (pacsConfig, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg := pacsFlags(fs)
	if err := fs.Parse(args); err != nil {
		return pacsConfig{}, err
	}
	return cfg()
}

func TestPACSFlags(t *testing.T) {
	for _, tc := range []struct {
		args             []string
		wantBases, where string // bases served, or the error's words
	}{
		{nil, "", ""},
		{[]string{"-dicomweb", "http://pacs:8042/dicom-web/", "-dicomweb", "https://other.example/wado"}, "http://pacs:8042/dicom-web https://other.example/wado", ""},
		{[]string{"-dicomweb-proxy", "http://127.0.0.1:8042/dicom-web", "-dicomweb", "http://pacs/dw"}, "/dicom-web http://pacs/dw", ""},
		{[]string{"-dicomweb", "pacs:8042"}, "", "must start with http://"},
		{[]string{"-dicomweb", "http://u:secret@pacs/dw"}, "", "no credentials in the URL"},
		{[]string{"-dicomweb", "http://pacs/dw?x=1"}, "", "without ? or #"},
		{[]string{"-dicomweb-proxy-user", "u"}, "", "need -dicomweb-proxy"},
		{[]string{"-dicomweb-proxy", "http://pacs/dw", "-dicomweb-proxy-user", "u", "-dicomweb-proxy-token", "t"}, "", "not both"},
	} {
		cfg, err := parsePACS(t, tc.args...)
		switch {
		case tc.where != "":
			if err == nil || !strings.Contains(err.Error(), tc.where) || strings.Contains(err.Error(), "secret") {
				t.Errorf("%q: got error %v, want one saying %q (without the password)", tc.args, err, tc.where)
			}
		case err != nil:
			t.Errorf("%q: got error %v, want nil", tc.args, err)
		case cfg.bases(false) != tc.wantBases:
			t.Errorf("%q: bases %q, want %q", tc.args, cfg.bases(false), tc.wantBases)
		}
	}
}

func TestProxyCredentialsFromEnvironment(t *testing.T) {
	t.Setenv(envProxyPassword, "from-env")
	cfg, err := parsePACS(t, "-dicomweb-proxy", "http://pacs/dw", "-dicomweb-proxy-user", "u")
	if err != nil || cfg.proxyAuth != (proxyAuth{user: "u", password: "from-env"}) {
		t.Errorf("got %+v, %v; want user u with the password of $%s", cfg.proxyAuth, err, envProxyPassword)
	}
}

// The page names its DICOMweb servers in its meta tag, and both its CSP
// meta tag and the CSP header let it reach the direct ones, and only them.
func TestPageConfig(t *testing.T) {
	cfg, err := parsePACS(t, "-dicomweb-proxy", "http://127.0.0.1:8042/dicom-web", "-dicomweb", "http://pacs:8042/dicom-web", "-dicomweb", "https://pacs:8042/other")
	if err != nil {
		t.Fatalf("parsePACS: got error %v, want nil", err)
	}
	s, err := loadSiteWith(pacsFS(), cfg, false)
	if err != nil {
		t.Fatalf("loadSiteWith: got error %v, want nil", err)
	}
	if len(s.warnings) > 0 {
		t.Errorf("warnings %q, want none", s.warnings)
	}
	rec := get(t, s, "GET", "/", nil)
	page := rec.Body.String()
	const connect = "connect-src 'self' http://pacs:8042 https://pacs:8042;"
	for _, want := range []string{
		`<meta name="sscscore-dicomweb" content="/dicom-web http://pacs:8042/dicom-web https://pacs:8042/other">`,
		`content="default-src 'none'; ` + connect,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page: got %s\nwant it to hold %s", page, want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, connect) || strings.Count(csp, "connect-src") != 1 {
		t.Errorf("CSP header %q, want %q in it once", csp, connect)
	}
	// The proxy's own origin is the page's: it needs no CSP entry.
	if strings.Contains(rec.Header().Get("Content-Security-Policy"), "127.0.0.1:8042") {
		t.Errorf("CSP header: got the proxied server listed, want it absent")
	}
	// Without a configuration the page and the policy are as shipped.
	plain, err := loadSiteWith(pacsFS(), pacsConfig{}, false)
	if err != nil {
		t.Fatalf("loadSiteWith: got error %v, want nil", err)
	}
	rec = get(t, plain, "GET", "/", nil)
	if rec.Body.String() != pageWithTags || rec.Header().Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("unconfigured page / policy: got %s / %s, want them unchanged", rec.Body.String(), rec.Header().Get("Content-Security-Policy"))
	}
	if plain.build == s.build {
		t.Errorf("build hash: got %s with and without the configuration, want them to differ (the service worker would keep the old page)", s.build)
	}
}

// A page without the tags is served as it is, with a warning.
func TestPageConfigMissingTags(t *testing.T) {
	cfg, err := parsePACS(t, "-dicomweb", "http://pacs:8042/dicom-web")
	if err != nil {
		t.Fatalf("parsePACS: got error %v, want nil", err)
	}
	fsys := fstest.MapFS{"index.html": {Data: []byte(`<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'"><title>t</title>`)}}
	s, err := loadSiteWith(fsys, cfg, false)
	if err != nil {
		t.Fatalf("loadSiteWith: got error %v, want nil", err)
	}
	if w := strings.Join(s.warnings, "\n"); !strings.Contains(w, "sscscore-dicomweb") || !strings.Contains(w, "connect-src") {
		t.Errorf("warnings %q, want both tags named", w)
	}
}

// A static export keeps the direct servers (CSP in _headers and in the
// page) and says that the proxy is not available there.
func TestExportPACS(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-export", dir, "-dicomweb-proxy", "http://127.0.0.1:8042/dicom-web", "-dicomweb", "http://pacs:8042/dicom-web"}, pacsFS(), &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: got error %v, want nil", err)
	}
	if !strings.Contains(stderr.String(), "proxy (-dicomweb-proxy) is not available in static hosting") {
		t.Errorf("stderr %q, want the proxy's absence said", stderr.String())
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if !strings.Contains(string(page), `content="http://pacs:8042/dicom-web"`) || strings.Contains(string(page), "/dicom-web http") {
		t.Errorf("exported page %s: want only the direct server in its meta tag", page)
	}
	headers, err := os.ReadFile(filepath.Join(dir, "_headers"))
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if !strings.Contains(string(headers), "connect-src 'self' http://pacs:8042;") {
		t.Errorf("_headers %s: want the direct server in connect-src", headers)
	}
}
