package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"

	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"sscscore/model/shareddata"
)

// The browser tests run the real server binary (built from ./serve with the
// wasm binaries in web/static embedded) and drive Debian's Chromium through
// chromedp. Screenshots go to out/screenshots at the repository root.

var (
	root       string     // repository root
	baseURL    string     // the server, e.g. http://127.0.0.1:39001
	serverBin  string     // the server binary
	cliBin     string     // the native command-line tool, built like ./build.sh builds it
	cliErr     error      // why it could not be built
	serverLog  syncBuffer // the server's access log
	browserCtx context.Context
	setupErr   error // why the browser tests cannot run
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	root, err = shareddata.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	stop, err := setup()
	if err != nil {
		setupErr = err
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "e2e: the browser tests cannot run:", err)
			return 1
		}
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	return code
}

// setup builds and starts the server and the browser.
func setup() (stop func(), err error) {
	for _, f := range []string{"ui.wasm", "worker.wasm", "wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(root, "web", "static", f)); err != nil {
			return nil, fmt.Errorf("web/static/%s is missing: run ./build.sh wasm first", f)
		}
	}
	chrome := chromiumPath()
	if chrome == "" {
		return nil, fmt.Errorf("no Chromium found (apt-get install chromium)")
	}
	tmp, err := os.MkdirTemp("", "sscscore-e2e-")
	if err != nil {
		return nil, err
	}
	// The binaries carry the stamp (version and commit) build.sh gave the
	// wasm (bin/wasm.ldflags; else what it would give now), so that the
	// page and the native tool name the same build.
	stamp, err := os.ReadFile(filepath.Join(root, "bin", "wasm.ldflags"))
	if err != nil {
		stamp, err = exec.Command("bash", filepath.Join(root, "build.sh"), "ldflags").Output()
		if err != nil {
			return nil, fmt.Errorf("./build.sh ldflags: %w", err)
		}
	}
	ldflags := strings.TrimSpace(string(stamp))
	bin := filepath.Join(tmp, "serve")
	serverBin = bin
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, "./serve")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the server: %v\n%s", err, out)
	}
	// The native tool, to compare the browser's results with.
	cliBin = filepath.Join(tmp, "sscscore")
	cli := exec.Command("go", "build", "-ldflags", ldflags, "-o", cliBin, "./cmd/sscscore")
	cli.Dir = root
	cli.Env = append(os.Environ(), "GOEXPERIMENT=simd")
	if out, err := cli.CombinedOutput(); err != nil {
		cliErr = fmt.Errorf("building cmd/sscscore: %v\n%s", err, out)
	}
	srv := exec.Command(bin, "-addr", "127.0.0.1:0")
	srv.Stderr = &serverLog
	stdout, err := srv.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		srv.Process.Kill()
		return nil, fmt.Errorf("server did not start: %v; log: %s", err, serverLog.String())
	}
	u := regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	if u == "" {
		srv.Process.Kill()
		return nil, fmt.Errorf("no address in %q", line)
	}
	baseURL = u
	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(chrome),
			chromedp.NoSandbox,
			chromedp.WindowSize(1280, 1000),
			chromedp.UserDataDir(filepath.Join(tmp, "profile")),
			chromedp.Flag("lang", "en-GB"),
		)...)
	bctx, bcancel := chromedp.NewContext(ctx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		cancel()
		srv.Process.Kill()
		return nil, fmt.Errorf("starting Chromium: %w", err)
	}
	browserCtx = bctx
	return func() {
		bcancel()
		cancel()
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
		os.RemoveAll(tmp)
	}, nil
}

// needBrowser skips (or, in CI, fails) a test when the browser tests cannot
// run.
func needBrowser(t testing.TB) {
	t.Helper()
	if setupErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test setup: got error %v, want nil (CI=true)", setupErr)
		}
		t.Skip(setupErr)
	}
}

