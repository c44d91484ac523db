//go:build js && wasm

package main

import (
	"fmt"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"sscscore/wasm/internal/protocol"
)

// bindInput wires the drop zone (the whole window accepts drops), the file
// and folder pickers and the demo button.
func (a *app) bindInput() {
	win := js.Global()
	zone := a.byID("drop")
	depth := 0
	on(win, "dragenter", func(ev js.Value) {
		if !hasFiles(ev) {
			return
		}
		ev.Call("preventDefault")
		depth++
		zone.Class().Add("over")
	})
	on(win, "dragleave", func(ev js.Value) {
		if depth > 0 {
			depth--
		}
		if depth == 0 {
			zone.Class().Remove("over")
		}
	})
	on(win, "dragover", func(ev js.Value) {
		// Without this the browser would open a dropped file itself.
		ev.Call("preventDefault")
		if dt := ev.Get("dataTransfer"); dt.Truthy() {
			effect := "copy"
			if a.ready == nil || !hasFiles(ev) {
				effect = "none"
			}
			dt.Set("dropEffect", effect)
		}
	})
	on(win, "drop", func(ev js.Value) {
		ev.Call("preventDefault")
		depth = 0
		zone.Class().Remove("over")
		if a.ready == nil {
			a.status("The scan reader is still starting; please drop the files again in a moment.")
			return
		}
		a.onDrop(ev.Get("dataTransfer"))
	})

	fileInput, folderInput := a.input("file-input"), a.input("folder-input")
	on(a.byID("pick-files").Value, "click", func(js.Value) { fileInput.Click() })
	on(a.byID("pick-folder").Value, "click", func(js.Value) { folderInput.Click() })
	for _, in := range []*dom.HTMLInputElement{fileInput, folderInput} {
		on(in.BasicHTMLElement.Value, "change", func(js.Value) {
			list := in.Get("files")
			files, paths := make([]any, 0, list.Length()), make([]string, 0, list.Length())
			for i := range list.Length() {
				f := list.Index(i)
				p := ""
				if rp := f.Get("webkitRelativePath"); rp.Truthy() {
					p = rp.String()
				}
				if p == "" {
					p = f.Get("name").String()
				}
				files = append(files, f)
				paths = append(paths, p)
			}
			in.SetValue("") // choosing the same files again fires change again
			a.open(files, paths)
		})
	}
	on(a.byID("demo").Value, "click", func(js.Value) {
		a.newJob(&protocol.Msg{Kind: protocol.Demo}, nil)
	})
}

// hasFiles reports whether a drag carries files (not text or a link).
func hasFiles(ev js.Value) bool {
	dt := ev.Get("dataTransfer")
	if !dt.Truthy() {
		return false
	}
	types := dt.Get("types")
	for i := range types.Length() {
		if types.Index(i).String() == "Files" {
			return true
		}
	}
	return false
}

// onDrop collects the dropped files: folders are walked recursively. The
// entries must be taken from the DataTransfer before the handler returns;
// the walk itself is asynchronous.
func (a *app) onDrop(dt js.Value) {
	if !dt.Truthy() {
		return
	}
	var entries []js.Value
	var loose []js.Value
	items := dt.Get("items")
	for i := range items.Length() {
		it := items.Index(i)
		if it.Get("kind").String() != "file" {
			continue
		}
		if fn := it.Get("webkitGetAsEntry"); fn.Type() == js.TypeFunction {
			if e := it.Call("webkitGetAsEntry"); e.Truthy() {
				entries = append(entries, e)
				continue
			}
		}
		if f := it.Call("getAsFile"); f.Truthy() {
			loose = append(loose, f)
		}
	}
	if len(entries) == 0 && len(loose) == 0 {
		files := dt.Get("files")
		for i := range files.Length() {
			loose = append(loose, files.Index(i))
		}
	}
	a.status("Collecting the dropped files…")
	go func() {
		var files []any
		var paths []string
		for _, f := range loose {
			files = append(files, f)
			paths = append(paths, f.Get("name").String())
		}
		var problems []string
		w := walker{found: func(n int) { a.status(fmt.Sprintf("Collecting the dropped files… %d found", n)) }}
		for _, e := range entries {
			w.walk(e)
		}
		files = append(files, w.files...)
		paths = append(paths, w.paths...)
		problems = append(problems, w.problems...)
		if len(files) == 0 {
			msg := "No files were dropped (an empty folder?)."
			if len(problems) > 0 {
				msg = "The dropped items could not be read: " + strings.Join(problems, "; ")
			}
			a.showError(msg)
			a.status("Ready: drop a scan, choose files, or try the demo scan.")
			return
		}
		a.open(files, paths)
	}()
}

