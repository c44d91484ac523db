// Command precompress writes brotli (.br) and gzip (.gz) variants of files at
// build time, for the server to send to browsers that accept them.
//
// Usage:
//
//	precompress [-force] [-q quality] FILE...
//
// For each FILE it writes FILE.br (brotli, quality 11 unless -q says
// otherwise, 16 MiB window) and FILE.gz (gzip level 9), each through a
// temporary file renamed into place. The files are compressed in parallel
// (brotli at quality 11 runs at about 0.3 MB/s per core).
// A variant that already decompresses to FILE's current content is kept as
// it is, so rebuilding an unchanged binary costs a decompression, not a
// compression (-force recompresses anyway). It prints each file's sizes.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/andybalholm/brotli"
)

func main() {
	force := flag.Bool("force", false, "recompress even when the variants are up to date")
	flag.IntVar(&brotliQuality, "q", brotli.BestCompression, "brotli `quality` (0-11)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: precompress [-force] FILE...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	names := flag.Args()
	sizes := make([][3]int64, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { sizes[i], errs[i] = precompress(name, *force) })
	}
	wg.Wait()
	failed := false
	for i, name := range names {
		if errs[i] != nil {
			fmt.Fprintln(os.Stderr, "precompress:", errs[i])
			failed = true
			continue
		}
		fmt.Printf("%s: %d bytes, brotli %d, gzip %d\n", name, sizes[i][0], sizes[i][1], sizes[i][2])
	}
	if failed {
		os.Exit(1)
	}
}

// A coding is one content coding written by precompress.
type coding struct {
	ext    string
	encode func(w io.Writer) (io.WriteCloser, error)
	decode func(r io.Reader) (io.Reader, error)
}

// brotliQuality is the brotli quality level (-q).
var brotliQuality = brotli.BestCompression

var codings = []coding{
	{
		ext: ".br",
		encode: func(w io.Writer) (io.WriteCloser, error) {
			return brotli.NewWriterOptions(w, brotli.WriterOptions{Quality: brotliQuality, LGWin: 24}), nil
		},
		decode: func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
	},
	{
		ext: ".gz",
		encode: func(w io.Writer) (io.WriteCloser, error) {
			return gzip.NewWriterLevel(w, gzip.BestCompression)
		},
		decode: func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	},
}

// precompress writes the variants of the named file and returns the sizes of
// the file and of its brotli and gzip variants.
func precompress(name string, force bool) ([3]int64, error) {
	var sizes [3]int64
	src, err := os.ReadFile(name)
	if err != nil {
		return sizes, err
	}
	sizes[0] = int64(len(src))
	var wg sync.WaitGroup
	errs := make([]error, len(codings))
	for i, c := range codings {
		wg.Go(func() {
			out := name + c.ext
			if !force && upToDate(out, src, c) {
				if fi, err := os.Stat(out); err == nil {
					sizes[i+1] = fi.Size()
				}
				return
			}
			n, err := writeVariant(out, src, c)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", out, err)
			}
			sizes[i+1] = n
		})
	}
	wg.Wait()
	return sizes, errors.Join(errs...)
}

// upToDate reports whether the file out exists and decompresses to src.
func upToDate(out string, src []byte, c coding) bool {
	b, err := os.ReadFile(out)
	if err != nil {
		return false
	}
	r, err := c.decode(bytes.NewReader(b))
	if err != nil {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(r, int64(len(src))+1))
	return err == nil && bytes.Equal(got, src)
}

// writeVariant compresses src into out through a temporary file and returns
// the compressed size.
func writeVariant(out string, src []byte, c coding) (int64, error) {
	// A dot name: go:embed leaves it out should the server be built meanwhile.
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // after a successful rename this fails harmlessly
	w, err := c.encode(tmp)
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if _, err := w.Write(src); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := w.Close(); err != nil {
		tmp.Close()
		return 0, err
	}
	fi, err := tmp.Stat()
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	return fi.Size(), os.Rename(tmp.Name(), out)
}
