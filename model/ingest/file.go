package ingest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// File is one named input: a disk file, a browser File object, or an entry
// of a zip archive. R is read only where needed (headers in the scan, pixel
// bytes when a slice is decoded), so a slow ReaderAt costs little.
type File struct {
	// Path names the file in reports (a zip entry is "archive.zip!/dir/name").
	Path string
	// Size is the number of bytes R holds.
	Size int64
	// R reads the file's bytes; it must be safe for concurrent ReadAt calls.
	R io.ReaderAt
}

// BytesFile returns a File reading from b.
func BytesFile(path string, b []byte) File {
	return File{Path: path, Size: int64(len(b)), R: bytes.NewReader(b)}
}

// DiskFiles expands paths (files and directories, recursively) into Files
// sorted by path. File contents are not read: each ReadAt opens the file,
// reads and closes it, so thousands of files hold no descriptors open.
func DiskFiles(paths ...string) ([]File, error) {
	var out []File
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if !info.IsDir() {
			out = append(out, File{Path: p, Size: info.Size(), R: diskFile(p)})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			if fi.Mode()&fs.ModeSymlink != 0 {
				if fi, err = os.Stat(path); err != nil {
					return nil // a dangling link
				}
			}
			if !fi.Mode().IsRegular() {
				return nil
			}
			out = append(out, File{Path: path, Size: fi.Size(), R: diskFile(path)})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// diskFile is an io.ReaderAt on a file by name. Open files are shared
// through a small cache, so a folder of thousands of files holds at most
// maxOpenFiles descriptors and a file read twice in a row (header, then
// pixels) is opened once.
type diskFile string

func (d diskFile) ReadAt(p []byte, off int64) (int, error) {
	e, err := openFiles.get(string(d))
	if err != nil {
		return 0, err
	}
	defer openFiles.put(e)
	return e.f.ReadAt(p, off)
}

const maxOpenFiles = 32

var openFiles = &fdCache{m: map[string]*fdEntry{}}

type fdCache struct {
	mu   sync.Mutex
	m    map[string]*fdEntry
	tick uint64
}

type fdEntry struct {
	f    *os.File
	refs int
	last uint64
}

func (c *fdCache) get(path string) (*fdEntry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if e, ok := c.m[path]; ok {
		e.refs++
		e.last = c.tick
		return e, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	e := &fdEntry{f: f, refs: 1, last: c.tick}
	c.m[path] = e
	for len(c.m) > maxOpenFiles {
		var oldest string
		var old *fdEntry
		for p, x := range c.m {
			if x.refs == 0 && (old == nil || x.last < old.last) {
				oldest, old = p, x
			}
		}
		if old == nil {
			break // all in use: allow more for now
		}
		old.f.Close()
		delete(c.m, oldest)
	}
	return e, nil
}

func (c *fdCache) put(e *fdEntry) {
	c.mu.Lock()
	e.refs--
	c.mu.Unlock()
}

// Zip archives: entries become Files. A stored entry is read in place; a
// compressed one is inflated from its start on each ReadAt (headers are
// read once or twice, pixel data once per decode), so no inflater stays
// open between reads. A zip inside a zip is opened in place when stored and
// read into memory when compressed and at most maxNestedZip bytes.
const (
	maxNestedZip = 256 << 20
	maxZipDepth  = 4
)

func zipEntries(f File) ([]File, error) {
	if strings.Count(f.Path, "!/") >= maxZipDepth {
		return nil, fmt.Errorf("zip archives nested deeper than %d", maxZipDepth)
	}
	r := f.R
	if ze, ok := r.(*zipEntry); ok {
		// A compressed zip inside a zip: random access needs it in memory.
		if f.Size > maxNestedZip {
			return nil, fmt.Errorf("compressed nested zip archive of %d MB is too large to open in place; extract it first", f.Size>>20)
		}
		b := make([]byte, f.Size)
		if _, err := ze.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	zr, err := zip.NewReader(r, f.Size)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || strings.HasSuffix(zf.Name, "/") {
			continue
		}
		path := f.Path + "!/" + zf.Name
		size := int64(zf.UncompressedSize64)
		if zf.Method == zip.Store {
			off, err := zf.DataOffset()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", zf.Name, err)
			}
			out = append(out, File{Path: path, Size: size, R: io.NewSectionReader(r, off, size)})
			continue
		}
		out = append(out, File{Path: path, Size: size, R: &zipEntry{zf: zf}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// zipEntry reads a compressed zip entry by inflating it from the start.
type zipEntry struct{ zf *zip.File }

func (z *zipEntry) ReadAt(p []byte, off int64) (int, error) {
	rc, err := z.zf.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	if off > 0 {
		if _, err := io.CopyN(io.Discard, rc, off); err != nil {
			if err == io.EOF {
				return 0, io.EOF
			}
			return 0, err
		}
	}
	n, err := io.ReadFull(rc, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}