// open starts a job reading the given File objects.
func (a *app) open(files []any, paths []string) {
	if len(files) == 0 {
		return
	}
	a.newJob(&protocol.Msg{Kind: protocol.Open, Paths: paths}, files)
}

// walker collects the files under FileSystemEntry objects (drag and drop
// of folders).
type walker struct {
	files    []any
	paths    []string
	problems []string
	found    func(n int)
}

// result is the outcome of one asynchronous browser call.
type result struct {
	v   js.Value
	err error
}

// await calls start with a success and a failure callback and waits for one
// of them. It must run on its own goroutine, never in an event handler.
func await(start func(ok, fail js.Func)) (js.Value, error) {
	ch := make(chan result, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any {
		v := js.Undefined()
		if len(args) > 0 {
			v = args[0]
		}
		ch <- result{v: v}
		return nil
	})
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "unknown error"
		if len(args) > 0 && args[0].Truthy() {
			if m := args[0].Get("message"); m.Truthy() {
				msg = m.String()
			}
		}
		ch <- result{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	start(ok, fail)
	r := <-ch
	return r.v, r.err
}

func (w *walker) walk(e js.Value) {
	path := strings.TrimPrefix(e.Get("fullPath").String(), "/")
	if e.Get("isFile").Bool() {
		f, err := await(func(ok, fail js.Func) { e.Call("file", ok, fail) })
		if err != nil {
			w.problems = append(w.problems, path+": "+err.Error())
			return
		}
		w.files = append(w.files, f)
		w.paths = append(w.paths, path)
		if len(w.files)%100 == 0 {
			w.found(len(w.files))
		}
		return
	}
	if !e.Get("isDirectory").Bool() {
		return
	}
	reader := e.Call("createReader")
	for {
		// readEntries returns the entries in batches until an empty one.
		batch, err := await(func(ok, fail js.Func) { reader.Call("readEntries", ok, fail) })
		if err != nil {
			w.problems = append(w.problems, path+": "+err.Error())
			return
		}
		n := batch.Length()
		if n == 0 {
			return
		}
		var dirs []js.Value
		var fileEntries []js.Value
		for i := range n {
			c := batch.Index(i)
			if c.Get("isDirectory").Bool() {
				dirs = append(dirs, c)
			} else if c.Get("isFile").Bool() {
				fileEntries = append(fileEntries, c)
			}
		}
		w.fileBatch(fileEntries)
		for _, d := range dirs {
			w.walk(d)
		}
	}
}

// fileBatch turns file entries into File objects, asking for all of them at
// once rather than one after the other.
func (w *walker) fileBatch(entries []js.Value) {
	if len(entries) == 0 {
		return
	}
	ch := make(chan struct {
		i int
		result
	}, len(entries))
	var fns []js.Func
	for i, e := range entries {
		ok := js.FuncOf(func(this js.Value, args []js.Value) any {
			ch <- struct {
				i int
				result
			}{i, result{v: args[0]}}
			return nil
		})
		fail := js.FuncOf(func(this js.Value, args []js.Value) any {
			msg := "could not be read"
			if len(args) > 0 && args[0].Truthy() && args[0].Get("message").Truthy() {
				msg = args[0].Get("message").String()
			}
			ch <- struct {
				i int
				result
			}{i, result{err: fmt.Errorf("%s", msg)}}
			return nil
		})
		fns = append(fns, ok, fail)
		e.Call("file", ok, fail)
	}
	got := make([]result, len(entries))
	for range entries {
		r := <-ch
		got[r.i] = r.result
	}
	for _, f := range fns {
		f.Release()
	}
	for i, r := range got {
		path := strings.TrimPrefix(entries[i].Get("fullPath").String(), "/")
		if r.err != nil {
			w.problems = append(w.problems, path+": "+r.err.Error())
			continue
		}
		w.files = append(w.files, r.v)
		w.paths = append(w.paths, path)
	}
	w.found(len(w.files))
}
