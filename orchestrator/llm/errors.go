package llm

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/airlockhq/airlock/internal/utf8cut"
)

// Length caps on what an APIError keeps of a provider error body.
const (
	maxErrMessage = 300
	maxErrType    = 64
)

// APIError is a non-2xx answer from the provider, or an error event inside
// a streamed answer (Stream set; Status is then the one the provider uses
// for Type outside a stream, 0 if unknown). Message is a short, sanitised
// excerpt of the provider's error message with the API key removed; it may
// still be unsuitable for end users.
type APIError struct {
	Provider string
	Status   int
	Type     string // provider error type, e.g. "rate_limit_error"; may be empty
	Message  string
	Stream   bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("llm: ")
	if e.Provider != "" {
		b.WriteString(e.Provider + " ")
	}
	if e.Stream {
		b.WriteString("API error in stream")
	} else {
		fmt.Fprintf(&b, "API error: HTTP %d", e.Status)
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// apiError builds an APIError from a (size-capped) error body.
func (c *Client) apiError(status int, body []byte) *APIError {
	typ, msg := parseErrorBody(body)
	return &APIError{
		Provider: c.cfg.Provider,
		Status:   status,
		Type:     shorten(c.scrub(typ), maxErrType),
		Message:  shorten(c.scrub(msg), maxErrMessage),
	}
}

// parseErrorBody understands {"error":{"type","message"}} (OpenAI and
// Anthropic), {"error":"text"} (Ollama and others), {"message":"text"}, and
// falls back to the raw text.
func parseErrorBody(body []byte) (typ, msg string) {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return "", string(body)
	}
	var obj struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	var s string
	switch {
	case json.Unmarshal(v.Error, &obj) == nil && (obj.Message != "" || obj.Type != ""):
		return obj.Type, obj.Message
	case json.Unmarshal(v.Error, &s) == nil && s != "":
		return "", s
	}
	return "", v.Message
}

// shorten collapses whitespace and control characters and cuts s to at
// most n bytes on a rune boundary.
func shorten(s string, n int) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
	}), " ")
	if len(s) <= n {
		return s
	}
	return utf8cut.Prefix(s, n) + "…"
}
