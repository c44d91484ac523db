package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sscscore/model/dicomweb"
	"sscscore/model/dicomweb/orthanctest"
	"sscscore/model/shareddata"
)

const (
	a0002Study  = "1.3.6.1.4.1.14519.5.2.1.6655.2359.104855313699639828167809534834"
	a0002Series = "1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983"
)

// logFile is the servers' log, in a file so that the test reads it while
// the server's goroutines write.
type logFile string

func (l logFile) String() string {
	b, _ := os.ReadFile(string(l))
	return string(b)
}

// proxyServer serves the test site with the DICOMweb proxy configured by
// args (serve's flags), behind the access log as in run.
func proxyServer(t *testing.T, args ...string) (*httptest.Server, logFile) {
	t.Helper()
	cfg, err := parsePACS(t, args...)
	if err != nil {
		t.Fatalf("parsePACS: got error %v, want nil", err)
	}
	s, err := loadSiteWith(pacsFS(), cfg, false)
	if err != nil {
		t.Fatalf("loadSiteWith: got error %v, want nil", err)
	}
	logs := logFile(filepath.Join(t.TempDir(), "serve.log"))
	f, err := os.OpenFile(string(logs), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("os.OpenFile: got error %v, want nil", err)
	}
	t.Cleanup(func() { f.Close() })
	l := log.New(f, "", 0)
	var h http.Handler = s
	if cfg.proxy != nil {
		h = withProxy(s, newProxy(cfg, s.headers(), l))
	}
	ts := httptest.NewServer(logRequests(h, l))
	t.Cleanup(ts.Close)
	return ts, logs
}

// TestProxyOrthanc: the page's DICOMweb client works through the proxy
// against a real Orthanc that wants credentials the proxy adds: search,
// retrieval of A0002 (the files as on disk), storage then search.
func TestProxyOrthanc(t *testing.T) {
	dir := shareddata.Path(t, "chest-ct/A0002-B40f")
	c3n := shareddata.Path(t, "chest-ct/C3N-00247-B70f/000000.dcm")
	pacs := orthanctest.Start(t, orthanctest.Options{User: "proxy", Password: "pw"})
	pacs.Upload(t, dir)
	t.Setenv(envProxyPassword, "pw")
	ts, logs := proxyServer(t, "-dicomweb-proxy", pacs.DICOMweb, "-dicomweb-proxy-user", "proxy")
	c, err := dicomweb.New(ts.URL+proxyPrefix, dicomweb.Auth{}, nil)
	if err != nil {
		t.Fatalf("dicomweb.New: got error %v, want nil", err)
	}
	ctx := context.Background()

	studies, err := c.SearchStudies(ctx, dicomweb.StudyQuery{PatientID: "Lung_Dx-A0002"})
	if err != nil || len(studies) != 1 || studies[0].UID != a0002Study {
		t.Fatalf("search: got %+v (%v), want A0002's study", studies, err)
	}
	series, err := c.SearchSeries(ctx, a0002Study)
	if err != nil || len(series) != 1 || series[0].NumInstances != 30 {
		t.Fatalf("series: got %+v (%v), want one of 30 instances", series, err)
	}
	want := map[[32]byte]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("os.ReadDir: got error %v, want nil", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("os.ReadFile: got error %v, want nil", err)
		}
		want[sha256.Sum256(b)] = true
	}
	n := 0
	err = c.RetrieveSeries(ctx, a0002Study, a0002Series, 30, func(i int, part []byte) error {
		if !want[sha256.Sum256(part)] {
			t.Errorf("part %d (%d bytes): got none of the files on disk, want one of them", i, len(part))
		}
		n++
		return nil
	})
	if err != nil || n != 30 {
		t.Fatalf("retrieve: %d parts, %v; want 30", n, err)
	}

	file, err := os.ReadFile(c3n)
	if err != nil {
		t.Fatalf("os.ReadFile: got error %v, want nil", err)
	}
	if err := c.Store(ctx, file); err != nil {
		t.Fatalf("store: got error %v, want nil", err)
	}
	studies, err = c.SearchStudies(ctx, dicomweb.StudyQuery{PatientID: "C3N-00247"})
	if err != nil || len(studies) != 1 || studies[0].NumInstances != 1 {
		t.Fatalf("search after store: got %+v (%v), want the one instance stored", studies, err)
	}
	if !strings.Contains(logs.String(), `POST "/dicom-web/studies" 200`) {
		t.Errorf("access log: got no store request, want %q:\n%s", `POST "/dicom-web/studies" 200`, logs.String())
	}
}

