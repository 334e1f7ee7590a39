package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
)

// encodeArgs checks args and kwargs in the parent, before any child is
// used: they must encode as JSON within MaxArgBytes and MaxArgDepth.
func encodeArgs(args []any, kwargs map[string]any, l Limits) (json.RawMessage, json.RawMessage, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	a, err1 := json.Marshal(args)
	kw, err2 := json.Marshal(kwargs)
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, errorf(KindArgs, "the arguments cannot be encoded as JSON: %v", err)
	}
	if n := len(a) + len(kw); n > l.MaxArgBytes {
		return nil, nil, errorf(KindArgs, "the arguments are %d bytes of JSON; the limit is %s", n, byteSize(int64(l.MaxArgBytes)))
	}
	// The outer array and object are not the arguments' own nesting.
	if max(jsonDepth(a), jsonDepth(kw))-1 > l.MaxArgDepth {
		return nil, nil, errorf(KindArgs, "the arguments are nested deeper than %d levels", l.MaxArgDepth)
	}
	return a, kw, nil
}

// jsonDepth is the deepest nesting of arrays and objects in valid JSON.
func jsonDepth(raw []byte) int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil { // io.EOF at the end
			return deepest
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}
