package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// Bounds of the DICOMweb proxy.
const (
	proxyMaxConcurrent  = 16        // requests in flight at once
	proxyMaxStore       = 512 << 20 // bytes of one STOW-RS request body
	proxyMaxResponse    = 8 << 30   // bytes of one answer (a large series)
	proxyMaxQuery       = 4 << 10   // bytes of a query string
	proxyHeaderTimeout  = 2 * time.Minute
	proxyDialTimeout    = 10 * time.Second
	proxyCopyBufferSize = 64 << 10
)

// dicomwebProxy forwards the page's DICOMweb requests under /dicom-web to
// one PACS: searches and retrievals (GET) of studies, series, instances and
// metadata, and storage (POST of multipart/related DICOM). Everything else
// is refused with a reason, logged. It sends the PACS only the headers a
// DICOMweb request needs (never the page's cookies), the configured
// credentials (the page's own Authorization when none are configured), and
// streams both ways.
type dicomwebProxy struct {
	target  *url.URL
	auth    proxyAuth
	client  *http.Client
	log     *log.Logger
	headers [][2]string // security headers of every answer
	slots   chan struct{}
}

func newProxy(cfg pacsConfig, headers [][2]string, l *log.Logger) *dicomwebProxy {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: proxyDialTimeout}).DialContext,
		ResponseHeaderTimeout: proxyHeaderTimeout,
		TLSHandshakeTimeout:   proxyDialTimeout,
		MaxIdleConnsPerHost:   proxyMaxConcurrent,
		IdleConnTimeout:       time.Minute,
		DisableCompression:    true, // the page's Accept-Encoding passes through
	}
	return &dicomwebProxy{
		target: cfg.proxy,
		auth:   cfg.proxyAuth,
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log:     l,
		headers: headers,
		slots:   make(chan struct{}, proxyMaxConcurrent),
	}
}

// withProxy sends requests under /dicom-web to p and the rest to site.
func withProxy(site http.Handler, p *dicomwebProxy) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == proxyPrefix || strings.HasPrefix(r.URL.Path, proxyPrefix+"/") {
			p.ServeHTTP(w, r)
			return
		}
		site.ServeHTTP(w, r)
	})
}

// Request headers passed to the PACS, and answer headers passed back.
var (
	proxyRequestHeaders  = []string{"Accept", "Accept-Encoding", "Content-Type"}
	proxyResponseHeaders = []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Last-Modified", "Warning"}
)

func (p *dicomwebProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, kv := range p.headers {
		h.Set(kv[0], kv[1])
	}
	h.Set("Cache-Control", "no-store") // patient data
	if status, why := p.check(r); status != 0 {
		p.refuse(w, r, status, why)
		return
	}
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	default:
		p.refuse(w, r, http.StatusServiceUnavailable, fmt.Sprintf("more than %d PACS requests at once; try again", proxyMaxConcurrent))
		return
	}

	rest := strings.TrimPrefix(r.URL.Path, proxyPrefix)
	u := *p.target
	u.Path += rest
	u.RawQuery = r.URL.RawQuery
	var body io.Reader
	if r.Method == http.MethodPost {
		body = http.MaxBytesReader(w, r.Body, proxyMaxStore)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), body)
	if err != nil {
		p.refuse(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if body != nil {
		out.ContentLength = r.ContentLength
	}
	for _, k := range proxyRequestHeaders {
		if v := r.Header.Values(k); len(v) > 0 {
			out.Header[k] = v
		}
	}
	out.Header.Set("User-Agent", "sscscore-serve")
	switch {
	case p.auth.user != "":
		out.SetBasicAuth(p.auth.user, p.auth.password)
	case p.auth.token != "":
		out.Header.Set("Authorization", "Bearer "+p.auth.token)
	case r.Header.Get("Authorization") != "":
		out.Header.Set("Authorization", r.Header.Get("Authorization")) // the page's own
	}
	resp, err := p.client.Do(out)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			p.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("a store request larger than %d MB", proxyMaxStore>>20))
		case r.Context().Err() != nil:
			p.log.Printf("dicomweb proxy: %s %s: the page gave up (%v)", r.Method, r.URL.Path, r.Context().Err())
		default:
			p.log.Printf("dicomweb proxy: %s %s: %v", r.Method, u.Redacted(), err)
			http.Error(w, "502 bad gateway: the PACS at "+origin(p.target)+" cannot be reached", http.StatusBadGateway)
		}
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.StatusCode != http.StatusNotModified {
		p.log.Printf("dicomweb proxy: %s %s: the PACS answered %s (to %q), which the proxy does not follow", r.Method, u.Redacted(), resp.Status, resp.Header.Get("Location"))
		http.Error(w, "502 bad gateway: the PACS answered with a redirect, which the proxy does not follow", http.StatusBadGateway)
		return
	}
	for _, k := range proxyResponseHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	if r.Method == http.MethodHead {
		return
	}
	if n, err := copyFlushing(w, io.LimitReader(resp.Body, proxyMaxResponse+1)); err != nil || n > proxyMaxResponse {
		if err == nil {
			err = fmt.Errorf("the answer is larger than %d GB", proxyMaxResponse>>30)
		}
		if r.Context().Err() == nil {
			p.log.Printf("dicomweb proxy: %s %s: stopped after %d bytes: %v", r.Method, u.Redacted(), n, err)
		}
		panic(http.ErrAbortHandler) // the page sees a broken answer, not a complete one
	}
}

