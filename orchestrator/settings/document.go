package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
)

// document is the stored JSON object, flattened one level: "llm.model" for
// {"llm":{"model":...}}, "egress_allow" for a top-level key. Keys this
// binary does not know are kept as they are.
type document map[string]json.RawMessage

// parseDocument reads a stored document.
func parseDocument(text string) (document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &top); err != nil || top == nil {
		return nil, errors.New("stored settings are not a JSON object")
	}
	d := make(document, len(top))
	for k, v := range top {
		if !bytes.HasPrefix(bytes.TrimSpace(v), []byte("{")) {
			d[k] = v
			continue
		}
		var sec map[string]json.RawMessage
		if err := json.Unmarshal(v, &sec); err != nil {
			return nil, fmt.Errorf("stored settings: %q: %w", k, err)
		}
		for sk, sv := range sec {
			d[k+"."+sk] = sv
		}
	}
	return d, nil
}

// marshal writes d back as nested JSON with sorted keys.
func (d document) marshal() (string, error) {
	top := make(map[string]any, len(d))
	for k, v := range d {
		sec, sub, nested := strings.Cut(k, ".")
		if !nested {
			top[k] = v
			continue
		}
		m, ok := top[sec].(map[string]json.RawMessage)
		if !ok {
			m = make(map[string]json.RawMessage)
			top[sec] = m
		}
		m[sub] = v
	}
	b, err := json.Marshal(top)
	if err != nil {
		return "", fmt.Errorf("encode settings: %w", err)
	}
	return string(b), nil
}

// effective overlays the stored document on defaults, leaving locked fields
// at their defaults. A stored field that does not decode, or makes the
// result invalid, is replaced by its default and reported. defaults must
// be valid and normalized.
func effective(defaults Settings, locked map[string]string, d document) (Settings, []FieldError) {
	s := defaults.clone()
	var ignored []FieldError
	for _, f := range fields {
		raw, ok := d[f.key()]
		if !ok || locked[f.key()] != "" || isNull(raw) {
			continue
		}
		if err := f.decode(raw, &s); err != nil {
			f.copyTo(&s, &defaults)
			ignored = append(ignored, FieldError{f.key(), "stored value ignored, it does not decode: " + truncate(err.Error())})
		}
	}
	s = s.Normalize()
	var ve *ValidationError
	if errors.As(s.Validate(), &ve) {
		for _, p := range ve.Problems {
			fieldByKey(p.Field).copyTo(&s, &defaults)
			ignored = append(ignored, FieldError{p.Field, "stored value ignored: " + p.Message})
		}
	}
	return s, ignored
}

// withUpdate returns a copy of d storing next: each field that is not
// locked is stored when it differs from its default and removed when it
// does not. Locked and unknown entries are left as they are.
func (d document) withUpdate(next, defaults Settings, locked map[string]string) (document, error) {
	out := maps.Clone(d)
	if out == nil {
		out = document{}
	}
	for _, f := range fields {
		switch {
		case locked[f.key()] != "":
		case f.equal(&next, &defaults):
			delete(out, f.key())
		default:
			raw, err := f.encode(&next)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", f.key(), err)
			}
			out[f.key()] = raw
		}
	}
	return out, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
