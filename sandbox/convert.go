package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// toJSON encodes a Starlark value: None, bools, numbers, strings, lists,
// tuples, dicts and structs map to JSON; anything else becomes its str().
// It stops as soon as the encoding passes max bytes or maxValueDepth
// levels (which also ends cycles).
func toJSON(v starlark.Value, max int) (json.RawMessage, error) {
	w := &jsonWriter{max: max}
	if err := w.value(v, 0); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

type jsonWriter struct {
	buf bytes.Buffer
	max int
}

func (w *jsonWriter) raw(s string) error {
	if w.buf.Len()+len(s) > w.max {
		return fmt.Errorf("is larger than %s", byteSize(int64(w.max)))
	}
	w.buf.WriteString(s)
	return nil
}

func (w *jsonWriter) str(s string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings always encode
	return w.raw(strings.TrimSuffix(b.String(), "\n"))
}

func (w *jsonWriter) value(v starlark.Value, depth int) error {
	if depth > maxValueDepth {
		return fmt.Errorf("is nested deeper than %d levels", maxValueDepth)
	}
	switch v := v.(type) {
	case starlark.NoneType:
		return w.raw("null")
	case starlark.Bool:
		return w.raw(strconv.FormatBool(bool(v)))
	case starlark.Int:
		return w.raw(v.String())
	case starlark.Float:
		if f := float64(v); !math.IsInf(f, 0) && !math.IsNaN(f) {
			return w.raw(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return w.str(v.String())
	case starlark.String:
		return w.str(string(v))
	case *starlark.List, starlark.Tuple:
		return w.list(v.(starlark.Indexable), depth)
	case *starlark.Dict:
		return w.object(v.Items(), depth)
	case *starlarkstruct.Struct:
		var items []starlark.Tuple
		for _, name := range v.AttrNames() {
			f, _ := v.Attr(name)
			items = append(items, starlark.Tuple{starlark.String(name), f})
		}
		return w.object(items, depth)
	}
	return w.str(v.String())
}

func (w *jsonWriter) list(l starlark.Indexable, depth int) error {
	if err := w.raw("["); err != nil {
		return err
	}
	for i := range l.Len() {
		if i > 0 {
			if err := w.raw(","); err != nil {
				return err
			}
		}
		if err := w.value(l.Index(i), depth+1); err != nil {
			return err
		}
	}
	return w.raw("]")
}

func (w *jsonWriter) object(items []starlark.Tuple, depth int) error {
	if err := w.raw("{"); err != nil {
		return err
	}
	for i, kv := range items {
		if i > 0 {
			if err := w.raw(","); err != nil {
				return err
			}
		}
		k, ok := starlark.AsString(kv[0])
		if !ok {
			k = kv[0].String()
		}
		if err := errors.Join(w.str(k), w.raw(":")); err != nil {
			return err
		}
		if err := w.value(kv[1], depth+1); err != nil {
			return err
		}
	}
	return w.raw("}")
}

// fromJSONArgs decodes the job's arguments into Starlark values.
func fromJSONArgs(args, kwargs json.RawMessage, maxDepth int) (starlark.Tuple, []starlark.Tuple, error) {
	var a []any
	var kw map[string]any
	if err := errors.Join(decodeJSON(args, &a), decodeJSON(kwargs, &kw)); err != nil {
		return nil, nil, fmt.Errorf("the arguments are not valid JSON: %v", err)
	}
	var tuple starlark.Tuple
	for _, v := range a {
		sv, err := fromGo(v, 0, maxDepth)
		if err != nil {
			return nil, nil, err
		}
		tuple = append(tuple, sv)
	}
	var kwt []starlark.Tuple
	for _, k := range slices.Sorted(maps.Keys(kw)) {
		sv, err := fromGo(kw[k], 0, maxDepth)
		if err != nil {
			return nil, nil, err
		}
		kwt = append(kwt, starlark.Tuple{starlark.String(k), sv})
	}
	return tuple, kwt, nil
}

func decodeJSON(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// fromGo converts a JSON-decoded value (numbers as json.Number).
func fromGo(v any, depth, maxDepth int) (starlark.Value, error) {
	switch v := v.(type) {
	case nil:
		return starlark.None, nil
	case bool:
		return starlark.Bool(v), nil
	case string:
		return starlark.String(v), nil
	case json.Number:
		return fromNumber(v)
	}
	if depth >= maxDepth {
		return nil, fmt.Errorf("the arguments are nested deeper than %d levels", maxDepth)
	}
	switch v := v.(type) {
	case []any:
		elems := make([]starlark.Value, len(v))
		for i, e := range v {
			sv, err := fromGo(e, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			elems[i] = sv
		}
		return starlark.NewList(elems), nil
	case map[string]any:
		d := starlark.NewDict(len(v))
		for _, k := range slices.Sorted(maps.Keys(v)) {
			sv, err := fromGo(v[k], depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			_ = d.SetKey(starlark.String(k), sv)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unsupported argument type %T", v)
}

func fromNumber(n json.Number) (starlark.Value, error) {
	if i, ok := new(big.Int).SetString(string(n), 10); ok {
		return starlark.MakeBigInt(i), nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("bad number %s: %v", n, err)
	}
	return starlark.Float(f), nil
}