// copyFlushing copies src to w, flushing after each read, so that the page
// receives each DICOM file of a retrieval as soon as the PACS sends it.
func copyFlushing(w http.ResponseWriter, src io.Reader) (int64, error) {
	rc := http.NewResponseController(w)
	buf := make([]byte, proxyCopyBufferSize)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return n, werr
			}
			n += int64(k)
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return n, ferr
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// refuse answers status with a reason in plain words, and logs it.
func (p *dicomwebProxy) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	p.log.Printf("dicomweb proxy: refused %s %q: %s", r.Method, r.URL.RequestURI(), why)
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", allowOf(r.URL.Path))
	}
	http.Error(w, fmt.Sprintf("%d %s: %s", status, strings.ToLower(http.StatusText(status)), why), status)
}

// check returns 0 when r may be forwarded, else the status and reason of
// its refusal.
func (p *dicomwebProxy) check(r *http.Request) (int, string) {
	if c := path.Clean(r.URL.Path); r.URL.RawPath != "" || (c != r.URL.Path && c+"/" != r.URL.Path) || strings.ContainsAny(r.URL.Path, "\\\x00") {
		return http.StatusBadRequest, "the path must be plain (no encoded characters, dot segments or double slashes)"
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return http.StatusForbidden, "requests from other sites (" + site + ") are not forwarded"
	}
	if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
		return http.StatusForbidden, "requests from other origins (" + o + ") are not forwarded"
	}
	methods := allowOf(r.URL.Path)
	if methods == "" {
		return http.StatusNotFound, "not a DICOMweb search, retrieval or storage path: the proxy forwards only " + proxyPrefix + "/studies[/UID[/series[/UID[/instances[/UID]]]]][/metadata] (GET) and " + proxyPrefix + "/studies[/UID] (POST)"
	}
	if !slices.Contains(strings.Split(methods, ", "), r.Method) {
		return http.StatusMethodNotAllowed, r.Method + " is not forwarded for this path (only " + methods + ")"
	}
	if len(r.URL.RawQuery) > proxyMaxQuery {
		return http.StatusRequestURITooLong, "the query is too long"
	}
	if r.Method == http.MethodPost {
		if r.URL.RawQuery != "" {
			return http.StatusBadRequest, "a store request takes no query"
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/related" {
			return http.StatusUnsupportedMediaType, "a store request must be multipart/related DICOM (STOW-RS)"
		}
		if r.ContentLength > proxyMaxStore {
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("a store request larger than %d MB", proxyMaxStore>>20)
		}
	}
	return 0, ""
}

// allowOf returns the methods the proxy forwards for a path under
// /dicom-web ("GET, HEAD", "GET, HEAD, POST"), or "" when it forwards none.
func allowOf(p string) string {
	rest, ok := strings.CutPrefix(p, proxyPrefix+"/")
	if !ok {
		return ""
	}
	seg := strings.Split(rest, "/")
	n := len(seg)
	for i, s := range seg {
		// studies UID series UID instances UID, then optionally metadata
		var ok bool
		switch i {
		case 0:
			ok = s == "studies"
		case 2:
			ok = s == "series" || (s == "metadata" && n == 3)
		case 4:
			ok = s == "instances" || (s == "metadata" && n == 5)
		case 6:
			ok = s == "metadata" && n == 7
		case 1, 3, 5:
			ok = isUID(s)
		}
		if !ok {
			return ""
		}
	}
	switch {
	case n > 7:
		return ""
	case n <= 2:
		return "GET, HEAD, POST" // search or retrieve; store
	}
	return "GET, HEAD"
}

// isUID reports whether s is a DICOM UID: digits and dots, at most 64.
func isUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
