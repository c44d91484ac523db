package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"

	"sscscore/web"
)

// fakeWasm returns n bytes that compress moderately, like a wasm binary.
func fakeWasm(n int) []byte {
	rng := rand.New(rand.NewPCG(7, 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(40))
	}
	return b
}

// testFS returns a small site: a page, a style sheet, a service worker
// template and a wasm binary of wasmSize bytes with both precompressed
// variants.
func testFS(t testing.TB, wasmSize int) (fstest.MapFS, []byte) {
	t.Helper()
	wasm := fakeWasm(wasmSize)
	// Fast compression levels keep the tests quick; the server accepts any.
	var br, gz bytes.Buffer
	bw := brotli.NewWriterLevel(&br, 1)
	bw.Write(wasm)
	bw.Close()
	gw, _ := gzip.NewWriterLevel(&gz, 1)
	gw.Write(wasm)
	gw.Close()
	return fstest.MapFS{
		"index.html":   {Data: []byte("<!doctype html><title>t</title>" + strings.Repeat("<p>text</p>\n", 200))},
		"app.css":      {Data: []byte("body { color: black }\n")},
		"sw.js":        {Data: []byte("const BUILD = \"" + swBuildMarker + "\";\nconst ASSETS = [" + swAssetsMarker + "];\n")},
		"ui.wasm":      {Data: wasm},
		"ui.wasm.br":   {Data: br.Bytes()},
		"ui.wasm.gz":   {Data: gz.Bytes()},
		"img/logo.svg": {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
	}, wasm
}

func newTestSite(t testing.TB, fsys fstest.MapFS) *site {
	t.Helper()
	s, err := loadSite(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t testing.TB, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for _, kv := range securityHeaders {
		if got := h.Get(kv[0]); got != kv[1] {
			t.Errorf("%s: %s = %q, want %q", what, kv[0], got, kv[1])
		}
	}
}

func TestHeaders(t *testing.T) {
	fsys, _ := testFS(t, 64<<10)
	s := newTestSite(t, fsys)
	tests := []struct {
		path, ctype string
	}{
		{"/", "text/html; charset=utf-8"},
		{"/index.html", "text/html; charset=utf-8"},
		{"/app.css", "text/css; charset=utf-8"},
		{"/sw.js", "text/javascript; charset=utf-8"},
		{"/ui.wasm", "application/wasm"},
		{"/img/logo.svg", "image/svg+xml"},
	}
	for _, tc := range tests {
		rec := get(t, s, "GET", tc.path, nil)
		if rec.Code != 200 {
			t.Errorf("GET %s: status %d", tc.path, rec.Code)
			continue
		}
		h := rec.Header()
		if got := h.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := h.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", tc.path, got)
		}
		if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(h.Get("ETag")) {
			t.Errorf("GET %s: ETag %q", tc.path, h.Get("ETag"))
		}
		checkSecurityHeaders(t, "GET "+tc.path, h)
	}
	// Errors carry the security headers too.
	rec := get(t, s, "GET", "/missing.js", nil)
	if rec.Code != 404 {
		t.Errorf("missing file: status %d", rec.Code)
	}
	checkSecurityHeaders(t, "404", rec.Header())
	// The CSP allows Go's wasm but never eval, and nothing from elsewhere.
	for _, want := range []string{"'wasm-unsafe-eval'", "default-src 'none'", "worker-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("CSP lacks %s", want)
		}
	}
	for _, bad := range []string{"'unsafe-eval'", "'unsafe-inline'", "http:", "https:", "*"} {
		if strings.Contains(strings.ReplaceAll(ContentSecurityPolicy, "'wasm-unsafe-eval'", ""), bad) {
			t.Errorf("CSP contains %s", bad)
		}
	}
}

