// Command serve is the sscscore web server: one binary that carries the whole
// browser app (the page, its WebAssembly and the service worker, embedded
// from web/static) and serves it as static files.
//
// Nothing is ever uploaded: the server answers GET and HEAD for its own files
// and nothing else (405 for every other method); all the work on a patient's
// images happens inside the browser.
//
// A site may let the page open studies from its PACS over DICOMweb (pacs.go):
// -dicomweb URL lets the page talk to that server directly (its origin joins
// the Content-Security-Policy), -dicomweb-proxy URL serves a same-origin
// proxy at /dicom-web/ forwarding only DICOMweb searches and retrievals
// (GET) and the storage of reports (POST, the one exception to GET and
// HEAD) to that one server (proxy.go).
//
// Usage:
//
//	serve [-addr 127.0.0.1:8080] [-log=false] [-dicomweb URL]... [-dicomweb-proxy URL [-dicomweb-proxy-user U | -dicomweb-proxy-token T]]
//	serve -export DIR
//
// With -export the site is written to DIR (with its .br and .gz variants and
// a _headers file listing the HTTP headers it should be served with) for any
// static web server or a USB stick. The server stops gracefully on SIGINT or
// SIGTERM, letting requests in flight finish.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"sscscore/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], web.Static(), os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

// shutdownGrace is how long requests in flight may take to finish after a
// shutdown signal.
const shutdownGrace = 10 * time.Second

// run parses args and serves (or exports) the site in files until ctx is
// cancelled.
func run(ctx context.Context, args []string, files fs.FS, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "listen on this `host:port` (port 0 picks a free port)")
	export := flags.String("export", "", "write the static site to `DIR` and exit, instead of serving")
	accessLog := flags.Bool("log", true, "log every request (method, path, status, bytes) to stderr")
	pacsConfigOf := pacsFlags(flags)
	weightsDir := flags.String("weights", "", "the page runs the networks of this weights `DIR` (sscscore train cv --export; checked at start, refused with the reason) instead of the embedded ones")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *weightsDir != "" {
		var err error
		if files, err = withWeights(files, *weightsDir, stdout); err != nil {
			return err
		}
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	pacs, err := pacsConfigOf()
	if err != nil {
		return err
	}
	static := *export != ""
	if static && pacs.proxy != nil {
		fmt.Fprintln(stderr, "serve: warning: the DICOMweb proxy (-dicomweb-proxy) is not available in static hosting; the exported page offers only the -dicomweb servers, which must allow it with CORS")
	}
	s, err := loadSiteWith(files, pacs, static)
	if err != nil {
		return err
	}
	for _, w := range s.warnings {
		fmt.Fprintln(stderr, "serve: warning:", w)
	}
	if *export != "" {
		n, err := exportSite(s, *export)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %d files (build %s) to %s\n", n, s.build, *export)
		return nil
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var h http.Handler = s
	if pacs.proxy != nil {
		h = withProxy(s, newProxy(pacs, s.headers(), log.New(stderr, "serve: ", log.LstdFlags)))
		fmt.Fprintf(stdout, "sscscore: DICOMweb proxy %s/ -> %s/ (searches, retrievals and storage only)\n", proxyPrefix, pacs.proxy.Redacted())
	}
	for _, u := range pacs.direct {
		fmt.Fprintf(stdout, "sscscore: the page may connect to the DICOMweb server %s\n", u.Redacted())
	}
	if *accessLog {
		h = logRequests(h, log.New(stderr, "", log.LstdFlags))
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "serve: ", log.LstdFlags),
	}
	fmt.Fprintf(stdout, "sscscore: serving http://%s/ (build %s); press Ctrl-C to stop\n", ln.Addr(), s.build)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "sscscore: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// logRequests logs one line per request: method, path, status, body bytes
// and content coding.
func logRequests(next http.Handler, l *log.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		enc := w.Header().Get("Content-Encoding")
		if enc == "" {
			enc = "-"
		}
		l.Printf("%s %q %d %d %s", r.Method, r.URL.RequestURI(), rec.status, rec.n, enc)
	})
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	n      int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the underlying writer (to flush the
// proxy's streamed answers).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.n += int64(n)
	return n, err
}
