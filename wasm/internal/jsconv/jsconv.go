//go:build js && wasm

// Package jsconv converts Go values to JavaScript values and back by
// reflection, naming struct fields as encoding/json does (json tags with
// omitempty), so that the page can exchange JSON messages with the worker
// through the browser's own JSON object instead of linking encoding/json,
// which would add about 3 MB to the page's WebAssembly.
//
// Supported: bool, integers, floats, strings, slices, arrays, structs,
// pointers to them, and maps with string keys. Encode and decode a message
// with [Marshal] and [Unmarshal].
package jsconv

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"syscall/js"
)

// Marshal returns the JSON text of v, made by JSON.stringify from [ToJS].
func Marshal(v any) string {
	return js.Global().Get("JSON").Call("stringify", ToJS(v)).String()
}

// Unmarshal parses JSON text with JSON.parse and stores it in dst (a
// pointer), as [FromJS] does.
func Unmarshal(text string, dst any) (err error) {
	defer func() {
		if r := recover(); r != nil { // JSON.parse throws on bad input
			err = fmt.Errorf("jsconv: bad JSON: %v", r)
		}
	}()
	return FromJS(js.Global().Get("JSON").Call("parse", text), dst)
}

// ToJS returns the JavaScript form of v: objects for structs and maps,
// arrays for slices and arrays, null for nil pointers and slices.
func ToJS(v any) js.Value { return toJS(reflect.ValueOf(v)) }

func toJS(v reflect.Value) js.Value {
	switch v.Kind() {
	case reflect.Invalid:
		return js.Null()
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return js.Null()
		}
		return toJS(v.Elem())
	case reflect.Bool:
		return js.ValueOf(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return js.ValueOf(float64(v.Int()))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return js.ValueOf(float64(v.Uint()))
	case reflect.Float32, reflect.Float64:
		return js.ValueOf(v.Float())
	case reflect.String:
		return js.ValueOf(v.String())
	case reflect.Slice:
		if v.IsNil() {
			return js.Null()
		}
		fallthrough
	case reflect.Array:
		arr := js.Global().Get("Array").New(v.Len())
		for i := range v.Len() {
			arr.SetIndex(i, toJS(v.Index(i)))
		}
		return arr
	case reflect.Map:
		if v.IsNil() {
			return js.Null()
		}
		obj := js.Global().Get("Object").New()
		it := v.MapRange()
		for it.Next() {
			obj.Set(fmt.Sprint(it.Key().Interface()), toJS(it.Value()))
		}
		return obj
	case reflect.Struct:
		obj := js.Global().Get("Object").New()
		for _, f := range fieldsOf(v.Type()) {
			fv := v.Field(f.index)
			if f.omitEmpty && fv.IsZero() || f.omitEmpty && (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.Len() == 0 {
				continue
			}
			obj.Set(f.name, toJS(fv))
		}
		return obj
	}
	panic(fmt.Sprintf("jsconv: cannot convert %s", v.Type()))
}

// FromJS stores the JavaScript value v in dst, which must be a non-nil
// pointer. Object properties without a matching field are ignored; null
// and undefined leave the destination zero.
func FromJS(v js.Value, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("jsconv: FromJS needs a non-nil pointer, got %T", dst)
	}
	return fromJS(v, rv.Elem(), "")
}

func fromJS(v js.Value, dst reflect.Value, path string) error {
	if v.IsNull() || v.IsUndefined() {
		dst.SetZero()
		return nil
	}
	bad := func() error {
		return fmt.Errorf("jsconv: %s: cannot store a JavaScript %s in %s", orRoot(path), v.Type(), dst.Type())
	}
	switch dst.Kind() {
	case reflect.Pointer:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return fromJS(v, dst.Elem(), path)
	case reflect.Bool:
		if v.Type() != js.TypeBoolean {
			return bad()
		}
		dst.SetBool(v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if v.Type() != js.TypeNumber {
			return bad()
		}
		f := v.Float()
		if f != math.Trunc(f) || dst.OverflowInt(int64(f)) {
			return fmt.Errorf("jsconv: %s: %v does not fit %s", orRoot(path), f, dst.Type())
		}
		dst.SetInt(int64(f))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Type() != js.TypeNumber {
			return bad()
		}
		f := v.Float()
		if f < 0 || f != math.Trunc(f) || dst.OverflowUint(uint64(f)) {
			return fmt.Errorf("jsconv: %s: %v does not fit %s", orRoot(path), f, dst.Type())
		}
		dst.SetUint(uint64(f))
	case reflect.Float32, reflect.Float64:
		if v.Type() != js.TypeNumber {
			return bad()
		}
		dst.SetFloat(v.Float())
	case reflect.String:
		if v.Type() != js.TypeString {
			return bad()
		}
		dst.SetString(v.String())
	case reflect.Slice:
		if !isArray(v) {
			return bad()
		}
		n := v.Length()
		s := reflect.MakeSlice(dst.Type(), n, n)
		for i := range n {
			if err := fromJS(v.Index(i), s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Array:
		if !isArray(v) {
			return bad()
		}
		for i := range min(v.Length(), dst.Len()) {
			if err := fromJS(v.Index(i), dst.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if v.Type() != js.TypeObject || isArray(v) || dst.Type().Key().Kind() != reflect.String {
			return bad()
		}
		m := reflect.MakeMap(dst.Type())
		keys := js.Global().Get("Object").Call("keys", v)
		for i := range keys.Length() {
			k := keys.Index(i).String()
			ev := reflect.New(dst.Type().Elem()).Elem()
			if err := fromJS(v.Get(k), ev, path+"."+k); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), ev)
		}
		dst.Set(m)
	case reflect.Struct:
		if v.Type() != js.TypeObject || isArray(v) {
			return bad()
		}
		for _, f := range fieldsOf(dst.Type()) {
			if err := fromJS(v.Get(f.name), dst.Field(f.index), path+"."+f.name); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("jsconv: %s: unsupported type %s", orRoot(path), dst.Type())
	}
	return nil
}

func isArray(v js.Value) bool {
	return js.Global().Get("Array").Call("isArray", v).Bool()
}

func orRoot(path string) string {
	if path == "" {
		return "value"
	}
	return strings.TrimPrefix(path, ".")
}

// field is an exported struct field and its JSON name.
type field struct {
	index     int
	name      string
	omitEmpty bool
}

// fieldsOf lists the fields of a struct type as encoding/json names them
// (embedded structs are not supported: the protocol has none).
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{index: i, name: name, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
	}
	return out
}
