//go:build js && wasm

// Package jsfile reads browser File (or Blob) objects from Go inside a Web
// Worker, lazily: [Reader] is an io.ReaderAt that reads only the byte range
// asked for, with FileReaderSync.readAsArrayBuffer(file.slice(off, end)).
// FileReaderSync exists only in workers; the page must never block on it.
//
// A dropped folder is thus never copied: the worker holds File references,
// reads each file's header, and later the pixel bytes of the slices it
// decodes.
package jsfile

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

// Reader reads a File. It is safe for concurrent use (calls into
// JavaScript run one at a time).
type Reader struct {
	file js.Value
	size int64
	frs  js.Value
}

// New returns a Reader of a File or Blob. It fails outside a worker, where
// FileReaderSync does not exist.
func New(file js.Value) (*Reader, error) {
	ctor := js.Global().Get("FileReaderSync")
	if ctor.IsUndefined() {
		return nil, errors.New("jsfile: FileReaderSync is only available in a Web Worker")
	}
	return &Reader{file: file, size: int64(file.Get("size").Float()), frs: ctor.New()}, nil
}

// Size returns the file's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (n int, err error) {
	if off < 0 {
		return 0, errors.New("jsfile: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), r.size)
	defer func() {
		if x := recover(); x != nil { // the browser throws if the file changed or vanished
			n, err = 0, fmt.Errorf("jsfile: reading %s: %v", r.file.Get("name").String(), x)
		}
	}()
	buf := r.frs.Call("readAsArrayBuffer", r.file.Call("slice", float64(off), float64(end)))
	n = js.CopyBytesToGo(p, js.Global().Get("Uint8Array").New(buf))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
