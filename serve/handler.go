package main

import (
	"bytes"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ContentSecurityPolicy is sent with every response. Go's WebAssembly needs
// 'wasm-unsafe-eval' (never 'unsafe-eval'); the page starts one dedicated
// worker from this origin; nothing is loaded from anywhere else, no inline
// script or style runs, and the page cannot be framed or submit forms.
// Downloads are made from blob: URLs, which need no directive.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; " +
	"worker-src 'self'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; " +
	"font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// PermissionsPolicy turns off the powerful features the app never uses.
const PermissionsPolicy = "accelerometer=(), autoplay=(), camera=(), display-capture=(), " +
	"geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), " +
	"publickey-credentials-get=(), screen-wake-lock=(), usb=(), xr-spatial-tracking=()"

// securityHeaders are set on every response, errors included.
var securityHeaders = [][2]string{
	{"Content-Security-Policy", ContentSecurityPolicy},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
	{"X-Content-Type-Options", "nosniff"},
	{"X-Frame-Options", "DENY"},
	{"Referrer-Policy", "no-referrer"},
	{"Permissions-Policy", PermissionsPolicy},
}

// headers returns the security headers of the site's responses: its own
// Content-Security-Policy (with the -dicomweb origins) and the others.
func (s *site) headers() [][2]string {
	out := make([][2]string, len(securityHeaders))
	copy(out, securityHeaders)
	for i := range out {
		if out[i][0] == "Content-Security-Policy" && s.csp != "" {
			out[i][1] = s.csp
		}
	}
	return out
}

// cacheControl makes browsers revalidate every file with its ETag (a cheap
// 304 when nothing changed): file names carry no version, and the service
// worker keeps the offline copy.
const cacheControl = "no-cache"

// ServeHTTP serves the site's files: GET and HEAD only, no directory
// listings, no path outside the site, the best precompressed variant the
// client accepts.
func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for _, kv := range s.headers() {
		h.Set(kv[0], kv[1])
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed: this server only serves static files", http.StatusMethodNotAllowed)
		return
	}
	name, ok := assetName(r)
	if !ok {
		http.Error(w, "400 bad request: invalid path", http.StatusBadRequest)
		return
	}
	a := s.assets[name]
	if a == nil {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	body, etag := a.body, a.etag
	if len(a.variants) > 0 {
		h.Set("Vary", "Accept-Encoding")
		if v := a.choose(r.Header.Get("Accept-Encoding")); v != nil {
			body, etag = v.body, v.etag
			h.Set("Content-Encoding", v.encoding)
		}
	}
	h.Set("Content-Type", a.ctype)
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// assetName maps a request path to the name of a file in the site. It
// refuses anything that is not a plain, clean path: dot segments,
// backslashes, NUL bytes, encoded separators.
func assetName(r *http.Request) (string, bool) {
	p := r.URL.Path
	if r.URL.RawPath != "" || !strings.HasPrefix(p, "/") {
		return "", false
	}
	if p == "/" {
		return "index.html", true
	}
	name := p[1:]
	if strings.ContainsAny(name, "\\\x00") || !fs.ValidPath(name) {
		return "", false
	}
	return name, true
}

// choose returns the variant to send for an Accept-Encoding header, or nil
// for the identity content. The coding with the highest q-value wins; ties
// go to the smaller (first) variant.
func (a *asset) choose(acceptEncoding string) *variant {
	if acceptEncoding == "" {
		return nil
	}
	q := parseAcceptEncoding(acceptEncoding)
	var best *variant
	bestQ := 0.0
	for i := range a.variants {
		v := &a.variants[i]
		vq, ok := q[v.encoding]
		if !ok {
			vq, ok = q["*"]
		}
		if ok && vq > bestQ {
			best, bestQ = v, vq
		}
	}
	return best
}

// parseAcceptEncoding returns the q-value of each coding listed in an
// Accept-Encoding header (lower-cased; "x-gzip" counts as "gzip").
func parseAcceptEncoding(s string) map[string]float64 {
	q := map[string]float64{}
	for part := range strings.SplitSeq(s, ",") {
		fields := strings.Split(part, ";")
		coding := strings.ToLower(strings.TrimSpace(fields[0]))
		if coding == "" {
			continue
		}
		if coding == "x-gzip" {
			coding = "gzip"
		}
		val := 1.0
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if x, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && x >= 0 && x <= 1 {
					val = x
				} else {
					val = 0
				}
			}
		}
		q[coding] = val
	}
	return q
}
