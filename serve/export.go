package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// exportSite writes every file of s into dir (created if need be), each with
// its precompressed variants, plus a _headers file with the HTTP headers the
// site should be served with (the format Netlify and Cloudflare Pages read;
// other servers: copy the lines into their configuration). It returns the
// number of files written.
func exportSite(s *site, dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("export: %w", err)
	}
	names := make([]string, 0, len(s.assets))
	for n := range s.assets {
		names = append(names, n)
	}
	sort.Strings(names)
	count := 0
	write := func(name string, b []byte) error {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		count++
		return nil
	}
	for _, n := range names {
		a := s.assets[n]
		if err := write(n, a.body); err != nil {
			return count, err
		}
		for _, v := range a.variants {
			if err := write(n+v.ext, v.body); err != nil {
				return count, err
			}
		}
	}
	if err := write("_headers", []byte(headersFile(s))); err != nil {
		return count, err
	}
	return count, nil
}

// headersFile returns the _headers file of an exported site.
func headersFile(s *site) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# sscscore static site, build %s.\n", s.build)
	b.WriteString("# Serve every file with these headers; serve .wasm as application/wasm.\n")
	b.WriteString("# The app works offline once loaded: no request ever carries image data.\n")
	b.WriteString("/*\n")
	for _, kv := range s.headers() {
		fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
	}
	fmt.Fprintf(&b, "  Cache-Control: %s\n", cacheControl)
	return b.String()
}