func decode(t *testing.T, enc string, b []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(b)
	switch enc {
	case "br":
		r = brotli.NewReader(r)
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestContentEncoding(t *testing.T) {
	fsys, wasm := testFS(t, 64<<10)
	s := newTestSite(t, fsys)
	tests := []struct {
		accept, want string
	}{
		{"", ""},
		{"identity", ""},
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"x-gzip", "gzip"},
		{"br;q=0, gzip", "gzip"},
		{"gzip;q=1.0, br;q=0.5", "gzip"},
		{"BR", "br"},
		{"*", "br"},
		{"*;q=0", ""},
		{"deflate", ""},
		{"br;q=abc", ""},
	}
	etags := map[string]string{}
	for _, tc := range tests {
		rec := get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": tc.accept})
		h := rec.Header()
		if got := h.Get("Content-Encoding"); got != tc.want {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", tc.accept, got, tc.want)
			continue
		}
		if h.Get("Vary") != "Accept-Encoding" {
			t.Errorf("Accept-Encoding %q: Vary %q", tc.accept, h.Get("Vary"))
		}
		if got := decode(t, tc.want, rec.Body.Bytes()); !bytes.Equal(got, wasm) {
			t.Errorf("Accept-Encoding %q: body does not decode to the wasm", tc.accept)
		}
		if e, ok := etags[tc.want]; ok && e != h.Get("ETag") {
			t.Errorf("ETag of %q changed between requests", tc.want)
		}
		etags[tc.want] = h.Get("ETag")
	}
	if len(etags) != 3 || etags[""] == etags["br"] || etags["br"] == etags["gzip"] {
		t.Errorf("each representation needs its own ETag: %v", etags)
	}
}

func TestConditionalAndHead(t *testing.T) {
	fsys, wasm := testFS(t, 64<<10)
	s := newTestSite(t, fsys)
	rec := get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "br"})
	etag := rec.Header().Get("ETag")
	rec = get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
	// The brotli ETag does not validate the gzip representation.
	rec = get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if rec.Code != 200 {
		t.Errorf("If-None-Match of another representation: status %d", rec.Code)
	}
	rec = get(t, s, "HEAD", "/ui.wasm", nil)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != fmt.Sprint(len(wasm)) {
		t.Errorf("HEAD: status %d, body %d bytes, Content-Length %q", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	fsys, _ := testFS(t, 1024)
	srv := httptest.NewServer(newTestSite(t, fsys))
	defer srv.Close()
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "PROPFIND"} {
		for _, p := range []string{"/", "/ui.wasm", "/upload", "/missing"} {
			req, _ := http.NewRequest(m, srv.URL+p, strings.NewReader("pixel data that must go nowhere"))
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", m, p, got)
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: no CSP on the error", m, p)
			}
		}
	}
}

// rawRequest sends a request line verbatim (clients would clean the path)
// and returns the status code and body.
func rawRequest(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPathTraversal(t *testing.T) {
	// The real embedded site: web/web.go sits beside web/static and must
	// never be reachable, nor anything outside.
	s, err := loadSite(web.Static())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	targets := []string{
		"/../web.go", "/..", "/../", "/../../go.mod", "/../../../../etc/passwd",
		"/%2e%2e/web.go", "/%2e%2e%2fweb.go", "/..%2fweb.go", "/.%2e/web.go",
		"/..%5cweb.go", "/..\\web.go", "/static/index.html", "/web.go", "/static/../web.go",
		"//etc/passwd", "/./index.html", "/index.html/", "/index.html%00", "/%00",
		"/index.html/..", "/sw.js/../../web.go", "http://evil.example/../web.go",
		"/%252e%252e/web.go", "/%c0%ae%c0%ae/web.go", "/.git/config", "/../../.git/config",
	}
	for _, tg := range targets {
		code, body := rawRequest(t, addr, tg)
		if code != 400 && code != 404 {
			t.Errorf("GET %s: status %d, want 400 or 404", tg, code)
		}
		if strings.Contains(body, "package ") || strings.Contains(body, "root:") || strings.Contains(body, "<html") {
			t.Errorf("GET %s leaked content: %.80q", tg, body)
		}
	}
	if code, _ := rawRequest(t, addr, "/index.html"); code != 200 {
		t.Errorf("GET /index.html: status %d", code)
	}
}

func TestStaleVariantIgnored(t *testing.T) {
	fsys, wasm := testFS(t, 4096)
	old, _ := compress("br", []byte("an older build"))
	fsys["ui.wasm.br"] = &fstest.MapFile{Data: old}
	fsys["ui.wasm.gz"] = &fstest.MapFile{Data: []byte("not gzip at all")}
	s := newTestSite(t, fsys)
	if len(s.warnings) != 2 {
		t.Errorf("warnings %q, want one for each bad variant", s.warnings)
	}
	rec := get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "br, gzip"})
	enc := rec.Header().Get("Content-Encoding")
	if got := decode(t, enc, rec.Body.Bytes()); !bytes.Equal(got, wasm) {
		t.Errorf("served %q content that is not the current wasm", enc)
	}
	// Variants are never served as files of their own.
	if rec := get(t, s, "GET", "/ui.wasm.gz", nil); rec.Code != 404 {
		t.Errorf("GET ui.wasm.gz: status %d", rec.Code)
	}
}

func TestServiceWorkerTemplate(t *testing.T) {
	fsys, _ := testFS(t, 1024)
	s := newTestSite(t, fsys)
	sw := string(s.assets["sw.js"].body)
	if strings.Contains(sw, "__SSCSCORE") {
		t.Fatalf("markers left in sw.js: %s", sw)
	}
	if !strings.Contains(sw, `"`+s.build+`"`) {
		t.Errorf("sw.js lacks the build %s: %s", s.build, sw)
	}
	for _, want := range []string{`"./"`, `"./index.html"`, `"./ui.wasm"`, `"./img/logo.svg"`} {
		if !strings.Contains(sw, want) {
			t.Errorf("sw.js does not precache %s: %s", want, sw)
		}
	}
	for _, bad := range []string{".br\"", ".gz\"", `"./sw.js"`} {
		if strings.Contains(sw, bad) {
			t.Errorf("sw.js precaches %s: %s", bad, sw)
		}
	}
	// Any change to a file gives a new build, hence a new cache.
	fsys["app.css"] = &fstest.MapFile{Data: []byte("body { color: navy }\n")}
	if s2 := newTestSite(t, fsys); s2.build == s.build {
		t.Error("build hash unchanged after a file changed")
	}
}

