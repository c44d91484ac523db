// Command precompress writes brotli (.br) and gzip (.gz) variants of files at
// build time, for the server to send to browsers that accept them.
//
// Usage:
//
//	precompress [-force] [-q quality] FILE...
//
// For each FILE it writes FILE.br (brotli, quality 11 unless -q says
// otherwise, 16 MiB window) and FILE.gz (gzip level 9), each compressed in
// memory and then written through a temporary file renamed into place, so
// that an interrupted build leaves no partial or temporary file beside FILE. The files are compressed in parallel
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
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/andybalholm/brotli"

	"sscscore/model/parallel"
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
	cleanupOnSignal()
	names := flag.Args()
	sizes := make([][3]int64, len(names))
	errs := make([]error, len(names))
	parallel.Do(len(names), func(i int) { sizes[i], errs[i] = precompress(names[i], *force) })
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
	errs := make([]error, len(codings))
	parallel.Do(len(codings), func(i int) {
		c := codings[i]
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

// writeVariant compresses src into out and returns the compressed size.
//
// An interrupted build leaves nothing beside out: the compression (minutes
// for a large file at brotli quality 11) runs in memory, and only then are
// the bytes written to a temporary file in out's folder and renamed over
// out (a rename is atomic only within one file system, hence the folder).
// That file lives for the milliseconds of the write; an interrupt
// (SIGINT or SIGTERM) meanwhile removes it before the program exits
// (see pending), and the next run removes any that a harder kill left
// (removeStale).
func writeVariant(out string, src []byte, c coding) (int64, error) {
	var buf bytes.Buffer
	w, err := c.encode(&buf)
	if err != nil {
		return 0, err
	}
	if _, err := w.Write(src); err != nil {
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, err
	}
	removeStale(out)
	// A dot name: go:embed leaves it out should the server be built meanwhile.
	tmp, err := pending.create(out)
	if err != nil {
		return 0, err
	}
	defer pending.remove(tmp.Name()) // after a successful rename this fails harmlessly
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, err
	}
	return int64(buf.Len()), os.Rename(tmp.Name(), out)
}

// tempPattern is the name pattern of out's temporary file.
func tempPattern(out string) string { return "." + filepath.Base(out) + ".tmp*" }

// removeStale removes temporary files of out that an earlier run, killed
// while writing, left behind.
func removeStale(out string) {
	stale, _ := filepath.Glob(filepath.Join(filepath.Dir(out), tempPattern(out)))
	for _, f := range stale {
		if !pending.has(f) {
			os.Remove(f)
		}
	}
}

// tempFiles is the set of temporary files being written, removed on an
// interrupt.
type tempFiles struct {
	mu     sync.Mutex
	names  map[string]bool
	closed bool // after removeAll: no more are made
}

// pending holds this run's temporary files.
var pending = &tempFiles{names: map[string]bool{}}

// create makes a temporary file for out in out's folder and records it.
func (p *tempFiles) create(out string) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("interrupted")
	}
	f, err := os.CreateTemp(filepath.Dir(out), tempPattern(out))
	if err != nil {
		return nil, err
	}
	p.names[f.Name()] = true
	return f, nil
}

// has reports whether name is one of this run's temporary files.
func (p *tempFiles) has(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.names[name]
}

// remove deletes a temporary file and forgets it.
func (p *tempFiles) remove(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	os.Remove(name)
	delete(p.names, name)
}

// removeAll deletes every recorded temporary file and makes create fail
// from then on; it is called on an interrupt.
func (p *tempFiles) removeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for name := range p.names {
		os.Remove(name)
		delete(p.names, name)
	}
}

// cleanupOnSignal removes the temporary files and exits when the program
// is interrupted.
func cleanupOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		pending.removeAll()
		fmt.Fprintf(os.Stderr, "precompress: %v: stopped; no temporary file left\n", sig)
		os.Exit(1)
	}()
}