// TestProxyPassesPageCredentials: with no credentials of its own the proxy
// passes the page's on; a refusal comes back as 401 without the
// WWW-Authenticate challenge (which would make the browser ask for a
// password in a dialog of its own).
func TestProxyPassesPageCredentials(t *testing.T) {
	pacs := orthanctest.Start(t, orthanctest.Options{User: "alice", Password: "pw"})
	ts, _ := proxyServer(t, "-dicomweb-proxy", pacs.DICOMweb)
	for _, tc := range []struct {
		auth dicomweb.Auth
		ok   bool
	}{
		{dicomweb.Auth{User: "alice", Password: "pw"}, true},
		{dicomweb.Auth{User: "alice", Password: "wrong"}, false},
		{dicomweb.Auth{}, false},
	} {
		c, err := dicomweb.New(ts.URL+proxyPrefix, tc.auth, nil)
		if err != nil {
			t.Fatalf("dicomweb.New: got error %v, want nil", err)
		}
		_, err = c.SearchStudies(context.Background(), dicomweb.StudyQuery{})
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, dicomweb.ErrUnauthorized)) {
			t.Errorf("user %q password %q: got %v, want ok=%v or ErrUnauthorized", tc.auth.User, tc.auth.Password, err, tc.ok)
		}
	}
	resp, err := http.Get(ts.URL + proxyPrefix + "/studies")
	if err != nil {
		t.Fatalf("http.Get: got error %v, want nil", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("got %d with WWW-Authenticate %q, want 401 without a challenge", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

// upstream records what the proxy forwards. (What a proxy sends cannot be
// observed on Orthanc; this stands for the PACS only to record requests.)
type upstream struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	u.mu.Lock()
	u.reqs = append(u.reqs, r.Clone(context.Background()))
	u.mu.Unlock()
	w.Header().Set("Content-Type", "application/dicom+json")
	w.Header().Set("Set-Cookie", "pacs-session=1")
	w.Header().Set("X-Internal", "secret")
	w.Write([]byte("[]"))
}

func (u *upstream) take() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.reqs
	u.reqs = nil
	return r
}

// TestProxyRefuses: only DICOMweb search, retrieval and storage paths are
// forwarded; everything else is refused with a reason, logged, and never
// reaches the PACS.
func TestProxyRefuses(t *testing.T) {
	up := &upstream{}
	pacs := httptest.NewServer(up)
	defer pacs.Close()
	ts, logs := proxyServer(t, "-dicomweb-proxy", pacs.URL+"/dicom-web")
	const s, se, i = "/studies/1.2.3", "/series/1.2.3.4", "/instances/1.2.3.4.5"
	for _, tc := range []struct {
		method, path, ctype string
		hdr                 [2]string
		status              int
		why                 string
	}{
		// forwarded
		{"GET", "/studies?PatientID=X*&limit=5", "", [2]string{}, 200, ""},
		{"GET", s, "", [2]string{}, 200, ""},
		{"GET", s + "/series", "", [2]string{}, 200, ""},
		{"GET", s + se, "", [2]string{}, 200, ""},
		{"GET", s + se + "/instances", "", [2]string{}, 200, ""},
		{"GET", s + se + i, "", [2]string{}, 200, ""},
		{"GET", s + "/metadata", "", [2]string{}, 200, ""},
		{"GET", s + se + "/metadata", "", [2]string{}, 200, ""},
		{"GET", s + se + i + "/metadata", "", [2]string{}, 200, ""},
		{"HEAD", s + se, "", [2]string{}, 200, ""},
		{"POST", "/studies", `multipart/related; type="application/dicom"; boundary=x`, [2]string{}, 200, ""},
		{"POST", s, `multipart/related; type="application/dicom"; boundary=x`, [2]string{"Sec-Fetch-Site", "same-origin"}, 200, ""},
		// refused
		{"GET", "", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", "/", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", "/patients", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", "/series?Modality=CT", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", s + se + i + "/frames/1", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", s + se + i + "/rendered", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", s + "/series/x", "", [2]string{}, 404, "not a DICOMweb search"},
		{"GET", "/studies/1.2/../../../system", "", [2]string{}, 400, "must be plain"},
		{"GET", "/studies/1.2%2F..%2Fsystem", "", [2]string{}, 400, "must be plain"},
		{"GET", "/studies//1.2", "", [2]string{}, 400, "must be plain"},
		{"DELETE", s, "", [2]string{}, 405, "DELETE is not forwarded"},
		{"PUT", "/studies", "", [2]string{}, 405, "PUT is not forwarded"},
		{"POST", s + se, `multipart/related; boundary=x`, [2]string{}, 405, "POST is not forwarded"},
		{"POST", "/studies", "text/plain", [2]string{}, 415, "must be multipart/related"},
		{"POST", "/studies", "application/x-www-form-urlencoded", [2]string{}, 415, "must be multipart/related"},
		{"POST", "/studies?x=1", `multipart/related; boundary=x`, [2]string{}, 400, "takes no query"},
		{"GET", "/studies", "", [2]string{"Sec-Fetch-Site", "cross-site"}, 403, "from other sites"},
		{"POST", "/studies", `multipart/related; boundary=x`, [2]string{"Origin", "https://evil.example"}, 403, "from other origins"},
		{"GET", "/studies?" + strings.Repeat("a", proxyMaxQuery+1), "", [2]string{}, 414, "too long"},
	} {
		req, err := http.NewRequest(tc.method, ts.URL+proxyPrefix+tc.path, strings.NewReader("--x--"))
		if err != nil {
			t.Fatalf("http.NewRequest: got error %v, want nil", err)
		}
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.hdr[0] != "" {
			req.Header.Set(tc.hdr[0], tc.hdr[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		forwarded := len(up.take())
		label := tc.method + " " + proxyPrefix + tc.path
		if len(label) > 80 {
			label = label[:80] + "..."
		}
		if resp.StatusCode != tc.status {
			t.Errorf("%s: got status %d (%s), want %d", label, resp.StatusCode, strings.TrimSpace(string(body)), tc.status)
		}
		if tc.why == "" {
			if forwarded != 1 {
				t.Errorf("%s: forwarded %d times, want once", label, forwarded)
			}
			continue
		}
		if forwarded != 0 {
			t.Errorf("%s: refused, yet forwarded to the PACS, got %v, want 0", label, forwarded)
		}
		if !strings.Contains(string(body), tc.why) {
			t.Errorf("%s: body %q, want the reason %q", label, body, tc.why)
		}
		if !strings.Contains(logs.String(), "refused "+tc.method) {
			t.Errorf("%s: got no %q in the log, want the refusal logged:\n%s", label, "refused "+tc.method, logs.String())
		}
		if resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: got a refusal without the security headers, want them", label)
		}
	}
}

// TestProxyHeaders: the page's cookies and other headers never reach the
// PACS, the PACS's cookies and other headers never reach the page, and the
// proxy adds credentials only when configured.
func TestProxyHeaders(t *testing.T) {
	up := &upstream{}
	pacs := httptest.NewServer(up)
	defer pacs.Close()
	for _, tc := range []struct {
		name     string
		args     []string
		pageAuth string
		wantAuth string
	}{
		{"no credentials", nil, "", ""},
		{"the page's own", nil, "Bearer page-token", "Bearer page-token"},
		{"configured token replaces the page's", []string{"-dicomweb-proxy-token", "tok"}, "Bearer page-token", "Bearer tok"},
		{"configured user", []string{"-dicomweb-proxy-user", "u", "-dicomweb-proxy-password", "p"}, "", "Basic dTpw"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, _ := proxyServer(t, append([]string{"-dicomweb-proxy", pacs.URL + "/dicom-web"}, tc.args...)...)
			req, _ := http.NewRequest("GET", ts.URL+proxyPrefix+"/studies?PatientID=X", nil)
			req.Header.Set("Cookie", "session=page-secret")
			req.Header.Set("Referer", ts.URL+"/")
			req.Header.Set("X-Forwarded-For", "10.0.0.1")
			req.Header.Set("Accept", "application/dicom+json")
			if tc.pageAuth != "" {
				req.Header.Set("Authorization", tc.pageAuth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
			}
			resp.Body.Close()
			reqs := up.take()
			if len(reqs) != 1 {
				t.Fatalf("forwarded %d requests, want 1", len(reqs))
			}
			got := reqs[0]
			if got.URL.Path != "/dicom-web/studies" || got.URL.RawQuery != "PatientID=X" {
				t.Errorf("forwarded to %s, want /dicom-web/studies?PatientID=X", got.URL)
			}
			for _, k := range []string{"Cookie", "Referer", "X-Forwarded-For"} {
				if v := got.Header.Get(k); v != "" {
					t.Errorf("forwarded %s: %q, want %q", k, v, "")
				}
			}
			if got.Header.Get("Accept") != "application/dicom+json" {
				t.Errorf("Accept %q not forwarded, want %q", got.Header.Get("Accept"), "application/dicom+json")
			}
			if a := got.Header.Get("Authorization"); a != tc.wantAuth {
				t.Errorf("Authorization %q, want %q", a, tc.wantAuth)
			}
			for _, k := range []string{"Set-Cookie", "X-Internal"} {
				if v := resp.Header.Get(k); v != "" {
					t.Errorf("passed the PACS's %s back: %q, want %q", k, v, "")
				}
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

// Without -dicomweb-proxy, /dicom-web is an ordinary missing file, and POST
// is refused as before.
func TestNoProxy(t *testing.T) {
	ts, _ := proxyServer(t)
	for _, tc := range []struct {
		method string
		status int
	}{{"GET", 404}, {"POST", 405}} {
		req, _ := http.NewRequest(tc.method, ts.URL+proxyPrefix+"/studies", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("http.DefaultClient.Do: got error %v, want nil", err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: got %d, want %d", tc.method, resp.StatusCode, tc.status)
		}
	}
}

// A PACS that cannot be reached gives 502 naming it.
func TestProxyUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	url := dead.URL
	dead.Close()
	ts, logs := proxyServer(t, "-dicomweb-proxy", url+"/dicom-web")
	resp, err := http.Get(ts.URL + proxyPrefix + "/studies")
	if err != nil {
		t.Fatalf("http.Get: got error %v, want nil", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), url+" cannot be reached") {
		t.Errorf("got %d %q, want 502 naming %s", resp.StatusCode, body, url)
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log: got no cause, want %q:\n%s", "connection refused", logs.String())
	}
}