func TestExport(t *testing.T) {
	fsys, wasm := testFS(t, 4096)
	s := newTestSite(t, fsys)
	dir := filepath.Join(t.TempDir(), "site")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-export", dir}, fsys, &stdout, &stderr); err != nil {
		t.Fatalf("export: %v (%s)", err, stderr.String())
	}
	for _, name := range []string{"index.html", "app.css", "img/logo.svg", "ui.wasm.br", "ui.wasm.gz", "_headers"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("export lacks %s: %v", name, err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "ui.wasm"))
	if !bytes.Equal(got, wasm) {
		t.Error("exported ui.wasm differs")
	}
	sw, _ := os.ReadFile(filepath.Join(dir, "sw.js"))
	if !bytes.Equal(sw, s.assets["sw.js"].body) {
		t.Errorf("exported sw.js is not the served one: %s", sw)
	}
	hdr, _ := os.ReadFile(filepath.Join(dir, "_headers"))
	for _, kv := range securityHeaders {
		if !strings.Contains(string(hdr), kv[0]+": "+kv[1]) {
			t.Errorf("_headers lacks %s", kv[0])
		}
	}
	if !strings.Contains(stdout.String(), "wrote") {
		t.Errorf("stdout %q", stdout.String())
	}
}

// startServer runs the server on a free port until the returned stop
// function is called; stop returns run's error.
func startServer(t *testing.T, fsys fstest.MapFS) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log=false"}, fsys, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("server did not start: %v (%v)", err, <-done)
	}
	m := regexp.MustCompile(`http://[0-9.:]+/`).FindString(line)
	if m == "" {
		cancel()
		t.Fatalf("no address in %q", line)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSuffix(m, "/"), func() error { cancel(); return <-done }
}

func TestConcurrentClients(t *testing.T) {
	const clients = 200
	fsys, wasm := testFS(t, 4<<20)
	base, stop := startServer(t, fsys)
	want := map[string][32]byte{"": sha256.Sum256(wasm)}
	for _, enc := range []string{"br", "gzip"} {
		want[enc] = sha256.Sum256(fsys["ui.wasm"+map[string]string{"br": ".br", "gzip": ".gz"}[enc]].Data)
	}
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	accepts := []string{"br, gzip", "gzip", ""}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", base+"/ui.wasm", nil)
			req.Header.Set("Accept-Encoding", accepts[i%len(accepts)])
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			enc := resp.Header.Get("Content-Encoding")
			if resp.StatusCode != 200 || sha256.Sum256(b) != want[enc] {
				errs <- fmt.Errorf("client %d: status %d, %d bytes (%q) that are not the wasm", i, resp.StatusCode, len(b), enc)
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		n++
		if n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d clients failed", n, clients)
	}
	if err := stop(); err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestGracefulShutdownFinishesRequests(t *testing.T) {
	fsys, wasm := testFS(t, 16<<20)
	base, stop := startServer(t, fsys)
	resp, err := http.Get(base + "/ui.wasm") // identity: 16 MiB, more than socket buffers hold
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// Read slowly while the server shuts down: the response must complete.
	h := sha256.New()
	buf := make([]byte, 256<<10)
	for {
		n, err := resp.Body.Read(buf)
		h.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("response cut during shutdown: %v", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if [32]byte(h.Sum(nil)) != sha256.Sum256(wasm) {
		t.Error("response corrupted during shutdown")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("server did not stop")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

// TestMain lets TestSignals run this test binary as the server itself.
func TestMain(m *testing.M) {
	if os.Getenv("SSCSCORE_SERVE_MAIN") == "1" {
		os.Args = append([]string{"serve"}, strings.Fields(os.Getenv("SSCSCORE_SERVE_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "SSCSCORE_SERVE_MAIN=1", "SSCSCORE_SERVE_ARGS=-addr 127.0.0.1:0")
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(out)
			line, err := r.ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				t.Fatalf("no start line: %v; stderr: %s", err, stderr.String())
			}
			base := strings.TrimSuffix(regexp.MustCompile(`http://[0-9.:]+/`).FindString(line), "/")
			resp, err := http.Get(base + "/")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(r)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit: %v; stderr: %s", err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatal("server did not exit after the signal")
			}
			if !strings.Contains(string(rest), "shutting down") {
				t.Errorf("stdout after the signal: %q", rest)
			}
			if !strings.Contains(stderr.String(), `GET "/" 200`) {
				t.Errorf("access log lacks the request: %q", stderr.String())
			}
		})
	}
}
