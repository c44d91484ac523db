//go:build js && wasm

// Package jsfile reads browser File (or Blob) objects from Go, lazily:
// [Reader] is an io.ReaderAt that reads only what is asked for (or, when
// that is most of the file, the whole file).
//
// A dropped folder is thus never copied: the worker holds File references,
// reads each file's header, and later the pixel bytes of the slices it
// decodes.
//
// Each read waits for the browser (a round trip to the process that owns
// the file). ReadAt blocks only its goroutine: while it waits, the Go
// runtime runs the others, so callers that read with several goroutines at
// once (the ingestion's header pass, the worker's slice decoding) overlap
// those waits. ReadAt must not be called from a JavaScript callback (an
// event handler), which cannot block.
//
// Measured in a worker on a 300-file series (0.5 MB a file): FileReaderSync
// took 2.9 ms a call, one at a time; the first file.slice() of a File costs
// a synchronous look at the file on disk (2.3 ms); streaming the first
// chunk (file.stream()) was slower still. So a read of a small file, or of
// most of a file, reads it whole with file.arrayBuffer(), and only reads of
// small parts of large files (multi-frame DICOM) slice it.
package jsfile

import (
	"errors"
	"fmt"
	"io"
	"syscall/js"
)

// Reader reads a File. It is safe for concurrent use.
type Reader struct {
	file js.Value
	name string
	size int64
}

// New returns a Reader of a File or Blob.
func New(file js.Value) *Reader {
	name := ""
	if n := file.Get("name"); n.Type() == js.TypeString {
		name = n.String()
	}
	return &Reader{file: file, name: name, size: int64(file.Get("size").Float())}
}

// Size returns the file's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// result is the outcome of a promise.
type result struct {
	v   js.Value
	err error
}

// await waits for a JavaScript promise, blocking only the calling
// goroutine.
func (r *Reader) await(promise js.Value) (js.Value, error) {
	ch := make(chan result, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "the browser could not read it"
		if len(args) > 0 && args[0].Truthy() {
			if m := args[0].Get("message"); m.Truthy() {
				msg = m.String()
			}
		}
		ch <- result{err: fmt.Errorf("jsfile: reading %s: %s (was it moved or changed?)", r.name, msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	promise.Call("then", ok, fail)
	res := <-ch
	return res.v, res.err
}

var uint8Array = js.Global().Get("Uint8Array")

// wholeFileMax is the size up to which any read reads the whole file: a
// single-slice DICOM file is typically 0.5 MB, and reading it whole is
// faster than slicing it.
const wholeFileMax = 2 << 20

// ReadAt implements io.ReaderAt.
func (r *Reader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("jsfile: negative offset")
	}
	if off >= r.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	end := min(off+int64(len(p)), r.size)
	var n int
	var err error
	switch {
	case 2*(end-off) >= r.size || r.size <= wholeFileMax:
		n, err = r.readWhole(p[:end-off], off)
	default:
		var buf js.Value
		buf, err = r.await(r.file.Call("slice", float64(off), float64(end)).Call("arrayBuffer"))
		if err == nil {
			n = js.CopyBytesToGo(p, uint8Array.New(buf))
		}
	}
	if err != nil {
		return n, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readWhole reads the whole file and copies the bytes at off into p.
func (r *Reader) readWhole(p []byte, off int64) (int, error) {
	buf, err := r.await(r.file.Call("arrayBuffer"))
	if err != nil {
		return 0, err
	}
	return js.CopyBytesToGo(p, uint8Array.New(buf, float64(off), len(p))), nil
}
