//go:build js && wasm

package main

import (
	"syscall/js"

	"honnef.co/go/js/dom/v2"
)

// The page uses dom/v2's element types directly. Its generic lookups
// (Document.GetElementByID, CreateElement, QuerySelector) wrap every
// element by comparing its constructor with some seventy globals, one call
// into JavaScript each, which made building the series table take 300 ms;
// and calling methods through its interfaces links every method of every
// element type. So elements are found and made with plain calls and wrapped
// as the concrete type the code knows they are.

// wrap returns an element of the page as a dom/v2 HTML element.
func wrap(v js.Value) *dom.BasicHTMLElement {
	if v.IsNull() || v.IsUndefined() {
		return nil
	}
	return &dom.BasicHTMLElement{BasicElement: &dom.BasicElement{BasicNode: &dom.BasicNode{Value: v}}}
}

var document = js.Global().Get("document")

// byID returns the element with the given id (cached); index.html must
// have it.
func (a *app) byID(id string) *dom.BasicHTMLElement {
	if e, ok := a.el[id]; ok {
		return e
	}
	e := wrap(document.Call("getElementById", id))
	if e == nil {
		panic("ui: index.html has no element #" + id)
	}
	a.el[id] = e
	return e
}

func (a *app) input(id string) *dom.HTMLInputElement {
	return &dom.HTMLInputElement{BasicHTMLElement: a.byID(id)}
}

func (a *app) button(id string) *dom.HTMLButtonElement {
	return &dom.HTMLButtonElement{BasicHTMLElement: a.byID(id)}
}

func (a *app) canvas(id string) *dom.HTMLCanvasElement {
	return &dom.HTMLCanvasElement{BasicHTMLElement: a.byID(id)}
}

// create makes an element.
func create(tag string) *dom.BasicHTMLElement { return wrap(document.Call("createElement", tag)) }

// query returns the first element matching a CSS selector under root (the
// document when root is nil), or nil.
func query(root *dom.BasicHTMLElement, sel string) *dom.BasicHTMLElement {
	r := document
	if root != nil {
		r = root.Value
	}
	return wrap(r.Call("querySelector", sel))
}

// queryAll returns the elements matching a CSS selector.
func queryAll(sel string) []*dom.BasicHTMLElement {
	list := document.Call("querySelectorAll", sel)
	out := make([]*dom.BasicHTMLElement, list.Length())
	for i := range out {
		out[i] = wrap(list.Index(i))
	}
	return out
}

// on calls fn for every event of type typ on target (an element, the
// window or the document). The event stays a plain JavaScript value: the
// handlers read the few fields they need.
func on(target js.Value, typ string, fn func(ev js.Value)) {
	target.Call("addEventListener", typ, js.FuncOf(func(this js.Value, args []js.Value) any {
		fn(args[0])
		return nil
	}))
}

// empty removes every child of e.
func empty(e *dom.BasicHTMLElement) {
	e.Set("textContent", "")
}

// newRadio makes a radio button of group name with the given value and
// accessible label, called with the button whenever it becomes checked.
func newRadio(name, value, label string, checked, disabled bool, fn func()) *dom.HTMLInputElement {
	r := &dom.HTMLInputElement{BasicHTMLElement: create("input")}
	r.SetAttribute("type", "radio")
	r.SetAttribute("name", name)
	r.SetValue(value)
	r.SetChecked(checked)
	r.SetDisabled(disabled)
	r.SetAttribute("aria-label", label)
	on(r.BasicHTMLElement.Value, "change", func(js.Value) {
		if r.Checked() {
			fn()
		}
	})
	return r
}

// show and hide set the hidden attribute.
func show(e *dom.BasicHTMLElement) { e.RemoveAttribute("hidden") }
func hide(e *dom.BasicHTMLElement) { e.SetAttribute("hidden", "") }
