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
		t.Fatalf("loadSite: got error %v, want nil", err)
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
			t.Errorf("GET %s: status %d, want 200", tc.path, rec.Code)
			continue
		}
		h := rec.Header()
		if got := h.Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.ctype)
		}
		if got := h.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want %q", tc.path, got, "no-cache")
		}
		if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(h.Get("ETag")) {
			t.Errorf("GET %s: got ETag %q, want 24 hex digits in quotes", tc.path, h.Get("ETag"))
		}
		checkSecurityHeaders(t, "GET "+tc.path, h)
	}
	// Errors carry the security headers too.
	rec := get(t, s, "GET", "/missing.js", nil)
	if rec.Code != 404 {
		t.Errorf("missing file: status %d, want 404", rec.Code)
	}
	checkSecurityHeaders(t, "404", rec.Header())
	// The CSP allows Go's wasm but never eval, and nothing from elsewhere.
	for _, want := range []string{"'wasm-unsafe-eval'", "default-src 'none'", "worker-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, want) {
			t.Errorf("CSP: got %q, want %s in it", ContentSecurityPolicy, want)
		}
	}
	for _, bad := range []string{"'unsafe-eval'", "'unsafe-inline'", "http:", "https:", "*"} {
		if strings.Contains(strings.ReplaceAll(ContentSecurityPolicy, "'wasm-unsafe-eval'", ""), bad) {
			t.Errorf("CSP: got %q, want no %s in it", ContentSecurityPolicy, bad)
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
			t.Fatalf("gzip.NewReader: got error %v, want nil", err)
		}
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("io.ReadAll: got error %v, want nil", err)
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
			t.Errorf("Accept-Encoding %q: Vary %q, want %q", tc.accept, h.Get("Vary"), "Accept-Encoding")
		}
		if got := decode(t, tc.want, rec.Body.Bytes()); !bytes.Equal(got, wasm) {
			t.Errorf("Accept-Encoding %q: got a body that decodes to %d other bytes, want the wasm's %d", tc.accept, len(got), len(wasm))
		}
		if e, ok := etags[tc.want]; ok && e != h.Get("ETag") {
			t.Errorf("ETag of %q: got %s, want %s (unchanged between requests)", tc.want, h.Get("ETag"), e)
		}
		etags[tc.want] = h.Get("ETag")
	}
	if len(etags) != 3 || etags[""] == etags["br"] || etags["br"] == etags["gzip"] {
		t.Errorf("ETags: got %v, want three, one per representation", etags)
	}
}

func TestConditionalAndHead(t *testing.T) {
	fsys, wasm := testFS(t, 64<<10)
	s := newTestSite(t, fsys)
	rec := get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "br"})
	etag := rec.Header().Get("ETag")
	rec = get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "br", "If-None-Match": etag})
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: got status %d, %d bytes; want 304, 0 bytes", rec.Code, rec.Body.Len())
	}
	// The brotli ETag does not validate the gzip representation.
	rec = get(t, s, "GET", "/ui.wasm", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": etag})
	if rec.Code != 200 {
		t.Errorf("If-None-Match of another representation: status %d, want 200", rec.Code)
	}
	rec = get(t, s, "HEAD", "/ui.wasm", nil)
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != fmt.Sprint(len(wasm)) {
		t.Errorf("HEAD: got status %d, body %d bytes, Content-Length %q; want 200, 0 bytes, %d", rec.Code, rec.Body.Len(), rec.Header().Get("Content-Length"), len(wasm))
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
				t.Fatalf("%s %s: got error %v, want nil", m, p, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, p, resp.StatusCode)
			}
			if got := resp.Header.Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q, want %q", m, p, got, "GET, HEAD")
			}
			if resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("%s %s: got no CSP on the error, want one", m, p)
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
		t.Fatalf("net.Dial: got error %v, want nil", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: got error %v, want nil", target, err)
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
		t.Fatalf("loadSite: got error %v, want nil", err)
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
			t.Errorf("GET %s: got content %.80q, want none leaked", tg, body)
		}
	}
	if code, _ := rawRequest(t, addr, "/index.html"); code != 200 {
		t.Errorf("GET /index.html: status %d, want 200", code)
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
		t.Errorf("served %q: got %d bytes that are not the current wasm, want the current wasm", enc, len(got))
	}
	// Variants are never served as files of their own.
	if rec := get(t, s, "GET", "/ui.wasm.gz", nil); rec.Code != 404 {
		t.Errorf("GET ui.wasm.gz: status %d, want 404", rec.Code)
	}
}

