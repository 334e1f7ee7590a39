package llm

import (
	"bytes"
	"encoding/json"
	"strings"
)

// normalizeArgs turns tool call argument text from a provider into JSON
// that always marshals: "" becomes {}, valid JSON is kept as is, anything
// else becomes a JSON string holding the raw text (so that the caller's
// decode into an argument struct fails, and the model can be told).
func normalizeArgs(text string) json.RawMessage {
	if strings.TrimSpace(text) == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(text)) {
		return json.RawMessage(text)
	}
	b, _ := json.Marshal(text)
	return b
}

// argsText is the inverse of normalizeArgs for sending a call back to a
// provider: a JSON string is unwrapped to its raw text, empty becomes {},
// other JSON is sent in its plain form (plainJSON).
func argsText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "{}"
	}
	var s string
	if raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(plainJSON(raw))
}

// argsObject returns raw in its plain form if it is a JSON object, else
// {}; Anthropic requires tool_use input to be an object.
func argsObject(raw json.RawMessage) json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' && json.Valid(raw) {
		return plainJSON(raw)
	}
	return json.RawMessage("{}")
}

// plainJSON re-encodes valid JSON the way encoding/json writes it without
// HTML escaping: no \uXXXX escape is left for a printable character, so a
// value the model spelled in escapes is in the request body in a form the
// outbound redactor knows. Numbers are kept as written; object keys come
// out sorted. Invalid JSON is returned unchanged.
func plainJSON(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return raw
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return raw
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// schemaOrEmpty returns the schema, or an empty object schema.
func schemaOrEmpty(s json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(s)) == 0 || !json.Valid(s) {
		return json.RawMessage(`{"type":"object","properties":{}}`)
	}
	return s
}

// contentText decodes a content value that is a string, null, or an array
// of {"type":"text","text":...} parts, joining the texts.
func contentText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Type == "text" {
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}