// tab is one browser tab with its recorded requests and console.
type tab struct {
	t        testing.TB
	ctx      context.Context
	mu       sync.Mutex
	requests []request
	console  []string
	workers  int // worker targets attached
	logStart int // offset of this tab's part of the server log
}

// request is one network request seen by the browser.
type request struct {
	Method, URL, Type string
	HasBody           bool
	Worker            bool
}

// pageScript runs in every document before the page's own scripts (the
// protocol injects it, so the page's CSP does not apply): it records the
// main thread's long tasks and the CSP violations.
const pageScript = `
window.__longtasks = [];
try {
  new PerformanceObserver(function (list) {
    for (const e of list.getEntries()) window.__longtasks.push({start: e.startTime, ms: e.duration});
  }).observe({type: "longtask", buffered: true});
} catch (e) {}
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
`

// newTab opens a tab in a fresh browser context (no shared cache or
// service worker) that records its requests (the page's and its workers'),
// console messages and long tasks.
func newTab(t testing.TB) *tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancelT)
	tb := &tab{t: t, ctx: ctx, logStart: len(serverLog.String())}
	attached := chromedp.Events(ctx, target.AttachedToTarget)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	record := func(worker bool) func(ev any) {
		return func(ev any) {
			tb.mu.Lock()
			defer tb.mu.Unlock()
			switch ev := ev.(type) {
			case *network.EventRequestWillBeSent:
				tb.requests = append(tb.requests, request{
					Method: ev.Request.Method, URL: ev.Request.URL, Type: string(ev.Type),
					HasBody: ev.Request.HasPostData, Worker: worker,
				})
			case *runtime.EventExceptionThrown:
				tb.console = append(tb.console, "exception: "+ev.ExceptionDetails.Text+" "+describe(ev.ExceptionDetails.Exception))
			case *runtime.EventConsoleAPICalled:
				if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
					var parts []string
					for _, a := range ev.Args {
						parts = append(parts, string(a.Value)+a.Description)
					}
					tb.console = append(tb.console, string(ev.Type)+": "+strings.Join(parts, " "))
				}
			case *cdplog.EventEntryAdded:
				if ev.Entry.Level == cdplog.EntryLevelError {
					tb.console = append(tb.console, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
				}
			}
		}
	}
	if err := chromedp.Listen(ctx, record(false)); err != nil {
		t.Fatalf("chromedp.Listen: got error %v, want nil", err)
	}
	// Workers: attach to each as it appears and record its requests too.
	go func() {
		for ev, err := range attached {
			if err != nil {
				return
			}
			if !strings.Contains(ev.TargetInfo.Type, "worker") {
				continue
			}
			wctx, _ := chromedp.NewContext(ctx, chromedp.WithTargetID(ev.TargetInfo.TargetID), chromedp.WithListener(record(true)))
			if err := chromedp.Do(wctx); err == nil {
				tb.mu.Lock()
				tb.workers++
				tb.mu.Unlock()
			}
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pageScript}); err != nil {
		t.Fatalf("chromedp.Call: got error %v, want nil", err)
	}
	return tb
}

// describe returns the description of a thrown value.
func describe(o *runtime.RemoteObject) string {
	if o == nil {
		return ""
	}
	return o.Description
}