func TestServiceWorkerTemplate(t *testing.T) {
	fsys, _ := testFS(t, 1024)
	s := newTestSite(t, fsys)
	sw := string(s.assets["sw.js"].body)
	if strings.Contains(sw, "__SSCSCORE") {
		t.Fatalf("sw.js: got %s, want no __SSCSCORE markers left", sw)
	}
	if !strings.Contains(sw, `"`+s.build+`"`) {
		t.Errorf("sw.js: got %s, want the build %s in it", sw, s.build)
	}
	for _, want := range []string{`"./"`, `"./index.html"`, `"./ui.wasm"`, `"./img/logo.svg"`} {
		if !strings.Contains(sw, want) {
			t.Errorf("sw.js: got %s, want it to precache %s", sw, want)
		}
	}
	for _, bad := range []string{".br\"", ".gz\"", `"./sw.js"`} {
		if strings.Contains(sw, bad) {
			t.Errorf("sw.js: got %s, want it not to precache %s", sw, bad)
		}
	}
	// Any change to a file gives a new build, hence a new cache.
	fsys["app.css"] = &fstest.MapFile{Data: []byte("body { color: navy }\n")}
	if s2 := newTestSite(t, fsys); s2.build == s.build {
		t.Errorf("build hash unchanged after a file changed: got %v, want != %v", s2.build, s.build)
	}
}

func TestExport(t *testing.T) {
	fsys, wasm := testFS(t, 4096)
	s := newTestSite(t, fsys)
	dir := filepath.Join(t.TempDir(), "site")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-export", dir}, fsys, &stdout, &stderr); err != nil {
		t.Fatalf("export: got error %v (%s), want nil", err, stderr.String())
	}
	for _, name := range []string{"index.html", "app.css", "img/logo.svg", "ui.wasm.br", "ui.wasm.gz", "_headers"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("export lacks %s: got error %v, want nil", name, err)
		}
	}
	got, _ := os.ReadFile(filepath.Join(dir, "ui.wasm"))
	if !bytes.Equal(got, wasm) {
		t.Errorf("exported ui.wasm: got %d other bytes, want the wasm's %d", len(got), len(wasm))
	}
	sw, _ := os.ReadFile(filepath.Join(dir, "sw.js"))
	if !bytes.Equal(sw, s.assets["sw.js"].body) {
		t.Errorf("exported sw.js: got %s, want the served one", sw)
	}
	hdr, _ := os.ReadFile(filepath.Join(dir, "_headers"))
	for _, kv := range securityHeaders {
		if !strings.Contains(string(hdr), kv[0]+": "+kv[1]) {
			t.Errorf("_headers: got %s, want %s: %s in it", hdr, kv[0], kv[1])
		}
	}
	if !strings.Contains(stdout.String(), "wrote") {
		t.Errorf("stdout: got %q, want it to say what it wrote", stdout.String())
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
		t.Fatalf("server start: got error %v (%v), want nil", err, <-done)
	}
	m := regexp.MustCompile(`http://[0-9.:]+/`).FindString(line)
	if m == "" {
		cancel()
		t.Fatalf("no address in %q, got %v, want != %q", line, m, "")
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
			t.Errorf("got %v, want status 200 and the wasm", err)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d clients failed, want <= 0", n, clients)
	}
	if err := stop(); err != nil {
		t.Errorf("run: got error %v, want nil", err)
	}
}

func TestGracefulShutdownFinishesRequests(t *testing.T) {
	fsys, wasm := testFS(t, 16<<20)
	base, stop := startServer(t, fsys)
	resp, err := http.Get(base + "/ui.wasm") // identity: 16 MiB, more than socket buffers hold
	if err != nil {
		t.Fatalf("http.Get: got error %v, want nil", err)
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
			t.Fatalf("response cut during shutdown: got error %v, want nil", err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if [32]byte(h.Sum(nil)) != sha256.Sum256(wasm) {
		t.Error("response during shutdown: got other bytes, want the whole wasm")
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Errorf("run: got error %v, want nil", err)
		}
	case <-time.After(shutdownGrace + 5*time.Second):
		t.Fatal("shutdown: got a server still running, want it stopped")
	}
	if _, err := http.Get(base + "/"); err == nil {
		t.Errorf("server still answers after shutdown: got nil error, want an error")
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
				t.Fatalf("cmd.StdoutPipe: got error %v, want nil", err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatalf("cmd.Start: got error %v, want nil", err)
			}
			r := bufio.NewReader(out)
			line, err := r.ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				t.Fatalf("start line: got error %v, want one; stderr: %s", err, stderr.String())
			}
			base := strings.TrimSuffix(regexp.MustCompile(`http://[0-9.:]+/`).FindString(line), "/")
			resp, err := http.Get(base + "/")
			if err != nil {
				t.Fatalf("http.Get: got error %v, want nil", err)
			}
			resp.Body.Close()
			cmd.Process.Signal(sig)
			rest, _ := io.ReadAll(r)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit: got error %v, want nil; stderr: %s", err, stderr.String())
				}
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				t.Fatal("after the signal: got a server still running after 15 s, want it exited")
			}
			if !strings.Contains(string(rest), "shutting down") {
				t.Errorf("stdout after the signal: got %q, want \"shutting down\"", rest)
			}
			if !strings.Contains(stderr.String(), `GET "/" 200`) {
				t.Errorf("access log: got %q, want the request GET \"/\" 200", stderr.String())
			}
		})
	}
}
