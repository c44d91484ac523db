package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/andybalholm/brotli"
)

// An asset is one file of the site, held in memory with its precompressed
// variants.
type asset struct {
	name  string // path inside the site, without a leading slash
	ctype string // Content-Type
	body  []byte // identity content
	etag  string // quoted strong ETag of body
	// variants are the precompressed representations, in order of
	// preference (brotli before gzip).
	variants []variant
}

// A variant is a content-encoded representation of an asset.
type variant struct {
	encoding string // Content-Encoding token: "br" or "gzip"
	ext      string // file suffix: ".br" or ".gz"
	body     []byte
	etag     string
}

// A site is the set of static files served, indexed by path.
type site struct {
	assets map[string]*asset
	// build identifies this set of files: a hash of every file's name and
	// content, used as the service worker's cache version.
	build string
	// warnings lists precompressed files that were ignored (stale or
	// corrupt), for the log.
	warnings []string
	// csp is the Content-Security-Policy sent (ContentSecurityPolicy with
	// the -dicomweb origins).
	csp string
}

// Service worker template markers, replaced when the site is loaded.
const (
	swName         = "sw.js"
	swBuildMarker  = "__SSCSCORE_BUILD__"
	swAssetsMarker = "/*__SSCSCORE_ASSETS__*/"
)

// Files smaller than this are compressed when the site is loaded if no
// precompressed variant ships with them; larger ones (the wasm binaries)
// are compressed at build time by cmd/precompress.
const compressOnLoadMax = 1 << 20

// encodings lists the content codings served, in order of preference.
var encodings = []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}}

// loadSite reads every file of fsys into memory. A file x.br or x.gz next
// to a file x is taken as x's precompressed variant, after checking that it
// decompresses to x's content (a stale variant is dropped with a warning).
// The service worker sw.js gets the build hash and the list of files to
// cache substituted for its markers.
func loadSite(fsys fs.FS) (*site, error) { return loadSiteWith(fsys, pacsConfig{}, false) }

// loadSiteWith is loadSite for a page configured with DICOMweb servers
// (pacs.go): index.html names them, the Content-Security-Policy lets the page
// reach the direct ones. static leaves the proxy out (static hosting has
// none).
func loadSiteWith(fsys fs.FS, pacs pacsConfig, static bool) (*site, error) {
	raw := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		raw[p] = b
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading site files: %w", err)
	}
	if _, ok := raw["index.html"]; !ok {
		return nil, fmt.Errorf("site has no index.html")
	}
	s := &site{assets: map[string]*asset{}, csp: pacs.csp()}
	if page, warn := pacs.configurePage(raw["index.html"], static); !bytes.Equal(page, raw["index.html"]) || len(warn) > 0 {
		raw["index.html"] = page
		for _, e := range encodings {
			delete(raw, "index.html"+e.ext) // variants of the page as shipped
		}
		s.warnings = append(s.warnings, warn...)
	}
	isVariant := func(p string) bool {
		for _, e := range encodings {
			if base, ok := strings.CutSuffix(p, e.ext); ok {
				if _, has := raw[base]; has {
					return true
				}
			}
		}
		return false
	}
	names := make([]string, 0, len(raw))
	for p := range raw {
		if !isVariant(p) {
			names = append(names, p)
		}
	}
	sort.Strings(names)

	// The build hash covers every served file but the service worker, whose
	// content depends on it.
	h := sha256.New()
	for _, p := range names {
		if p == swName {
			continue
		}
		sum := sha256.Sum256(raw[p])
		fmt.Fprintf(h, "%s\x00%x\n", p, sum)
	}
	s.build = hex.EncodeToString(h.Sum(nil))[:16]

	for _, p := range names {
		body := raw[p]
		if p == swName {
			body = s.templateServiceWorker(body, names)
		}
		a := &asset{name: p, ctype: contentType(p), body: body, etag: etagOf(body, "")}
		for _, e := range encodings {
			var vb []byte
			if cb, ok := raw[p+e.ext]; ok && p != swName {
				if err := checkVariant(e.token, cb, body); err != nil {
					s.warnings = append(s.warnings, fmt.Sprintf("ignoring %s%s: %v", p, e.ext, err))
				} else {
					vb = cb
				}
			}
			if vb == nil && len(body) <= compressOnLoadMax && compressible(p) {
				c, err := compress(e.token, body)
				if err != nil {
					return nil, fmt.Errorf("compressing %s: %w", p, err)
				}
				if len(c) < len(body) {
					vb = c
				}
			}
			if vb != nil {
				a.variants = append(a.variants, variant{encoding: e.token, ext: e.ext, body: vb, etag: etagOf(body, e.token)})
			}
		}
		s.assets[p] = a
	}
	return s, nil
}

// templateServiceWorker substitutes the build hash and the list of files to
// precache into the service worker's source.
func (s *site) templateServiceWorker(src []byte, names []string) []byte {
	var list strings.Builder
	list.WriteString(`"./"`)
	for _, p := range names {
		if p == swName {
			continue
		}
		fmt.Fprintf(&list, ", %q", "./"+p)
	}
	out := bytes.ReplaceAll(src, []byte(swBuildMarker), []byte(s.build))
	return bytes.ReplaceAll(out, []byte(swAssetsMarker), []byte(list.String()))
}

// etagOf returns a strong ETag for body in the given content coding ("" for
// identity): representations of one file differ by a suffix.
func etagOf(body []byte, coding string) string {
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:12])
	if coding != "" {
		tag += "-" + coding
	}
	return `"` + tag + `"`
}

// checkVariant reports whether the compressed bytes cb decode to body.
func checkVariant(coding string, cb, body []byte) error {
	var r io.Reader
	switch coding {
	case "br":
		r = brotli.NewReader(bytes.NewReader(cb))
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(cb))
		if err != nil {
			return fmt.Errorf("not gzip data: %w", err)
		}
		r = zr
	default:
		return fmt.Errorf("unknown coding %q", coding)
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(body))+1))
	if err != nil {
		return fmt.Errorf("corrupt %s data: %w", coding, err)
	}
	if !bytes.Equal(got, body) {
		return fmt.Errorf("stale: it does not decompress to the current file (rerun ./build.sh wasm)")
	}
	return nil
}

// compress encodes body with the given content coding at the highest level.
func compress(coding string, body []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "br":
		w = brotli.NewWriterLevel(&buf, brotli.BestCompression)
	case "gzip":
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		w = zw
	default:
		return nil, fmt.Errorf("unknown coding %q", coding)
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// types maps file extensions to Content-Type, so that the answer does not
// depend on the host's mime.types.
var types = map[string]string{
	".html":        "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json",
	".wasm":        "application/wasm",
	".svg":         "image/svg+xml",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".ico":         "image/x-icon",
	".webmanifest": "application/manifest+json",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".woff2":       "font/woff2",
}

// contentType returns the Content-Type of a file by its extension.
func contentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := types[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressible reports whether a file's type benefits from compression.
func compressible(name string) bool {
	t := contentType(name)
	return strings.HasPrefix(t, "text/") || strings.Contains(t, "json") ||
		strings.Contains(t, "svg") || t == "application/wasm"
}