// eval evaluates a JavaScript expression (awaiting promises) and decodes the
// result into T.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("evaluating %s: got error %v, want nil", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it is true.
func (tb *tab) waitFor(cond string, timeout time.Duration) {
	tb.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.documentElement.dataset.state + " | " + document.getElementById("app-status").textContent + " | " + document.getElementById("error").textContent`))
			tb.t.Fatalf("waiting for %s: got a time-out (err %v; page: %s), want it to hold", cond, err, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open loads the app and waits until it is ready.
func (tb *tab) open() {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(baseURL+"/")); err != nil {
		tb.t.Fatalf("chromedp.Do: got error %v, want nil", err)
	}
	tb.waitFor(`document.documentElement.dataset.state === "idle"`, time.Minute)
}

// screenshot saves a full-page screenshot as out/screenshots/name.png.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot: got error %v, want nil", err)
	}
	dir := filepath.Join(root, "out", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatalf("os.MkdirAll: got error %v, want nil", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		tb.t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	return p
}

// elementScreenshot saves a screenshot of the element matching sel as
// out/screenshots/name.png.
func (tb *tab) elementScreenshot(sel, name string) string {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.ScrollIntoView(sel)); err != nil {
		tb.t.Fatalf("scrolling to %s: got error %v, want nil", sel, err)
	}
	buf, err := chromedp.Run(tb.ctx, chromedp.Screenshot(sel))
	if err != nil {
		tb.t.Fatalf("screenshot of %s: got error %v, want nil", sel, err)
	}
	p := filepath.Join(root, "out", "screenshots", name+".png")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.t.Fatalf("os.MkdirAll: got error %v, want nil", err)
	}
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		tb.t.Fatalf("os.WriteFile: got error %v, want nil", err)
	}
	return p
}

// staticAssets are the files the app may ask its server for.
var staticAssets = map[string]bool{
	"/": true, "/index.html": true, "/app.css": true, "/boot.js": true, "/wasm_exec.js": true,
	"/ui.wasm": true, "/worker.js": true, "/worker.wasm": true, "/sw.js": true, "/icon.svg": true,
}

// checkRequests fails the test if any request, seen by the browser (page
// and workers) or by the server, was not a same-origin GET of a static
// asset without a body, or if the page reported an error or a CSP
// violation.
func (tb *tab) checkRequests() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	base, _ := url.Parse(baseURL)
	if tb.workers == 0 {
		tb.t.Errorf("worker targets attached: got %v, want at least one (else the worker's requests go unrecorded)", tb.workers)
	}
	for _, c := range tb.console {
		tb.t.Errorf("console: got %s, want no console errors", c)
	}
	if v := evalNoFail[[]string](tb, `window.__violations || []`); len(v) > 0 {
		tb.t.Errorf("CSP violations: got %q, want none", v)
	}
	for _, line := range strings.Split(serverLog.String()[tb.logStart:], "\n") {
		m := regexp.MustCompile(`\d\d:\d\d:\d\d (\S+) "([^"]*)" (\d+)`).FindStringSubmatch(line)
		if m == nil {
			continue
		}
		p := strings.SplitN(m[2], "?", 2)[0]
		if (m[1] != "GET" && m[1] != "HEAD") || !staticAssets[p] {
			tb.t.Errorf("server log: got %s, want only GETs of static assets", line)
		}
	}
	for _, r := range tb.requests {
		u, err := url.Parse(r.URL)
		if err != nil {
			tb.t.Errorf("request URL: got %q (%v), want a parsable URL", r.URL, err)
			continue
		}
		switch u.Scheme {
		case "blob", "data":
			continue // local downloads and images, never on the network
		}
		if r.Method != "GET" || r.HasBody || u.Host != base.Host || u.Scheme != base.Scheme {
			tb.t.Errorf("request: got %s %s (body %v), want only GETs without a body to %s", r.Method, r.URL, r.HasBody, base.Host)
		}
		if !staticAssets[u.Path] {
			tb.t.Errorf("request: got %s %s, want only static assets", r.Method, r.URL)
		}
	}
}

// evalNoFail evaluates like eval but returns the zero value on error.
func evalNoFail[T any](tb *tab, expr string) T {
	v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	return v
}

// longTasks returns the durations (ms) of the main thread's tasks longer
// than 50 ms that started after the page time since (ms).
func (tb *tab) longTasks(since float64) []float64 {
	tb.t.Helper()
	type task struct {
		Start float64 `json:"start"`
		MS    float64 `json:"ms"`
	}
	var out []float64
	for _, lt := range eval[[]task](tb, `window.__longtasks || []`) {
		if lt.Start >= since {
			out = append(out, lt.MS)
		}
	}
	return out
}
