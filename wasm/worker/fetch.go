//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// fetchDoer sends the PACS requests (model/dicomweb) with the worker's own
// fetch. net/http's client does the same in the browser, but linking it
// would add about a megabyte to worker.wasm; this needs only net/http's
// request and response types. Response bodies are streamed: a retrieval's
// parts reach the header pass as they arrive. Cancelling the request's
// context aborts the fetch. No cookies or other browser credentials are
// sent: only the headers of the request.
type fetchDoer struct{}

// Do implements dicomweb.Doer.
func (fetchDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	g := js.Global()
	abort := g.Get("AbortController").New()
	headers := g.Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			headers.Call("append", k, v)
		}
	}
	opt := map[string]any{
		"method": req.Method, "headers": headers, "signal": abort.Get("signal"),
		"credentials": "omit", "cache": "no-store", "redirect": "follow", "mode": "cors",
	}
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		arr := g.Get("Uint8Array").New(len(b))
		js.CopyBytesToJS(arr, b)
		opt["body"] = arr
	}
	resp, err := await(ctx, abort, g.Call("fetch", req.URL.String(), opt))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	each := js.FuncOf(func(this js.Value, args []js.Value) any {
		h.Add(args[1].String(), args[0].String())
		return nil
	})
	resp.Get("headers").Call("forEach", each)
	each.Release()
	status := resp.Get("status").Int()
	length := int64(-1)
	if n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err == nil {
		length = n
	}
	var body io.ReadCloser = http.NoBody
	if b := resp.Get("body"); b.Truthy() {
		body = &streamBody{ctx: ctx, abort: abort, reader: b.Call("getReader")}
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, resp.Get("statusText").String()), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: body, ContentLength: length, Request: req,
	}, nil
}

// await waits for a promise; when ctx ends first, abort is called and
// ctx's error returned.
func await(ctx context.Context, abort js.Value, p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(this js.Value, args []js.Value) any {
		ch <- result{v: args[0]}
		return nil
	})
	fail := js.FuncOf(func(this js.Value, args []js.Value) any {
		msg := "the request failed"
		if len(args) > 0 && args[0].Truthy() {
			if m := args[0].Get("message"); m.Truthy() {
				msg = m.String()
			}
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	p.Call("then", ok, fail)
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		abort.Call("abort")
		<-ch // the promise settles (rejected) once aborted
		return js.Undefined(), ctx.Err()
	}
}

// streamBody reads a fetch response's body stream chunk by chunk.
type streamBody struct {
	ctx    context.Context
	abort  js.Value
	reader js.Value
	chunk  []byte // the last chunk read
	buf    []byte // what is left of it
	err    error
}

func (b *streamBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		r, err := await(b.ctx, b.abort, b.reader.Call("read"))
		if err != nil {
			b.err = err // dicomweb says that the connection broke
			continue
		}
		if r.Get("done").Bool() {
			b.err = io.EOF
			continue
		}
		v := r.Get("value")
		n := v.Get("length").Int()
		if cap(b.chunk) < n {
			b.chunk = make([]byte, n)
		}
		b.buf = b.chunk[:n]
		js.CopyBytesToGo(b.buf, v)
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// Close stops the download if it is still running.
func (b *streamBody) Close() error {
	if b.err == nil {
		b.err = errors.New("read on a closed body")
		b.reader.Call("cancel")
	}
	return nil
}
